"""evidence timing: listen-and-type audio sent time (server clock) and flags for evidence that
arrived faster than a person could produce it

Revision ID: 0015
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("exam_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_served_at", sa.DateTime(), nullable=True))
        # The browser's "play pressed" time no longer decides anything.
        batch_op.drop_column("listen_started_at")
    op.create_table(
        "evidence_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("minimum_seconds", sa.Float(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_evidence_flags_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_flags")),
    )
    with op.batch_alter_table("evidence_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_flags_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("evidence_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_flags_user_id"))
    op.drop_table("evidence_flags")
    with op.batch_alter_table("exam_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listen_started_at", sa.DateTime(), nullable=True))
        batch_op.drop_column("audio_served_at")
