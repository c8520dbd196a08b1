"""merge the heads that typed sign-offs and practice, user imports, notifications, exam answer flags
and review comments grew side by side

Revision ID: 0030
Revises: 0022, 0023, 0024, 0026, 0028
"""

revision = "0030"
down_revision = ("0022", "0023", "0024", "0026", "0028")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
