"""Evidence that arrived faster than a person could produce it.

Any domain reports it with ``app.core.events.evidence_too_fast`` (courses: a lesson marked done
before its minimum reading time; exams: an exam submitted too fast, an impossible typing speed;
role-plays may report calls the same way), so this package imports none of them. Each report is
stored once per (person, kind, subject, attempt) and shown on HR's record of the person and on
the trainers' sign-off page.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..core import events
from ..extensions import db
from .models import EvidenceFlag

KIND_LABELS = {
    "lesson": _l("Lesson marked as done"),
    "exam": _l("Exam submitted"),
    "listen_type": _l("Listen-and-type answer"),
    "call": _l("Role-play call"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def record(user_id: int, *, kind: str, subject: str, ref_id: int | None = None, seconds: float = 0.0,
           minimum_seconds: float = 0.0, detail: dict[str, Any] | None = None, **_extra) -> EvidenceFlag:
    """Store one report (the sender commits); a repeat of the same one is not stored twice."""
    subject = str(subject)[:255]
    existing = db.session.scalar(select(EvidenceFlag).where(
        EvidenceFlag.user_id == user_id, EvidenceFlag.kind == kind, EvidenceFlag.subject == subject,
        EvidenceFlag.ref_id.is_(None) if ref_id is None else EvidenceFlag.ref_id == ref_id).limit(1))
    if existing is not None:
        return existing
    flag = EvidenceFlag(user_id=user_id, kind=str(kind)[:16], subject=subject, ref_id=ref_id,
                        seconds=float(seconds), minimum_seconds=float(minimum_seconds), detail=detail)
    db.session.add(flag)
    db.session.flush()
    return flag


def flags_of(user_id: int) -> list[EvidenceFlag]:
    """Newest first."""
    return list(db.session.scalars(select(EvidenceFlag).where(EvidenceFlag.user_id == user_id)
                                   .order_by(EvidenceFlag.created_at.desc(), EvidenceFlag.id.desc())))


def flags_by_user(user_ids: Iterable[int]) -> dict[int, list[EvidenceFlag]]:
    """Each person's reports, newest first (people without any are left out)."""
    ids = list(user_ids)
    found: dict[int, list[EvidenceFlag]] = defaultdict(list)
    if ids:
        for flag in db.session.scalars(select(EvidenceFlag).where(EvidenceFlag.user_id.in_(ids))
                                       .order_by(EvidenceFlag.created_at.desc(), EvidenceFlag.id.desc())):
            found[flag.user_id].append(flag)
    return dict(found)


def connect_receivers() -> None:
    events.evidence_too_fast.connect(record)
