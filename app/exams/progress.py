"""This domain's source for app.core.progress: best score per exam, listen-and-type answers and last
activity, for many learners."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from ..core.progress import ExamBest, ExamProgress, ListenTypeAnswer, last_activity
from ..extensions import db
from .models import GRADED, Exam, ExamAnswer, ExamAttempt


def _better(candidate: ExamBest, best: ExamBest | None) -> bool:
    """services.best_attempt's order: highest score, then the earliest graded, then the lowest id."""
    if best is None:
        return True
    return (-candidate.score, candidate.graded_at or datetime.max, candidate.attempt_id) < \
        (-best.score, best.graded_at or datetime.max, best.attempt_id)


def _counted(statement):
    """Learners' attempts only: a trainer's practice attempt (where the model has the flag) counts nowhere."""
    practice = getattr(ExamAttempt, "practice", None)
    return statement if practice is None else statement.where(practice.is_(False))


def exam_progress(user_ids: Sequence[int]) -> dict[int, ExamProgress]:
    """Four queries, whatever the number of learners."""
    best: dict[int, dict[str, ExamBest]] = defaultdict(dict)
    rows = db.session.execute(_counted(
        select(ExamAttempt.user_id, ExamAttempt.exam_slug, ExamAttempt.exam_kind, ExamAttempt.exam_id, ExamAttempt.id,
               ExamAttempt.score, ExamAttempt.passed, ExamAttempt.graded_at)
        .where(ExamAttempt.user_id.in_(user_ids), ExamAttempt.status == GRADED, ExamAttempt.score.is_not(None)))).all()
    # Titles per exam, read once (not decoded again for every attempt).
    titles = dict(db.session.execute(select(Exam.id, Exam.title).where(Exam.id.in_({row[3] for row in rows})))
                  .all()) if rows else {}
    counts: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for user_id, slug, kind, exam_id, attempt_id, score, passed, graded_at in rows:
        attempted, passes = counts[user_id].get(slug, (0, 0))
        counts[user_id][slug] = (attempted + 1, passes + (1 if passed else 0))
        candidate = ExamBest(slug, kind, titles.get(exam_id) or {}, attempt_id, float(score), bool(passed), graded_at)
        if _better(candidate, best[user_id].get(slug)):
            best[user_id][slug] = candidate
    listen: dict[int, list[ListenTypeAnswer]] = defaultdict(list)
    answers = db.session.execute(_counted(
        select(ExamAttempt.user_id, ExamAnswer.attempt_id, ExamAnswer.question_id, ExamAnswer.accuracy,
               ExamAnswer.cpm, ExamAttempt.graded_at)
        .join(ExamAttempt, ExamAnswer.attempt_id == ExamAttempt.id)
        .where(ExamAttempt.user_id.in_(user_ids), ExamAttempt.status == GRADED,
               ExamAnswer.question_type == "listen_type"))
        .order_by(ExamAttempt.graded_at, ExamAnswer.attempt_id, ExamAnswer.position))
    for user_id, attempt_id, question_id, accuracy, cpm, graded_at in answers:
        listen[user_id].append(ListenTypeAnswer(attempt_id, question_id, accuracy or 0.0, cpm or 0.0, graded_at))
    latest: dict[int, datetime | None] = {}
    moments = db.session.execute(_counted(
        select(ExamAttempt.user_id, func.max(ExamAttempt.started_at), func.max(ExamAttempt.last_saved_at),
               func.max(ExamAttempt.graded_at))
        .where(ExamAttempt.user_id.in_(user_ids))).group_by(ExamAttempt.user_id))
    for user_id, started, saved, graded in moments:
        latest[user_id] = last_activity(started, saved, graded)
    return {user_id: ExamProgress(dict(best[user_id]), tuple(listen[user_id]), latest.get(user_id),
                                  dict(counts[user_id]))
            for user_id in set(latest) | set(best) | set(listen)}
