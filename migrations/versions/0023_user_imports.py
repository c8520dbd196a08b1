"""accounts: a record of each cohort import (who, when, how many created and refused), for the
administrator's home page

Revision ID: 0023
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = "0023"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("cohorts", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_user_imports_actor_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_imports")),
    )
    with op.batch_alter_table("user_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_imports_created_at"), ["created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("user_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_imports_created_at"))
    op.drop_table("user_imports")
