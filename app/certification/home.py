"""Certification's home panels: the learner's next requirement, and for HR the certificates
awaiting approval, those expiring soon and each cohort's levels and pass rates.

Read-only (the home page is a GET: lazy expiry is not written here, a lapsed certificate simply
does not count as valid), bounded, and never a query per learner.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from flask import render_template
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User, UserRole

from ..core.clock import utcnow
from ..core.access import Role
from . import presenters, rules, services
from .forms import ApproveForm
from .services import CohortRates
from .models import ACTIVE, PENDING, Certificate
from ..extensions import db

SHOWN = 8            # certificates listed per panel (the roster has them all)
COHORTS_SHOWN = 12   # cohorts in the statistics panel


# --- learner ----------------------------------------------------------------------------------


def next_requirement_panel(user) -> str:
    standing = services.standing(user)
    labels = standing.version.labels if standing.version else {}
    rows = presenters.requirement_rows(standing.evaluation.to_dict(), labels) if standing.evaluation else []
    waiting = any(c.level == standing.next_level and c.status == PENDING for c in standing.certificates)
    return render_template("certification/_home_next.html", standing=standing, services=services,
                           rows=rows, unmet=[row for row in rows if not row.met][:2],
                           met=sum(1 for row in rows if row.met), waiting=waiting)


# --- HR ---------------------------------------------------------------------------------------


def pending_panel(user) -> str:
    query = select(Certificate).where(Certificate.status == PENDING)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    certificates = db.session.scalars(query.options(selectinload(Certificate.holder))
                                      .order_by(Certificate.created_at, Certificate.id).limit(SHOWN)).all()
    return render_template("certification/_home_pending.html", certificates=certificates, total=total,
                           services=services, form=ApproveForm())


def expiring_panel(user) -> str:
    now = utcnow()
    query = select(Certificate).where(Certificate.status == ACTIVE, Certificate.expires_at > now,
                                      Certificate.expires_at <= now + timedelta(days=services.EXPIRING_SOON_DAYS))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    certificates = db.session.scalars(query.options(selectinload(Certificate.holder))
                                      .order_by(Certificate.expires_at, Certificate.id).limit(SHOWN)).all()
    return render_template("certification/_home_expiring.html", certificates=certificates, total=total,
                           services=services)


@dataclass
class CohortLine(CohortRates):
    """A cohort's pass rates (as on the roster) and how many of its people hold each level."""
    people: int = 0
    levels: Counter = field(default_factory=Counter)   # level -> people at it


def _certification_exams() -> list[str]:
    version = services.current_version()
    if version is None:
        return []
    return sorted({r.exam for level in services.spec_of(version).levels for r in level.requirements
                   if r.kind == "exam_passed"})


def cohort_lines() -> list[CohortLine]:
    """Per cohort: people at each level, and the certification-exam and role-play call pass rates
    (the same counts as services.pass_rates), in one query per kind of evidence."""
    now = utcnow()
    learner = select(UserRole.user_id).where(UserRole.role == Role.LEARNER.value)
    people = {uid: cohort or "" for uid, cohort in db.session.execute(
        select(User.id, User.cohort).where(User.id.in_(learner))).tuples()}
    lines: dict[str, CohortLine] = {}
    for cohort in people.values():
        lines.setdefault(cohort, CohortLine(cohort)).people += 1
    held: dict[int, set[str]] = defaultdict(set)
    for uid, level in db.session.execute(
            select(Certificate.user_id, Certificate.level).where(
                Certificate.user_id.in_(learner), Certificate.status == ACTIVE,
                (Certificate.expires_at.is_(None)) | (Certificate.expires_at > now))).tuples():
        held[uid].add(level)
    for uid, cohort in people.items():
        lines[cohort].levels[rules.highest_level(held[uid] | {"trainee"})] += 1
    cohort_of = User.cohort
    exam_slugs = _certification_exams()
    if exam_slugs:
        from ..exams.models import ExamAttempt
        for cohort, attempted, passed in db.session.execute(
                select(cohort_of, func.count(ExamAttempt.id),
                       func.sum(case((ExamAttempt.passed.is_(True), 1), else_=0)))
                .join(User, User.id == ExamAttempt.user_id)
                .where(ExamAttempt.user_id.in_(learner), ExamAttempt.passed.is_not(None),
                       ExamAttempt.exam_slug.in_(exam_slugs), ExamAttempt.practice.is_(False))
                .group_by(cohort_of)).tuples():
            line = lines.get(cohort or "")
            if line is not None:
                line.exam_attempted += attempted
                line.exam_passed += int(passed or 0)
    # Finished calls per cohort (trainers' practice calls are no record).
    from ..roleplays.models import Attempt
    for cohort, attempted, passed in db.session.execute(
            select(cohort_of, func.count(Attempt.id), func.sum(case((Attempt.passed.is_(True), 1), else_=0)))
            .join(User, User.id == Attempt.user_id)
            .where(Attempt.user_id.in_(learner), Attempt.passed.is_not(None),
                   Attempt.practice.is_(False))
            .group_by(cohort_of)).tuples():
        line = lines.get(cohort or "")
        if line is not None:
            line.roleplay_attempted += attempted
            line.roleplay_passed += int(passed or 0)
    return sorted(lines.values(), key=lambda line: (line.cohort == "", line.cohort))


def cohorts_panel(user) -> str:
    lines = cohort_lines()
    return render_template("certification/_home_cohorts.html", lines=lines[:COHORTS_SHOWN],
                           more=max(0, len(lines) - COHORTS_SHOWN), services=services)
