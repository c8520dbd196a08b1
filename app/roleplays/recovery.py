"""Embedded-mode start-up: replies a crash or restart left half-done are graded before the process
serves anything. Above both the grader and streaming, which it uses, so neither imports the other."""
from __future__ import annotations

import time

from sqlalchemy import select, update

from ..extensions import db
from .errors import GradingFailed
from .grader import grade_turn, release_unrecognisable
from .models import GRADED, GRADING, RECEIVED, TURN_PENDING, Attempt, Turn
from .streaming import finish_all_streaming

RECOVER_MAX_TURNS = 200


def recover_interrupted(app, *, max_turns: int = RECOVER_MAX_TURNS, budget_seconds: float | None = None) -> dict:
    """Embedded mode start-up: grade the replies a crash left "received" or "grading".

    Without a queue (no REDIS_URL) nothing else would pick them up until someone regrades by hand.
    Run before this process serves anything, so no claim can be live: "grading" claims are put
    back to pending and graded at once. Bounded by max_turns and budget_seconds
    (RECOVER_ON_START_SECONDS); what is left stays pending for `flask roleplay regrade`.
    Returns {"graded": [...], "failed": [...], "left": n}.
    """
    report: dict = {"graded": [], "failed": [], "left": 0}
    if app.config.get("REDIS_URL"):
        return report  # production mode: the workers' sweeper recovers lost turns
    budget = float(budget_seconds if budget_seconds is not None
                   else app.config["RECOVER_ON_START_SECONDS"])
    deadline = time.monotonic() + budget
    with app.app_context():
        finish_all_streaming()  # replies that were still arriving: graded from what was saved
        db.session.execute(update(Turn).where(Turn.status == GRADING).values(status=TURN_PENDING)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        waiting = db.session.scalars(select(Turn.id).where(Turn.status.in_((RECEIVED, TURN_PENDING)))
                                     .order_by(Turn.id)).all()
        for index, turn_id in enumerate(waiting):
            if index >= max_turns or time.monotonic() > deadline:
                report["left"] = len(waiting) - index
                break
            attempt_id = db.session.scalar(select(Turn.attempt_id).where(Turn.id == turn_id))
            try:
                release_unrecognisable(db.session.get(Attempt, attempt_id))
                turn = grade_turn(turn_id)
            except GradingFailed:
                report["failed"].append(turn_id)
                continue
            if turn is not None and turn.status == GRADED:
                report["graded"].append(turn_id)
        db.session.remove()
    if waiting:
        app.logger.warning("start-up: replies interrupted by a restart: graded %s, still failing %s, left %s "
                           "for `flask roleplay regrade`", report["graded"], report["failed"], report["left"])
    return report
