"""Trainers' reviews of role-play attempts.

Attempts and turns belong to the roleplays domain: they are referred to by id, without foreign keys.
The automatic grade on the turns is never changed; an override is a row here, and the attempt's
score is recomputed from the automatic items with the latest override of each item applied
(app.roleplays.operations.apply_overrides).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User

from ..core.clock import utcnow
from ..extensions import db


class Review(db.Model):
    """A trainer went through an attempt's automatic grade (items not overridden count as agreed)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The trainer's overall comment on the call (the trainee reads the latest one on the report).
    comment: Mapped[str | None] = mapped_column(Text)

    reviewer: Mapped[User | None] = relationship()


class ItemOverride(db.Model):
    """One change a trainer made to one item's points, with why. Append-only: the latest row per
    (attempt, turn, item) is the one in effect."""

    __tablename__ = "review_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(index=True)
    turn_id: Mapped[int | None] = mapped_column(index=True)  # None: a call-level item of the attempt
    item_id: Mapped[str] = mapped_column(String(63))
    rule: Mapped[str] = mapped_column(String(127), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # intent | forbidden
    automatic: Mapped[float]                        # what the grader awarded
    points_before: Mapped[float]                    # in effect before this change
    points_after: Mapped[float]
    comment: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[User | None] = relationship()


class ReviewFlag(db.Model):
    """A request to have an attempt looked at, by the learner or a trainer."""

    __tablename__ = "review_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(index=True)
    flagged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    flagger: Mapped[User | None] = relationship(foreign_keys=[flagged_by])


class GraderLesson(db.Model):
    """A trainer taught the grader from a review: the trainee's words become an accepted phrasing of
    one rubric item of one node (an intent), or a forbidden phrasing (a forbidden item of the node, or
    one of the scenario's rules checked on every reply). Every version of the scenario stored from
    then on carries it (app.roleplays.sync.register_document_overlay), content syncs included."""

    __tablename__ = "grader_lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_slug: Mapped[str] = mapped_column(String(63), index=True)
    node_id: Mapped[str] = mapped_column(String(63))
    target: Mapped[str] = mapped_column(String(127))   # "item:<id>" of the node, or "rule:<id>" of the scenario
    kind: Mapped[str] = mapped_column(String(16))      # intent | forbidden
    phrase: Mapped[str] = mapped_column(String(200))
    attempt_id: Mapped[int] = mapped_column(index=True)
    turn_id: Mapped[int]
    version: Mapped[int | None]                        # the scenario version first published with it
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()
