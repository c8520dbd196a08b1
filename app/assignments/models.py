"""Work a trainer assigned: one course, exam or drill, to a cohort and/or named learners, due on a date.

The learners' status is not stored: it is computed from the evidence each domain keeps (see services).
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User

from ..core.clock import utcnow
from ..extensions import db

COURSE, EXAM, DRILL = "course", "exam", "drill"
KINDS = (COURSE, EXAM, DRILL)


class Assignment(db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))      # course | exam | drill
    slug: Mapped[str] = mapped_column(String(63))     # the course, exam or scenario slug (slugs are permanent)
    require_voice: Mapped[bool] = mapped_column(default=False)  # drills only: typed replies refused
    due_date: Mapped[date] = mapped_column(sa.Date)
    # Everyone in this cohort (as it is now), in addition to the named learners.
    cohort: Mapped[str | None] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    learners: Mapped[list[AssignmentLearner]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan", lazy="selectin")
    creator: Mapped[User | None] = relationship(foreign_keys=[created_by])

    @property
    def named_ids(self) -> set[int]:
        return {row.user_id for row in self.learners}

    def __repr__(self) -> str:
        return f"<Assignment {self.id} {self.kind}:{self.slug}>"


class AssignmentLearner(db.Model):
    """A learner named on an assignment (besides its cohort)."""

    __tablename__ = "assignment_learners"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    assignment: Mapped[Assignment] = relationship(back_populates="learners")
