"""roleplays: scenario source (file | web) and the author of a version

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-22 07:04:43.367069

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('roleplay_scenarios', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=8), server_default='file', nullable=False))

    with op.batch_alter_table('roleplay_scenario_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_roleplay_scenario_versions_author_id_users'), 'users', ['author_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('roleplay_scenario_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_roleplay_scenario_versions_author_id_users'), type_='foreignkey')
        batch_op.drop_column('author_id')

    with op.batch_alter_table('roleplay_scenarios', schema=None) as batch_op:
        batch_op.drop_column('source')
