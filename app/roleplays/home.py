"""Role-play's home panel for learners: the last drill, to carry on or try again, and the last scores.
Read-only and bounded: a call left idle shows as abandoned (Attempt.effective_status) without being written."""
from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from ..core.i18n import content_language
from ..extensions import db
from .models import ENDED, LIVE_STATUSES, PENDING, Attempt

SCORES_SHOWN = 3


def _title(attempt: Attempt, language: str) -> str:
    titles = attempt.version.title or {}
    return titles.get(language) or titles.get("zh-CN") or attempt.version.slug


def practice_panel(user) -> str:
    language = content_language()
    latest = db.session.scalars(select(Attempt).where(Attempt.user_id == user.id, Attempt.practice.is_(False))
                                .order_by(Attempt.started_at.desc(), Attempt.id.desc()).limit(1)).first()
    # Only ended calls have scores: an idle call (abandoned, written or not) is never among them.
    scored = db.session.scalars(select(Attempt).where(Attempt.user_id == user.id, Attempt.practice.is_(False),
                                                      Attempt.status == ENDED, Attempt.score.is_not(None))
                                .order_by(Attempt.finished_at.desc(), Attempt.id.desc()).limit(SCORES_SHOWN)).all()
    return render_template("roleplays/_home_practice.html", latest=latest,
                           live=latest is not None and latest.effective_status() in (*LIVE_STATUSES, PENDING),
                           title=_title(latest, language) if latest else "",
                           scored=[(attempt, _title(attempt, language)) for attempt in scored])
