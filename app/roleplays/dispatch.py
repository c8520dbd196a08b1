"""Where a saved voice reply gets graded: inside the request, or by a queue another domain provides.

The jobs domain (production mode) registers its Redis queue here at start-up; roleplays never
imports jobs, so the dependency points one way (jobs → roleplays) and the embedded install,
which has no queue, needs nothing else.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

_KEY = "roleplays_grading_queue"


@dataclass(frozen=True)
class GradingQueue:
    enabled: Callable[[], bool]            # asked per request: REDIS_URL may be set or not
    enqueue: Callable[..., str | None]     # enqueue(turn_id, reason=...) → job id, or None if unreachable
    # Streamed replies (roleplays.streaming), both optional: stream_chunk(turn_id, seq, data) passes an
    # accepted chunk on to whoever recognises it live; stream_end(turn_id) → True when that one will
    # also grade the finished reply (then nothing is queued for it).
    stream_chunk: Callable[..., None] | None = None
    stream_end: Callable[[int], bool] | None = None


def register_grading_queue(app, queue: GradingQueue) -> None:
    app.extensions[_KEY] = queue


def grading_queue() -> GradingQueue | None:
    """The registered queue when it is in use for this app, else None (grade in the request)."""
    queue = current_app.extensions.get(_KEY)
    return queue if queue is not None and queue.enabled() else None
