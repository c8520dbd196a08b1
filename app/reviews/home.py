"""Reviews' home panels: for trainers the flagged calls waiting, recent calls and the rubric rules
failed most this week; for learners the feedback trainers gave on their calls.

Read-only and bounded: each panel is a fixed handful of queries with a LIMIT, never one per learner.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User

from ..core.clock import utcnow
from ..core.i18n import content_language
from ..extensions import db
from ..roleplays import presenters as roleplay_presenters
from ..roleplays.models import ENDED, GRADED, Attempt, Turn
from .models import ItemOverride, Review, ReviewFlag

SHOWN = 6
WEEK = timedelta(days=7)
TURNS_READ = 3000      # the week's most recent graded replies read for the failure counts
RULES_PER_COHORT = 3
COHORTS_SHOWN = 4


def _title(attempt: Attempt, language: str) -> str:
    titles = attempt.version.title or {}
    return titles.get(language) or titles.get("zh-CN") or attempt.version.slug


def _attempts(ids) -> dict[int, Attempt]:
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(select(Attempt).where(Attempt.id.in_(ids)))}


def _names(user_ids) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(set(user_ids)))).tuples().all())


# --- trainer ----------------------------------------------------------------------------------


def flagged_panel(user) -> str:
    """Calls with an open flag, the longest waiting first."""
    language = content_language()
    open_flags = (select(ReviewFlag.attempt_id, func.min(ReviewFlag.created_at).label("since"),
                         func.count(ReviewFlag.id).label("flags"))
                  .where(ReviewFlag.resolved_at.is_(None)).group_by(ReviewFlag.attempt_id))
    total = db.session.scalar(select(func.count()).select_from(open_flags.subquery()))
    waiting = db.session.execute(open_flags.order_by("since", ReviewFlag.attempt_id).limit(SHOWN)).all()
    attempts = _attempts([row.attempt_id for row in waiting])
    reasons = {}
    if waiting:
        for flag in db.session.scalars(select(ReviewFlag).where(
                ReviewFlag.attempt_id.in_([row.attempt_id for row in waiting]), ReviewFlag.resolved_at.is_(None))
                .order_by(ReviewFlag.created_at)):
            if flag.reason and flag.attempt_id not in reasons:
                reasons[flag.attempt_id] = flag.reason
    names = _names([a.user_id for a in attempts.values()])
    rows = [{"attempt": attempts[row.attempt_id], "since": row.since, "reason": reasons.get(row.attempt_id),
             "learner": names.get(attempts[row.attempt_id].user_id, ""),
             "title": _title(attempts[row.attempt_id], language)}
            for row in waiting if row.attempt_id in attempts]
    return render_template("reviews/_home_flagged.html", rows=rows, total=total)


def recent_panel(user) -> str:
    """The latest finished calls of learners (trainers' practice calls are nobody's record)."""
    language = content_language()
    attempts = db.session.scalars(select(Attempt).where(Attempt.status == ENDED, Attempt.finished_at.is_not(None),
                                                        Attempt.practice.is_(False))
                                  .order_by(Attempt.finished_at.desc(), Attempt.id.desc()).limit(SHOWN)).all()
    names = _names([a.user_id for a in attempts])
    reviewed = set(db.session.scalars(select(Review.attempt_id).where(Review.attempt_id.in_([a.id for a in attempts]))))\
        if attempts else set()
    rows = [{"attempt": a, "learner": names.get(a.user_id, ""), "title": _title(a, language),
             "reviewed": a.id in reviewed} for a in attempts]
    return render_template("reviews/_home_recent.html", rows=rows)


def failed_rules(now=None) -> list[dict]:
    """Per cohort, the rubric rules most often not fully met in the week's graded replies."""
    language = content_language()
    since = (now or utcnow()) - WEEK
    rows = db.session.execute(
        select(Turn.items, Turn.delivery, Attempt.user_id, User.cohort)
        .join(Attempt, Attempt.id == Turn.attempt_id).join(User, User.id == Attempt.user_id)
        .where(Turn.status == GRADED, Turn.graded_at >= since, Attempt.practice.is_(False))
        .order_by(Turn.graded_at.desc()).limit(TURNS_READ)).all()
    misses: dict[str, Counter] = defaultdict(Counter)
    people: dict[tuple[str, str], set[int]] = defaultdict(set)
    sample: dict[str, dict] = {}
    for items, delivery, user_id, cohort in rows:
        cohort = cohort or ""
        for item in list(items or []) + list(delivery or []):
            rule = str(item.get("rule") or "")
            if not rule or float(item.get("points_possible") or 0) <= 0:
                continue
            if float(item.get("points_awarded") or 0) < float(item.get("points_possible") or 0):
                misses[cohort][rule] += 1
                people[(cohort, rule)].add(user_id)
                sample.setdefault(rule, item)
    cohorts = sorted(misses, key=lambda c: (-sum(misses[c].values()), c == "", c))[:COHORTS_SHOWN]
    return [{"cohort": cohort,
             "rules": [{"rule": rule, "label": roleplay_presenters.label_of(sample[rule], language), "misses": count,
                        "people": len(people[(cohort, rule)])}
                       for rule, count in sorted(misses[cohort].items(), key=lambda kv: (-kv[1], kv[0]))
                       [:RULES_PER_COHORT]]}
            for cohort in cohorts]


def failed_rules_panel(user) -> str:
    return render_template("reviews/_home_rules.html", cohorts=failed_rules())


# --- learner ----------------------------------------------------------------------------------


def feedback_panel(user) -> str:
    """Trainers' reviews of this learner's calls, newest first, with their comments."""
    language = content_language()
    reviews = db.session.execute(
        select(Review.attempt_id, func.max(Review.created_at).label("at"))
        .join(Attempt, Attempt.id == Review.attempt_id)
        .where(Attempt.user_id == user.id).group_by(Review.attempt_id)
        .order_by(func.max(Review.created_at).desc()).limit(3)).all()
    attempts = _attempts([row.attempt_id for row in reviews])
    comments: dict[int, list] = defaultdict(list)
    reviewers: dict[int, str] = {}
    if reviews:
        for override in db.session.scalars(
                select(ItemOverride).options(selectinload(ItemOverride.reviewer))
                .where(ItemOverride.attempt_id.in_(list(attempts))).order_by(ItemOverride.created_at.desc())):
            if len(comments[override.attempt_id]) < 3:
                comments[override.attempt_id].append(
                    {"label": roleplay_presenters.label_of({"rule": override.rule, "item_id": override.item_id}, language),
                     "comment": override.comment, "before": override.points_before, "after": override.points_after})
        for review in db.session.scalars(select(Review).options(selectinload(Review.reviewer))
                                          .where(Review.attempt_id.in_(list(attempts)))
                                          .order_by(Review.created_at)):
            if review.reviewer is not None:
                reviewers[review.attempt_id] = review.reviewer.name
    rows = [{"attempt": attempts[row.attempt_id], "at": row.at, "title": _title(attempts[row.attempt_id], language),
             "reviewer": reviewers.get(row.attempt_id), "comments": comments[row.attempt_id]}
            for row in reviews if row.attempt_id in attempts]
    return render_template("reviews/_home_feedback.html", rows=rows)
