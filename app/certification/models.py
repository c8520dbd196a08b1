"""Certification records: requirement versions, certificates, trainer sign-offs, the audit log."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..accounts.models import User

from ..core.clock import utcnow
from ..extensions import db
from . import chain

# Certificate statuses.
PENDING = "pending"      # requirements met, waiting for HR approval (approval: hr)
ACTIVE = "active"
SUSPENDED = "suspended"  # not valid while suspended; HR can reinstate it
REVOKED = "revoked"
EXPIRED = "expired"
REJECTED = "rejected"    # a pending certificate HR turned down
STATUSES = (PENDING, ACTIVE, SUSPENDED, REVOKED, EXPIRED, REJECTED)


class RequirementVersion(db.Model):
    """One version of exams/certification.yaml, stored as synced and never changed afterwards."""

    __tablename__ = "certification_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # the validated file, defaults filled in
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical spec JSON
    file_checksum: Mapped[str] = mapped_column(String(64))  # sha256 of the file when first synced
    # Display labels of the courses and exams it names (titles may be edited without a new version).
    labels: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    is_current: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<RequirementVersion {self.version}>"


class Certificate(db.Model):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    level: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("certification_versions.id"))
    requirement_version: Mapped[int]  # the version number, for display and export
    # The evaluation it rests on: every requirement, the exact attempts used (ids and links).
    evidence: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    evidence_key: Mapped[str] = mapped_column(Text)  # fingerprint of the evidence used
    code: Mapped[str] = mapped_column(String(32), unique=True)  # public verification code
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]  # None while pending or after a rejection
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None]
    status_changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The holder's name when it was issued: a later rename does not change an issued certificate.
    holder_name: Mapped[str | None] = mapped_column(String(120))

    holder: Mapped[User] = relationship(foreign_keys=[user_id])
    version: Mapped[RequirementVersion] = relationship()

    def is_valid(self, now: datetime) -> bool:
        return self.status == ACTIVE and (self.expires_at is None or self.expires_at > now)

    def status_at(self, now: datetime) -> str:
        """The status every reader sees: an active certificate past its end date *is* expired, whether
        or not `flask cert expire` (or a write path) has stored that yet."""
        if self.status == ACTIVE and self.expires_at is not None and self.expires_at <= now:
            return EXPIRED
        return self.status

    def __repr__(self) -> str:
        return f"<Certificate {self.id} {self.level} {self.status}>"


def status_clause(status: str, now: datetime):
    """SQL for "Certificate.status_at(now) == status", so a filter agrees with what the pages show."""
    lapsed = sa.and_(Certificate.status == ACTIVE, Certificate.expires_at.is_not(None), Certificate.expires_at <= now)
    if status == EXPIRED:
        return sa.or_(Certificate.status == EXPIRED, lapsed)
    if status == ACTIVE:
        return sa.and_(Certificate.status == ACTIVE,
                       sa.or_(Certificate.expires_at.is_(None), Certificate.expires_at > now))
    return Certificate.status == status


class SignOff(db.Model):
    """A trainer's statement that a learner is ready for a level (the expert requirement), or, with
    attempt_id, that one typed call of theirs counts in place of a voice pass."""

    __tablename__ = "certification_signoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    level: Mapped[str] = mapped_column(String(16), default="expert")
    # Set: a sign-off of this one role-play attempt (a typed pass standing in for a voice pass where
    # the server cannot grade its language by voice; rules.RoleplayPasses.voice_substitute), not of
    # the learner. No foreign key across domains. Migration 0022.
    attempt_id: Mapped[int | None] = mapped_column(index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    trainer: Mapped[User] = relationship(foreign_keys=[trainer_id])


class AuditEntry(db.Model):
    """Append-only: every change to a person's level or certificate, and to their account's name,
    roles and password. Never updated or deleted; hash-chained (see chain.py) so that changes made
    behind the app's back (raw SQL, a doctored backup) are detected by `flask cert audit-verify`."""

    __tablename__ = "certification_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    level: Mapped[str | None] = mapped_column(String(16))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # The hash chain, filled in just before the insert (see _link_into_chain).
    seq: Mapped[int] = mapped_column(unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User] = relationship(foreign_keys=[subject_id])


class AuditChain(db.Model):
    """The head of the audit log's hash chain: one row, updated with every entry in the same transaction."""

    __tablename__ = "certification_audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    entries: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(AuditEntry, "before_insert")
def _link_into_chain(mapper, connection, target):
    if target.created_at is None:
        target.created_at = utcnow()  # part of the hashed content, so fixed before the column default
    chain.link(connection, AuditEntry.__table__, AuditChain.__table__, target)


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when anything tries to change or remove an audit entry."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be changed: the audit log is append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be deleted: the audit log is append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    # ORM bulk statements (update(AuditEntry)… / delete(AuditEntry)…) skip the mapper events above.
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is AuditEntry:
        raise AuditLogIsAppendOnly("audit entries cannot be changed or deleted: the audit log is append-only")


class EvidenceFlag(db.Model):
    """Evidence that arrived faster than a person could produce it, reported by any domain through
    app.core.events.evidence_too_fast: shown to HR on the person's record and to trainers."""

    __tablename__ = "evidence_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # lesson | exam | listen_type | call | …
    subject: Mapped[str] = mapped_column(String(255))  # what: "course/lesson", an exam or scenario slug
    ref_id: Mapped[int | None]  # the attempt, when there is one (no FK across domains)
    seconds: Mapped[float]  # how long it took
    minimum_seconds: Mapped[float]  # how long a person needs at least
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
