"""reviews: lessons trainers teach the grader (a trainee's words as an accepted or forbidden phrasing)

Revision ID: 0013
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "grader_lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_slug", sa.String(length=63), nullable=False),
        sa.Column("node_id", sa.String(length=63), nullable=False),
        sa.Column("target", sa.String(length=127), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("turn_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_grader_lessons_author_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grader_lessons")),
    )
    with op.batch_alter_table("grader_lessons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grader_lessons_scenario_slug"), ["scenario_slug"], unique=False)
        batch_op.create_index(batch_op.f("ix_grader_lessons_attempt_id"), ["attempt_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grader_lessons_author_id"), ["author_id"], unique=False)


def downgrade():
    with op.batch_alter_table("grader_lessons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grader_lessons_author_id"))
        batch_op.drop_index(batch_op.f("ix_grader_lessons_attempt_id"))
        batch_op.drop_index(batch_op.f("ix_grader_lessons_scenario_slug"))
    op.drop_table("grader_lessons")
