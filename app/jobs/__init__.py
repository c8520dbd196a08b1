"""Production mode: grading on a Redis queue (RQ), the worker and its sweeper, backups.

Without REDIS_URL nothing here runs and a voice reply is graded inside the web request, as
in the embedded default. With REDIS_URL the role-play API saves the recording, commits the
turn as "received", calls ``enqueue_grading(turn_id)`` and answers 202; ``flask jobs worker``
runs ``roleplays.grader.grade_turn`` in worker processes that share the speech models
loaded before they fork, and sweeps turns whose job was lost (a killed worker, a restarted
Redis). Streamed replies are recognised by a worker while they are spoken (``jobs.streams``).
``flask backup`` / ``flask restore`` archive the database and the data folders.
See docs/production.md.
"""
from __future__ import annotations

# Settings (GRADING_*, JOBS_*, PRELOAD_SPEECH_MODELS, REDIS_URL): app/settings.py.


def init_app(app) -> None:
    from .cli import backup_command, jobs_cli, restore_command

    app.cli.add_command(jobs_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from ..roleplays.dispatch import GradingQueue, register_grading_queue
    from .streams import end_stream, publish_chunk
    register_grading_queue(app, GradingQueue(enabled=lambda: queue_enabled(app), enqueue=enqueue_grading,
                                             stream_chunk=publish_chunk, stream_end=end_stream))
    from flask import Blueprint
    from flask_babel import lazy_gettext as _l

    from ..core.access import Role
    from ..core.home import HomePanel, register_home_panel
    app.register_blueprint(Blueprint("jobs", __name__, template_folder="templates"))  # templates only, no routes
    register_home_panel(app, HomePanel("grading-queue", _l("Grading queue"), (Role.ADMIN,), 30, queue_panel))


def queue_panel(user) -> str:
    """The administrator's home panel: the grading queue's counts when REDIS_URL is set."""
    from flask import current_app, render_template
    counts, error = None, None
    if queue_enabled():
        try:
            from .queue import queue_counts
            counts = queue_counts()
        except Exception as exc:  # Redis down or refusing: the panel says so instead of failing the page
            current_app.logger.warning("home: grading queue unreachable: %s", exc)
            error = True
    return render_template("jobs/_home_queue.html", enabled=queue_enabled(), counts=counts, error=error)


def queue_enabled(app=None) -> bool:
    """Whether replies are graded by queue workers (REDIS_URL is set) rather than in the request."""
    from flask import current_app
    return bool((app or current_app).config.get("REDIS_URL"))


def enqueue_grading(turn_id: int, *, reason: str = "submitted") -> str | None:
    """Queue grade_turn(turn_id); the job id, or None when Redis could not be reached.

    The turn is committed before this is called, so a failure here loses nothing: the
    worker's sweeper queues every turn left "received" once Redis is back.
    """
    from .queue import enqueue_grading as enqueue
    return enqueue(turn_id, reason=reason)


__all__ = ["enqueue_grading", "init_app", "queue_enabled"]
