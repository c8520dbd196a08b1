"""This domain's source for app.core.progress: courses completed and last activity, for many learners."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from ..core.progress import CourseProgress, last_activity
from ..extensions import db
from .models import Course, CourseProgress as CourseProgressRow, LessonProgress


def course_progress(user_ids: Sequence[int]) -> dict[int, CourseProgress]:
    """Two queries, whatever the number of learners."""
    completed: dict[int, dict[str, datetime]] = defaultdict(dict)
    titles: dict[int, dict[str, dict]] = defaultdict(dict)
    latest: dict[int, datetime | None] = {}
    rows = db.session.execute(
        select(CourseProgressRow.user_id, Course.slug, Course.title, CourseProgressRow.completed_at)
        .join(Course, CourseProgressRow.course_id == Course.id)
        .where(CourseProgressRow.user_id.in_(user_ids), CourseProgressRow.completed_at.is_not(None)))
    for user_id, slug, title, completed_at in rows:
        completed[user_id][slug] = completed_at
        titles[user_id][slug] = title
        latest[user_id] = last_activity(latest.get(user_id), completed_at)
    visits = db.session.execute(
        select(LessonProgress.user_id, func.max(LessonProgress.last_visited_at), func.max(LessonProgress.completed_at))
        .where(LessonProgress.user_id.in_(user_ids)).group_by(LessonProgress.user_id))
    for user_id, visited, done in visits:
        latest[user_id] = last_activity(latest.get(user_id), visited, done)
    return {user_id: CourseProgress(dict(completed[user_id]), dict(titles[user_id]), latest[user_id])
            for user_id in latest}
