"""This domain's source for app.core.progress: best call, voice and typed passes and last activity, for
many learners."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from ..core.progress import DrillProgress, DrillResult
from ..extensions import db
from .models import ENDED, Attempt, ScenarioVersion


def _counted(statement):
    """Learners' calls only: a trainer's practice call counts nowhere."""
    return statement.where(Attempt.practice.is_(False))


def drill_progress(user_ids: Sequence[int]) -> dict[int, DrillProgress]:
    """Three queries, whatever the number of learners.

    Only ended calls are evidence, and the latest activity is a time, not a status: a call left idle
    (shown as abandoned but perhaps not yet written so, see Attempt.effective_status) changes nothing here."""
    finished: dict[int, list[DrillResult]] = defaultdict(list)
    rows = db.session.execute(_counted(
        select(Attempt.user_id, Attempt.id, Attempt.version_id, Attempt.difficulty,
               Attempt.score, Attempt.passed, Attempt.finished_at, Attempt.mode, Attempt.language)
        .where(Attempt.user_id.in_(user_ids), Attempt.status == ENDED, Attempt.score.is_not(None),
               Attempt.finished_at.is_not(None)))
        .order_by(Attempt.finished_at, Attempt.id)).all()
    # Slug and title per scenario version, read once (not decoded again for every call).
    versions = {version_id: (slug, title or {}) for version_id, slug, title in db.session.execute(
        select(ScenarioVersion.id, ScenarioVersion.slug, ScenarioVersion.title)
        .where(ScenarioVersion.id.in_({row[2] for row in rows})))} if rows else {}
    for user_id, attempt_id, version_id, difficulty, score, passed, finished_at, mode, language in rows:
        slug, title = versions[version_id]
        finished[user_id].append(DrillResult(attempt_id, slug, title, int(difficulty), float(score),
                                             bool(passed), finished_at, mode, language or ""))
    latest: dict[int, datetime] = dict(db.session.execute(_counted(
        select(Attempt.user_id, func.max(Attempt.last_activity_at))
        .where(Attempt.user_id.in_(user_ids))).group_by(Attempt.user_id)).all())
    progress = {}
    for user_id in set(latest) | set(finished):
        calls = finished[user_id]
        passes = tuple(call for call in calls if call.passed)
        best = min(calls, key=lambda c: (-c.score, c.finished_at, c.attempt_id)) if calls else None
        progress[user_id] = DrillProgress(
            best=best, voice_passes=sum(1 for call in passes if call.mode == "voice"),
            typed_passes=sum(1 for call in passes if call.mode != "voice"), passes=passes,
            last_activity=latest.get(user_id), finished=len(calls))
    return progress
