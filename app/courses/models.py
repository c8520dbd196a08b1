"""Courses and lessons as synced from courses/, and each learner's progress through them.

Rows are keyed by the authored slugs and never deleted by a sync: a course or lesson that
disappears from the content is retired, so learners' progress and completions survive.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..extensions import db


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    order: Mapped[int]
    level: Mapped[str] = mapped_column(String(16))
    title: Mapped[dict] = mapped_column(JSON)  # {"zh-CN": ..., "en": ...}
    summary: Mapped[dict] = mapped_column(JSON)
    estimated_minutes: Mapped[int]
    prerequisites: Mapped[list] = mapped_column(JSON)  # course slugs
    quiz_slug: Mapped[str] = mapped_column(String(63), index=True)
    # The quiz's title, copied at sync so the course page can name it without the exams domain.
    quiz_title: Mapped[dict] = mapped_column(JSON)
    assets: Mapped[list] = mapped_column(JSON)  # file names under courses/<slug>/assets/
    source_file: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(default=False)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lessons: Mapped[list[Lesson]] = relationship(back_populates="course", order_by="Lesson.order")

    @property
    def active_lessons(self) -> list[Lesson]:
        # Sorted here too: lessons re-ordered by a sync in this session are not re-sorted by the relationship.
        return sorted((lesson for lesson in self.lessons if not lesson.retired), key=lambda l: (l.order, l.slug))

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"


class Lesson(db.Model):
    __tablename__ = "course_lessons"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    slug: Mapped[str] = mapped_column(String(63))
    order: Mapped[int]
    estimated_minutes: Mapped[int]
    title: Mapped[dict] = mapped_column(JSON)  # by language
    # Rendered and sanitized by content_schema at sync time, by language.
    html: Mapped[dict] = mapped_column(JSON)
    checksums: Mapped[dict] = mapped_column(JSON)  # sha256 of each language's file
    retired: Mapped[bool] = mapped_column(default=False)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="lessons")

    def __repr__(self) -> str:
        return f"<Lesson {self.slug}>"


class LessonProgress(db.Model):
    """One learner's visits, reading time and completion of one lesson."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("course_lessons.id"), index=True)
    first_visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    seconds_spent: Mapped[int] = mapped_column(default=0)
    # Time reports are credited at most the wall-clock time since this moment.
    last_time_report_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    lesson: Mapped[Lesson] = relationship()


class CourseProgress(db.Model):
    """A learner's standing in one course: quiz pass and completion, the evidence for certification."""

    __tablename__ = "course_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The first passing attempt of the course quiz (an exams-domain attempt id, no FK across domains).
    quiz_passed_at: Mapped[datetime | None]
    quiz_attempt_id: Mapped[int | None]
    quiz_score: Mapped[float | None]
    completed_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship()
