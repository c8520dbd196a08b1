"""merge the heads the security and evidence work grew side by side

Revision ID: 0019
Revises: 0014, 0015, 0017
"""

revision = "0019"
down_revision = ("0014", "0015", "0017")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
