"""assignments: work trainers assign to cohorts and named learners, with due dates

Revision ID: 0009
Revises: 0001
Create Date: 2026-11-22 07:06:14.202168

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0001'
branch_labels = ('assignments',)
depends_on = None


def upgrade():
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('require_voice', sa.Boolean(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('cohort', sa.String(length=64), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_assignments_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['withdrawn_by'], ['users.id'], name=op.f('fk_assignments_withdrawn_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_cohort'), ['cohort'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_created_by'), ['created_by'], unique=False)

    op.create_table('assignment_learners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_assignment_learners_assignment_id_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assignment_learners_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_learners')),
    sa.UniqueConstraint('assignment_id', 'user_id', name=op.f('uq_assignment_learners_assignment_id'))
    )
    with op.batch_alter_table('assignment_learners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_learners_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_learners_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('assignment_learners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_learners_user_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_learners_assignment_id'))

    op.drop_table('assignment_learners')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_created_by'))
        batch_op.drop_index(batch_op.f('ix_assignments_cohort'))

    op.drop_table('assignments')
