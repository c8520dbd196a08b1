"""exam answers: the learner's "flag for review" mark, saved with the answer

Revision ID: 0026
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = "0026"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("exam_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flagged", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("exam_answers", schema=None) as batch_op:
        batch_op.drop_column("flagged")
