"""The sweeper: queue again every reply whose grading job was lost.

RQ's Retry covers jobs that raise. What it cannot see is a job that vanished: a worker
killed mid-grade (SIGKILL, out of memory, a machine reboot) leaves its turn "grading" and
its job "started" for ever; a Redis restart without persistence forgets every queued job.
The database still knows each such turn, so every JOBS_SWEEP_INTERVAL the worker looks at
the turns not yet graded and queues the ones no live job holds:

- "received" (saved, never claimed) for longer than JOBS_RECEIVED_GRACE with no queued or
  running job: the job was lost before it started;
- "grading" whose claim is older than GRADING_CLAIM_TIMEOUT: the worker died; the new job
  takes the stale claim over (exactly once, see roleplays.grader._claim_turn). After
  MAX_CLAIMS interrupted claims the turn is left "pending" for `flask roleplay regrade`, so a
  recording that crashes workers cannot crash them for ever;
- "pending" (grading raised) whose job is gone (Redis restarted while RQ waited to retry);
- "streaming" (a voice reply arriving in chunks) that no chunk reached for STREAM_IDLE_SECONDS: the
  browser went away mid-reply; the recording saved so far is finished and queued.
  A "received" streamed reply whose stream owner (jobs.streams) still holds its lease is left to it;
  once the lease runs out (the owner died) it is queued like any other.
  A pending turn whose job failed for good (retries used up) is left to `flask roleplay regrade`.

Queuing twice is harmless (grade_turn is idempotent); the checks only avoid useless jobs.

Faster than the timeout: when one of its workers dies, the supervisor (jobs.worker) reads the
job it was running from Redis and calls hand_over(): the dead worker's claim is expired at
once and the turn queued again, so the trainee waits about a second, not GRADING_CLAIM_TIMEOUT.
The timeout remains for what no supervisor sees (a whole machine lost).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..core.clock import utcnow
from ..extensions import db
from ..roleplays.models import GRADING, RECEIVED, TURN_PENDING, Turn
from ..roleplays.grader import MAX_CLAIMS, claim_timeout
from .queue import current_job, enqueue_grading, redis_connection
from .streams import lease_held

LIVE_JOB_STATUSES = {"queued", "scheduled", "deferred"}
SWEEP_LOCK = "academy:jobs:sweep-lock"
BATCH = 500


@dataclass
class SweepReport:
    received: list[int] = field(default_factory=list)   # queued again: never claimed, job lost
    reclaimed: list[int] = field(default_factory=list)  # queued again: stale "grading" claim
    pending: list[int] = field(default_factory=list)    # queued again: failed, and its retry was lost
    gave_up: list[int] = field(default_factory=list)    # interrupted MAX_CLAIMS times: left pending
    streams: list[int] = field(default_factory=list)    # broken streams finished from their recording, queued
    skipped_lock: bool = False

    @property
    def queued(self) -> int:
        return len(self.received) + len(self.reclaimed) + len(self.pending)

    def to_dict(self) -> dict:
        return {**asdict(self), "queued": self.queued}


def _job_alive(job, now, timeout: timedelta) -> bool:
    if job is None:
        return False
    status = job.get_status(refresh=False)
    status = getattr(status, "value", status)
    if status in LIVE_JOB_STATUSES:
        return True
    if status == "started":
        # A started job whose worker was killed stays "started"; trust it only for a claim's lifetime.
        started = job.started_at.replace(tzinfo=None) if job.started_at else None
        return started is not None and now - started < timeout
    return False


def _job_failed(job) -> bool:
    status = job.get_status(refresh=False) if job is not None else None
    return getattr(status, "value", status) == "failed"


def sweep(*, use_lock: bool = True) -> SweepReport:
    """One pass over the turns not yet graded; safe to run from several workers at once."""
    report = SweepReport()
    connection = redis_connection()
    interval = float(current_app.config["JOBS_SWEEP_INTERVAL"])
    if use_lock and not connection.set(SWEEP_LOCK, "1", nx=True, px=max(500, int(interval * 900))):
        report.skipped_lock = True  # another worker swept moments ago
        return report
    # Replies whose stream broke (closed tab, lost network) with no chunk for STREAM_IDLE_SECONDS:
    # their saved recording is finished and queued (roleplays.streaming; exactly once, guarded).
    from ..roleplays.streaming import reap_idle
    report.streams = reap_idle()
    now = utcnow()
    timeout = claim_timeout()
    grace = timedelta(seconds=float(current_app.config["JOBS_RECEIVED_GRACE"]))
    rows = db.session.execute(
        select(Turn.id, Turn.status, Turn.created_at, Turn.claims,
               func.coalesce(Turn.claimed_at, Turn.grading_started_at).label("claimed_at"))
        .where(Turn.status.in_((RECEIVED, GRADING, TURN_PENDING))).order_by(Turn.id).limit(BATCH)).all()
    db.session.rollback()  # end the read; nothing below holds it open
    for row in rows:
        if row.status == GRADING:
            if row.claimed_at is not None and now - row.claimed_at < timeout:
                continue  # a live claim: a worker is grading it
            if row.claims >= MAX_CLAIMS:
                gave_up = db.session.execute(
                    update(Turn).where(Turn.id == row.id, Turn.status == GRADING, Turn.claims >= MAX_CLAIMS,
                                       func.coalesce(Turn.claimed_at, Turn.grading_started_at) < now - timeout)
                    .values(status=TURN_PENDING,
                            error=f"grading was interrupted {row.claims} times (worker killed?); "
                                  f"run `flask roleplay regrade` once the cause is fixed")
                    .execution_options(synchronize_session=False))
                db.session.commit()
                if gave_up.rowcount:
                    current_app.logger.error("turn %s: grading interrupted %s times, left pending", row.id, row.claims)
                    report.gave_up.append(row.id)
                continue
        job = current_job(row.id, connection)
        if _job_alive(job, now, timeout):
            continue
        if row.status == RECEIVED:
            if now - row.created_at < grace:
                continue
            if lease_held(row.id, connection):
                continue  # its stream owner is grading it (jobs.streams); if it dies the lease runs out
            bucket = report.received
        elif row.status == TURN_PENDING:
            if _job_failed(job) or row.claims >= MAX_CLAIMS:
                continue  # RQ used up its retries: a person looks at it (flask roleplay regrade)
            bucket = report.pending
        else:
            bucket = report.reclaimed
        if enqueue_grading(row.id, reason=f"sweeper: {row.status}", connection=connection) is not None:
            bucket.append(row.id)
    if report.queued or report.gave_up or report.streams:
        current_app.logger.warning("sweeper: %s", report.to_dict())
    return report


def turn_of_job(job_id: str) -> int | None:
    """The turn id in a grading job's id (grade-turn-<turn id>-<random>)."""
    parts = job_id.split("-")
    if len(parts) >= 3 and parts[:2] == ["grade", "turn"] and parts[2].isdigit():
        return int(parts[2])
    return None


def hand_over(turn_id: int, died_at: datetime) -> bool:
    """A worker died while grading turn_id: expire its claim (only a claim taken before the death)
    and queue the turn again. True when the turn was handed over."""
    expired = db.session.execute(
        update(Turn).where(Turn.id == turn_id, Turn.status == GRADING, Turn.claimed_at <= died_at)
        .values(claimed_at=died_at - claim_timeout() - timedelta(seconds=1))
        .execution_options(synchronize_session=False))
    db.session.commit()
    if not expired.rowcount:
        return False
    current_app.logger.warning("turn %s: its worker died mid-grade; queued again at once", turn_id)
    enqueue_grading(turn_id, reason="worker died")
    return True
