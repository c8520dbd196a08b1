"""reviews: one overall comment a trainer leaves on a call (the trainee reads it on the report);
role-play turns: the nodes a reply already answered (skipped)

Revision ID: 0028
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = "0028"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("comment", sa.Text(), nullable=True))
    with op.batch_alter_table("roleplay_turns") as batch:
        batch.add_column(sa.Column("skipped", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("roleplay_turns") as batch:
        batch.drop_column("skipped")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("comment")
