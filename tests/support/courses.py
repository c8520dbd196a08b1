"""Courses for the tests: sync a content tree, find lessons and courses, open a lesson as a browser
does, complete a course."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.content.services import sync_content
from app.courses.models import Course, Lesson
from app.extensions import db
from tests.support.web import CSRF_META


def sync_from(app, root: Path):
    with app.app_context():
        return sync_content(root)


def get_lesson(course_slug: str, lesson_slug: str) -> Lesson:
    """Within an app context: the lesson row, retired or not."""
    return db.session.scalar(select(Lesson).join(Lesson.course).where(
        Course.slug == course_slug, Lesson.slug == lesson_slug))


def get_course(slug: str) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def complete_course(app, user_id: int, slug: str) -> None:
    """Every lesson done and the quiz passed, through the same paths a learner takes."""
    from app.core import events
    from app.courses import services
    with app.app_context():
        course = get_course(slug)
        for lesson in course.active_lessons:
            services.mark_lesson_done(user_id, lesson)
        events.exam_attempt_graded.send(user_id, attempt_id=1, exam_slug=course.quiz_slug, passed=True, score=90.0)
        db.session.commit()  # receivers flush into the sender's transaction; the sender commits


def open_lesson(client, course_slug: str, lesson_slug: str):
    """Open a lesson as a browser does: the page (a GET, which records nothing), then the page's first
    time report (static/js/courses.js), which records the visit. Returns the page."""
    url = f"/courses/{course_slug}/lessons/{lesson_slug}"
    page = client.get(url)
    token = CSRF_META.search(page.get_data(as_text=True)).group(1)
    assert client.post(f"{url}/time", json={"seconds": 0}, headers={"X-CSRFToken": token}).status_code == 200
    return page
