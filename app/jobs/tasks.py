"""The functions RQ runs. Each job gets its own app context, so its own database session."""
from __future__ import annotations

_app = None
_dispose_after_job = False


def set_dispose_after_job(value: bool) -> None:
    """With RQ's forking Worker each job runs in a short-lived horse: close its connections."""
    global _dispose_after_job
    _dispose_after_job = value


def set_app(app) -> None:
    """The worker hands its app over before it starts taking jobs."""
    global _app
    _app = app


def worker_app():
    """The app jobs run in: the worker's, or (a plain `rq worker`) one made on first use."""
    global _app
    if _app is None:
        from app import create_app
        _app = create_app()
    return _app


def grade_turn_job(turn_id: int) -> dict:
    """Recognise and grade one reply (roleplays.grader.grade_turn: claimed, fenced, idempotent).

    GradingFailed propagates so RQ's Retry runs the job again later; a turn that is already
    graded, or held by a live claim, makes this a no-op.
    """
    from ..extensions import db
    from ..roleplays import grader as roleplay_grader

    app = worker_app()
    with app.app_context():
        try:
            turn = roleplay_grader.grade_turn(turn_id)
            return {"turn_id": turn_id, "status": turn.status if turn is not None else None}
        finally:
            db.session.remove()
            if _dispose_after_job:
                for engine in db.engines.values():
                    engine.dispose()
