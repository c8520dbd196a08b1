"""roleplays: grading claims on turns (claimed_at, claim token, claim and grade counters)

A queue worker that is killed mid-grade leaves its turn "grading"; the claim's time lets the
sweeper hand it to another worker after a timeout, the token fences the final write so a
reclaimed turn is never graded twice, and the counters show it (graded_count is 0 or 1).

Revision ID: 0011
Revises: 0012
Create Date: 2026-11-22 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('roleplay_turns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claims', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('graded_count', sa.Integer(), server_default=sa.text('0'), nullable=False))


def downgrade():
    with op.batch_alter_table('roleplay_turns', schema=None) as batch_op:
        batch_op.drop_column('graded_count')
        batch_op.drop_column('claims')
        batch_op.drop_column('claim_token')
        batch_op.drop_column('claimed_at')
