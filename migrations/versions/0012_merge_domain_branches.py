"""merge the domain branches into one head

Each domain grew its own migration branch off 0001 while the domains were built side by
side; this joins them so `flask db upgrade` has a single head to reach.

Revision ID: 0012
Revises: 0002, 0005, 0006, 0007, 0008, 0009, 0010
"""

revision = "0012"
down_revision = ("0002", "0005", "0006", "0007", "0008", "0009", "0010")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
