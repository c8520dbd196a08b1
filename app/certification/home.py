"""Certification's home panels: the learner's next requirement, and for HR the certificates
awaiting approval, those expiring soon and each cohort's levels and pass rates.

Read-only (the home page is a GET: a lapsed certificate simply does not count as valid), bounded,
and never a query per learner.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User, UserRole

from ..core.clock import utcnow
from ..core.access import Role
from . import presenters, queries, rules
from .forms import ApproveForm
from .models import ACTIVE, PENDING, Certificate, status_clause
from .queries import CohortRates
from ..extensions import db

SHOWN = 8            # certificates listed per panel (the roster has them all)
COHORTS_SHOWN = 12   # cohorts in the statistics panel


# --- learner ----------------------------------------------------------------------------------


def next_requirement_panel(user) -> str:
    standing = queries.standing(user)
    labels = standing.version.labels if standing.version else {}
    rows = presenters.requirement_rows(standing.evaluation.to_dict(), labels) if standing.evaluation else []
    waiting = any(c.level == standing.next_level and c.status == PENDING for c in standing.certificates)
    return render_template("certification/_home_next.html", standing=standing, rows=rows,
                           unmet=[row for row in rows if not row.met][:2], met=sum(1 for row in rows if row.met),
                           waiting=waiting)


# --- HR ---------------------------------------------------------------------------------------


def pending_panel(user) -> str:
    query = select(Certificate).where(Certificate.status == PENDING)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    certificates = db.session.scalars(query.options(selectinload(Certificate.holder))
                                      .order_by(Certificate.created_at, Certificate.id).limit(SHOWN)).all()
    return render_template("certification/_home_pending.html", certificates=certificates, total=total,
                           form=ApproveForm())


def expiring_panel(user) -> str:
    query = queries.expiring_statement()
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    certificates = db.session.scalars(query.options(selectinload(Certificate.holder))
                                      .order_by(Certificate.expires_at, Certificate.id).limit(SHOWN)).all()
    return render_template("certification/_home_expiring.html", certificates=certificates, total=total)


@dataclass
class CohortLine(CohortRates):
    """A cohort's pass rates (as on the roster) and how many of its people hold each level."""
    people: int = 0
    levels: Counter = field(default_factory=Counter)   # level -> people at it


def cohort_lines() -> list[CohortLine]:
    """Per cohort: people at each level, and the certification-exam and role-play call pass rates (the
    roster's counts: queries.add_pass_counts, read through app.core.progress for all learners at once)."""
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
                Certificate.user_id.in_(learner), status_clause(ACTIVE, now))).tuples():
        held[uid].add(level)
    for uid, cohort in people.items():
        lines[cohort].levels[rules.highest_level(held[uid] | {"trainee"})] += 1
    queries.add_pass_counts(lines, people)
    return sorted(lines.values(), key=lambda line: (line.cohort == "", line.cohort))


def cohorts_panel(user) -> str:
    lines = cohort_lines()
    return render_template("certification/_home_cohorts.html", lines=lines[:COHORTS_SHOWN],
                           more=max(0, len(lines) - COHORTS_SHOWN))
