"""reviews: trainers' reviews of role-play attempts, item overrides with comments, flags

Revision ID: 0010
Revises: 0001
Create Date: 2026-11-22 07:06:14.202168

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0001'
branch_labels = ('reviews',)
depends_on = None


def upgrade():
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_reviews_reviewer_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('review_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('turn_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.String(length=63), nullable=False),
    sa.Column('rule', sa.String(length=127), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('automatic', sa.Float(), nullable=False),
    sa.Column('points_before', sa.Float(), nullable=False),
    sa.Column('points_after', sa.Float(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_review_overrides_reviewer_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_overrides'))
    )
    with op.batch_alter_table('review_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_overrides_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_overrides_reviewer_id'), ['reviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_overrides_rule'), ['rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_overrides_turn_id'), ['turn_id'], unique=False)

    op.create_table('review_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('flagged_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['flagged_by'], ['users.id'], name=op.f('fk_review_flags_flagged_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_review_flags_resolved_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_flags'))
    )
    with op.batch_alter_table('review_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_flags_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_flags_flagged_by'), ['flagged_by'], unique=False)


def downgrade():
    with op.batch_alter_table('review_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_flags_flagged_by'))
        batch_op.drop_index(batch_op.f('ix_review_flags_attempt_id'))

    op.drop_table('review_flags')

    with op.batch_alter_table('review_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_overrides_turn_id'))
        batch_op.drop_index(batch_op.f('ix_review_overrides_rule'))
        batch_op.drop_index(batch_op.f('ix_review_overrides_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_review_overrides_attempt_id'))

    op.drop_table('review_overrides')

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_attempt_id'))

    op.drop_table('reviews')
