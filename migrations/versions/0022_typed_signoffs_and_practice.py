"""certification ladder without voice grading: a trainer's sign-off of one typed call; trainers'
practice attempts (kept out of learners' statistics and certification)

Revision ID: 0022
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = "0022"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certification_signoffs", schema=None) as batch_op:
        # Set: the sign-off is of this one role-play attempt (a typed call standing in for a voice
        # pass where the server cannot grade the language by voice). No FK across domains.
        batch_op.add_column(sa.Column("attempt_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_certification_signoffs_attempt_id"), ["attempt_id"], unique=False)
    with op.batch_alter_table("roleplay_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("practice", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("exam_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("practice", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("exam_attempts", schema=None) as batch_op:
        batch_op.drop_column("practice")
    with op.batch_alter_table("roleplay_attempts", schema=None) as batch_op:
        batch_op.drop_column("practice")
    with op.batch_alter_table("certification_signoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certification_signoffs_attempt_id"))
        batch_op.drop_column("attempt_id")
