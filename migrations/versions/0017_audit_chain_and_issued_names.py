"""certification: the audit log as a hash chain; the holder's name as issued on each certificate

Revision ID: 0017
Revises: 0013
"""
import hashlib
import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _moment(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _entry_hash(prev_hash, *, seq, created_at, actor_id, subject_id, action, level, certificate_id, reason,
                evidence):
    # A frozen copy of app/certification/chain.py:entry_hash (migrations must not change with the app).
    evidence = None if evidence is None else json.loads(json.dumps(evidence, default=str))
    content = {"seq": seq, "created_at": _moment(created_at), "actor_id": actor_id, "subject_id": subject_id,
               "action": action, "level": level, "certificate_id": certificate_id, "reason": reason,
               "evidence": evidence}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{text}".encode("utf-8")).hexdigest()


def upgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_name", sa.String(length=120), nullable=True))
    # The best record of the name as issued that exists: the name today.
    op.execute("UPDATE certificates SET holder_name = (SELECT name FROM users WHERE users.id = certificates.user_id) "
               "WHERE issued_at IS NOT NULL")

    with op.batch_alter_table("certification_audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "certification_audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_audit_chain")),
    )

    # Chain the entries written so far, oldest first.
    audit = sa.table("certification_audit", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime),
                     sa.column("actor_id", sa.Integer), sa.column("subject_id", sa.Integer),
                     sa.column("action", sa.String), sa.column("level", sa.String),
                     sa.column("certificate_id", sa.Integer), sa.column("reason", sa.Text),
                     sa.column("evidence", sa.JSON), sa.column("seq", sa.Integer),
                     sa.column("prev_hash", sa.String), sa.column("row_hash", sa.String))
    connection = op.get_bind()
    prev_hash, seq = GENESIS, 0
    for row in connection.execute(sa.select(audit).order_by(audit.c.id)).all():
        seq += 1
        row_hash = _entry_hash(prev_hash, seq=seq, created_at=row.created_at, actor_id=row.actor_id,
                               subject_id=row.subject_id, action=row.action, level=row.level,
                               certificate_id=row.certificate_id, reason=row.reason, evidence=row.evidence)
        connection.execute(sa.update(audit).where(audit.c.id == row.id)
                           .values(seq=seq, prev_hash=prev_hash, row_hash=row_hash))
        prev_hash = row_hash
    connection.execute(sa.text("INSERT INTO certification_audit_chain (id, entries, last_hash) "
                               "VALUES (1, :entries, :last_hash)"), {"entries": seq, "last_hash": prev_hash})

    with op.batch_alter_table("certification_audit", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_certification_audit_seq"), ["seq"])


def downgrade():
    with op.batch_alter_table("certification_audit", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_certification_audit_seq"), type_="unique")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    op.drop_table("certification_audit_chain")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("holder_name")
