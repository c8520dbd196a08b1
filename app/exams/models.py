"""Exams loaded from content, and the learners' attempts at them.

An attempt carries its own copy of the questions it drew (the "paper": prompts, answer
keys, the order things were shown in), so editing or retiring a question later never
changes how a past attempt reads or was graded.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..extensions import db

IN_PROGRESS = "in_progress"
GRADED = "graded"

CLOSED_SUBMITTED = "submitted"
CLOSED_EXPIRED = "expired"  # the time limit passed; graded with what had been saved


class Exam(db.Model):
    __tablename__ = "exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # quiz | certification
    position: Mapped[int] = mapped_column(default=0)  # listing order: ladder order, then course order
    title: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    description: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    pass_mark: Mapped[float]
    time_limit_minutes: Mapped[int]
    draw: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    shuffle_questions: Mapped[bool]
    shuffle_options: Mapped[bool]
    attempts_allowed: Mapped[int]  # 0 = unlimited
    cooldown_minutes: Mapped[int]
    show_answers: Mapped[bool]
    source_file: Mapped[str] = mapped_column(String(255))
    # "file" (exams/<slug>.yaml, owned by the content sync) or "web" (a question bank authored in
    # the browser and published by services.publish_exam; the sync never retires it).
    source: Mapped[str] = mapped_column(String(8), default="file", server_default="file")
    checksum: Mapped[str] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(default=False)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)

    questions: Mapped[list[ExamQuestion]] = relationship(
        back_populates="exam", order_by="ExamQuestion.position", cascade="all, delete-orphan")

    @property
    def active_questions(self) -> list[ExamQuestion]:
        return [question for question in self.questions if not question.retired]

    def __repr__(self) -> str:
        return f"<Exam {self.slug}>"


class ExamQuestion(db.Model):
    __tablename__ = "exam_questions"
    __table_args__ = (UniqueConstraint("exam_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(63))  # the author's id, stable within the exam
    type: Mapped[str] = mapped_column(String(20))
    tags: Mapped[list[str]] = mapped_column(sa.JSON)
    points: Mapped[float]
    position: Mapped[int]  # authored order
    # The question as authored (answer key included), rubric resolved, audio file named.
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)  # bumped whenever the checksum changes
    retired: Mapped[bool] = mapped_column(default=False)

    exam: Mapped[Exam] = relationship(back_populates="questions")


class ExamAttempt(db.Model):
    __tablename__ = "exam_attempts"
    # The attempt number is unique per learner and exam, so two simultaneous "start"
    # clicks cannot open two attempts.
    __table_args__ = (UniqueConstraint("user_id", "exam_slug", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    exam_slug: Mapped[str] = mapped_column(String(63), index=True)
    exam_kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[int]  # 1 for the learner's first attempt at this exam
    # A trainer trying the exam: not counted anywhere (attempts left, statistics, evidence). 0022.
    practice: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status: Mapped[str] = mapped_column(String(16), default=IN_PROGRESS, index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime]
    last_saved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(16))
    graded_at: Mapped[datetime | None]
    # Rules as they were when the attempt started.
    pass_mark: Mapped[float]
    show_answers: Mapped[bool]
    # Questions in the order shown, each a snapshot with its answer key and display order.
    paper: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    earned: Mapped[float | None]
    possible: Mapped[float | None]
    score: Mapped[float | None]  # percent, from grading.scoring.percent
    passed: Mapped[bool | None]

    answers: Mapped[list[ExamAnswer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="ExamAnswer.position")
    exam: Mapped[Exam] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == IN_PROGRESS

    def answer_for(self, question_id: str) -> ExamAnswer | None:
        return next((answer for answer in self.answers if answer.question_id == question_id), None)

    def __repr__(self) -> str:
        return f"<ExamAttempt {self.id} {self.exam_slug} #{self.number} {self.status}>"


class ExamAnswer(db.Model):
    __tablename__ = "exam_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempts.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(63))
    question_type: Mapped[str] = mapped_column(String(20))
    question_version: Mapped[int]
    position: Mapped[int]  # place on the paper
    response: Mapped[Any | None] = mapped_column(sa.JSON, nullable=True)
    answered_at: Mapped[datetime | None]  # last time the response changed
    # The learner's "flag for review" mark (shown on the navigator and the summary before submitting).
    flagged: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # No longer written: opening the paper (a GET) stored when the question was first shown, and
    # nothing read it. Kept so older rows keep their value; drop it with the next migration here.
    shown_at: Mapped[datetime | None]
    # Listen-and-type timing, server clock: the first time the server sent this attempt the
    # question's audio. Typing time runs from then to answered_at; nothing the browser says counts.
    audio_served_at: Mapped[datetime | None]
    # Filled when the attempt is graded.
    fraction: Mapped[float | None]  # share of the question's points, 0..1
    points_awarded: Mapped[float | None]
    accuracy: Mapped[float | None]  # listen_type only
    cpm: Mapped[float | None]  # listen_type only
    feedback: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # reasons (phrase_rewrite), timing

    attempt: Mapped[ExamAttempt] = relationship(back_populates="answers")
