"""Evidence rows for the gradebook tests, written straight into the domains' tables against the synced
shipped content (the services that normally write them are tested in their own domains)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.courses.models import Course, CourseProgress
from app.exams.models import GRADED, Exam, ExamAttempt
from app.extensions import db
from app.roleplays.models import ENDED, Attempt, Scenario


def complete_courses(user_id: int, count: int, at: datetime | None = None) -> list[str]:
    at = at or utcnow()
    courses = db.session.scalars(select(Course).order_by(Course.order, Course.slug).limit(count)).all()
    for course in courses:
        db.session.add(CourseProgress(user_id=user_id, course_id=course.id, started_at=at - timedelta(hours=1),
                                      completed_at=at))
    db.session.flush()
    return [course.slug for course in courses]


def exam_attempt(user_id: int, kind: str, score: float, at: datetime | None = None, *, slug: str | None = None,
                 pass_mark: float = 70.0) -> int:
    at = at or utcnow()
    exam = db.session.scalar(select(Exam).where(Exam.kind == kind, *( [Exam.slug == slug] if slug else []))
                             .order_by(Exam.position, Exam.slug).limit(1))
    number = 1 + len(db.session.scalars(select(ExamAttempt.id).where(ExamAttempt.user_id == user_id,
                                                                     ExamAttempt.exam_slug == exam.slug)).all())
    attempt = ExamAttempt(user_id=user_id, exam_id=exam.id, exam_slug=exam.slug, exam_kind=exam.kind, number=number,
                          status=GRADED, started_at=at - timedelta(minutes=10), deadline=at + timedelta(minutes=20),
                          closed_at=at, closed_reason="submitted", graded_at=at, pass_mark=pass_mark,
                          show_answers=True, paper=[], earned=score, possible=100.0, score=score,
                          passed=score >= pass_mark)
    db.session.add(attempt)
    db.session.flush()
    return attempt.id


def drill(user_id: int, score: float, *, mode: str = "voice", passed: bool | None = None,
          at: datetime | None = None, slug: str | None = None) -> int:
    at = at or utcnow()
    scenario = db.session.scalar(select(Scenario).where(*([Scenario.slug == slug] if slug else []))
                                 .order_by(Scenario.slug).limit(1))
    version = scenario.current_version
    attempt = Attempt(user_id=user_id, scenario_id=scenario.id, version_id=version.id, mode=mode, status=ENDED,
                      language=version.language, difficulty=version.difficulty, node_id="end", anger=1,
                      ending="resolved", earned=score, possible=100.0, score=score,
                      passed=score >= version.pass_mark if passed is None else passed,
                      started_at=at - timedelta(minutes=5), answered_at=at - timedelta(minutes=5),
                      last_activity_at=at, finished_at=at)
    db.session.add(attempt)
    db.session.flush()
    return attempt.id
