"""The grading queue: one RQ queue on REDIS_URL, one job per reply to grade.

Jobs carry only the turn id; the database is the truth about a turn (received → grading →
graded), Redis only transports work. The id of a turn's current job is kept under
``academy:grading:turn:<id>`` so the sweeper can tell a queued turn from a lost one.
"""
from __future__ import annotations

import os
import threading
import uuid

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

TASK = "app.jobs.tasks.grade_turn_job"
TURN_JOB_KEY = "academy:grading:turn:{}"
TURN_JOB_KEY_TTL = 7 * 24 * 3600
RESULT_TTL = 600
FAILURE_TTL = 7 * 24 * 3600
RETRY_INTERVALS = (2, 10, 30)  # seconds before the 1st, 2nd, 3rd retry of a job that raised

_connections: dict[tuple[int, str], Redis] = {}
_lock = threading.Lock()


def redis_connection(url: str | None = None) -> Redis:
    """A Redis client for this process (never shared across a fork: keyed by pid)."""
    url = url or current_app.config["REDIS_URL"]
    key = (os.getpid(), url)
    with _lock:
        if key not in _connections:
            # Short connect timeout: a web request must not hang while Redis restarts.
            _connections[key] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10,
                                               health_check_interval=30)
        return _connections[key]


def grading_queue(connection: Redis | None = None) -> Queue:
    return Queue(current_app.config["GRADING_QUEUE"], connection=connection or redis_connection())


def retry_policy() -> Retry | None:
    retries = int(current_app.config["GRADING_RETRIES"])
    if retries < 1:
        return None
    return Retry(max=retries, interval=list(RETRY_INTERVALS[:retries]))


def enqueue_grading(turn_id: int, *, reason: str = "submitted", connection: Redis | None = None) -> str | None:
    """Put one grading job for the turn on the queue; the job id, or None when Redis failed."""
    try:
        queue = grading_queue(connection)
        job = queue.enqueue(
            TASK, turn_id,
            job_id=f"grade-turn-{turn_id}-{uuid.uuid4().hex[:8]}",
            description=f"grade turn {turn_id} ({reason})",
            job_timeout=int(current_app.config["GRADING_JOB_TIMEOUT"]),
            result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, retry=retry_policy())
        queue.connection.set(TURN_JOB_KEY.format(turn_id), job.id, ex=TURN_JOB_KEY_TTL)
    except RedisError as exc:
        current_app.logger.warning("could not queue turn %s for grading (%s); the sweeper will queue it "
                                   "when Redis is back", turn_id, exc)
        return None
    return job.id


def current_job(turn_id: int, connection: Redis) -> Job | None:
    """The turn's latest job as Redis knows it, or None (never queued here, or lost with Redis)."""
    job_id = connection.get(TURN_JOB_KEY.format(turn_id))
    if not job_id:
        return None
    try:
        return Job.fetch(job_id.decode(), connection=connection)
    except NoSuchJobError:
        return None


def queue_counts(connection: Redis | None = None) -> dict:
    """Queued, running, scheduled (waiting to retry) and failed job counts of the grading queue."""
    queue = grading_queue(connection)
    return {"queue": queue.name, "queued": queue.count, "started": queue.started_job_registry.count,
            "scheduled": queue.scheduled_job_registry.count, "failed": queue.failed_job_registry.count,
            "finished": queue.finished_job_registry.count}
