"""Production mode: grading on a Redis queue (RQ), the worker and its sweeper, backups.

Without REDIS_URL nothing here runs and a voice reply is graded inside the web request, as
in the embedded default. With REDIS_URL the role-play API saves the recording, commits the
turn as "received", calls ``enqueue_grading(turn_id)`` and answers 202; ``flask jobs worker``
runs ``roleplays.services.grade_turn`` in worker processes that share the speech models
loaded before they fork, and sweeps turns whose job was lost (a killed worker, a restarted
Redis). ``flask backup`` / ``flask restore`` archive the database and the data folders.
See docs/production.md.
"""
from __future__ import annotations

import os

# Settings (environment → app.config), seconds unless noted.
DEFAULTS = {
    "GRADING_QUEUE": "grading",           # RQ queue name
    "GRADING_JOB_TIMEOUT": "60",          # RQ kills a grading job running longer (it is retried)
    "GRADING_CLAIM_TIMEOUT": "150",       # a "grading" claim older than this died with its worker
                                          # (above the job timeout and gunicorn's 120 s request timeout)
    "GRADING_RETRIES": "3",               # RQ retries of a job that raised (recognition failed...)
    "JOBS_SWEEP_INTERVAL": "10",          # how often the worker sweeps for lost turns
    "JOBS_RECEIVED_GRACE": "15",          # a "received" turn younger than this is left to its job
}


def init_app(app) -> None:
    from .cli import backup_command, jobs_cli, restore_command

    for key, default in DEFAULTS.items():
        value = os.environ.get(key, default)
        app.config.setdefault(key, value if key == "GRADING_QUEUE" else float(value))
    app.config.setdefault("PRELOAD_SPEECH_MODELS", os.environ.get("PRELOAD_SPEECH_MODELS", ""))
    app.cli.add_command(jobs_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


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
