"""Time-based states of assignments for the notifications sweep (app.core.events.sweep_due): each learner
an active assignment reaches who has not done it hears the day before it is due and once it is overdue."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..core import events
from ..extensions import db
from .models import Assignment
from .services import Evidence, recipients, status_of, work_titles

# Overdue work older than this is not announced any more (a sweep after a long pause stays short).
OVERDUE_LOOKBACK_DAYS = 14


def on_sweep_due(_sender, *, now: datetime, **_extra) -> None:
    today = now.date()
    tomorrow = today + timedelta(days=1)
    due = list(db.session.scalars(select(Assignment).where(
        Assignment.withdrawn_at.is_(None), Assignment.due_date <= tomorrow,
        Assignment.due_date >= today - timedelta(days=OVERDUE_LOOKBACK_DAYS)).order_by(Assignment.id)))
    evidence: dict[int, Evidence] = {}
    for assignment in due:
        if assignment.due_date == tomorrow:
            state = "due_tomorrow"
        elif assignment.due_date < today:
            state = "overdue"
        else:
            continue  # due today: not overdue yet, and "tomorrow" was said yesterday
        titles = work_titles(assignment.kind, assignment.slug)
        for user in recipients(assignment):
            status = status_of(assignment, evidence.setdefault(user.id, Evidence(user.id)), on=today)
            if status.done:
                continue
            events.assignment_due.send(user.id, assignment_id=assignment.id, state=state, titles=titles,
                                       due_date=assignment.due_date)


def connect_receivers() -> None:
    events.sweep_due.connect(on_sweep_due)
