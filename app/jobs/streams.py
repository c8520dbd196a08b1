"""Production mode: streamed replies recognised by a grading worker while the trainee speaks.

The web processes stay stateless. Each chunk they accept is first appended to the turn's saved
recording (roleplays.streaming: the truth), then XADDed to the turn's Redis stream
``academy:turnstream:<turn id>`` (MAXLEN: the most chunks a reply may have; expires after
STREAM_KEY_TTL). The first chunk also pushes the turn id on the list ``academy:turnstreams:new``.

Each grading process (jobs.worker) runs STREAM_WORKER_THREADS stream owners. An idle owner pops a
turn id from the list, takes the turn's lease (``academy:turnstream:<id>:lease``, a Redis lock of
STREAM_LEASE_SECONDS renewed at every read), makes the turn's Vosk recogniser and feeds it the
chunks as they arrive (XREAD BLOCK), recording its progress under ``…:<id>:progress``. After the
final chunk the web process finds the lease held, adds an end mark to the stream and queues nothing;
the owner checks that it fed exactly the saved recording, takes the final result and grades through
the usual exactly-once path, ``grade_turn(turn_id, recognized=…)``.

Failures fall back to the saved recording, graded once:
- no owner free (all busy, none running, Redis down): the web process queues the ended reply as
  before and a worker recognises the recording;
- a chunk missing or out of order in the stream (Redis restarted, trimmed): the owner grades the
  recording instead of its live result;
- the owner dies (SIGKILL, out of memory): its lease runs out; the sweeper queues the "received"
  turn once no lease holds it (or finishes an idle "streaming" one), as it does for any lost job;
- the trainee goes away mid-reply: the owner gives up after STREAM_IDLE_SECONDS without a chunk and
  the sweeper finishes the reply from its recording (roleplays.streaming.reap_idle).
"""
from __future__ import annotations

import logging
import threading
import time
import wave

from flask import current_app
from redis import Redis
from redis.exceptions import LockError, RedisError

from .queue import redis_connection

log = logging.getLogger("academy.jobs")

STREAM_KEY = "academy:turnstream:{}"
LEASE_KEY = "academy:turnstream:{}:lease"
PROGRESS_KEY = "academy:turnstream:{}:progress"
NEW_STREAMS = "academy:turnstreams:new"
STREAM_KEY_TTL = 600      # seconds a turn's stream (and progress) outlives its last chunk
NEW_STREAMS_MAX = 1000    # turn ids waiting for an owner; older ones are dropped (their replies are queued)
READ_BLOCK_MS = 500


# --- web side (called through roleplays.dispatch.GradingQueue) ------------------------------------

_redis_down_until = 0.0  # this process: after a failed XADD, chunks are not passed on for a while
REDIS_DOWN_PAUSE = 5.0


def publish_chunk(turn_id: int, seq: int, data: bytes) -> None:
    """Pass one saved chunk on to the turn's stream (and announce a new stream with chunk 0).

    After Redis failed, this process skips it for REDIS_DOWN_PAUSE seconds, so a chunk request does not
    wait for a connect timeout each time; the owner then sees a gap and grades the saved recording."""
    global _redis_down_until
    if time.monotonic() < _redis_down_until:
        return
    from ..roleplays.streaming import max_chunks
    try:
        _publish(turn_id, seq, data, max_chunks())
    except RedisError:
        _redis_down_until = time.monotonic() + REDIS_DOWN_PAUSE
        raise


def _publish(turn_id: int, seq: int, data: bytes, max_chunks: int) -> None:
    connection = redis_connection()
    key = STREAM_KEY.format(turn_id)
    pipe = connection.pipeline(transaction=False)
    pipe.xadd(key, {"seq": seq, "data": data}, maxlen=max_chunks + 1, approximate=False)
    pipe.expire(key, STREAM_KEY_TTL)
    if seq == 0:
        pipe.lpush(NEW_STREAMS, turn_id)
        pipe.ltrim(NEW_STREAMS, 0, NEW_STREAMS_MAX - 1)
        pipe.expire(NEW_STREAMS, STREAM_KEY_TTL)
    pipe.execute()


def end_stream(turn_id: int) -> bool:
    """The reply ended (saved and "received"): tell its owner. True when an owner holds it and grades it."""
    connection = redis_connection()
    key = STREAM_KEY.format(turn_id)
    pipe = connection.pipeline(transaction=False)
    pipe.exists(LEASE_KEY.format(turn_id))
    pipe.xadd(key, {"end": 1})
    pipe.expire(key, STREAM_KEY_TTL)
    held = pipe.execute()[0]
    return bool(held)


def lease_held(turn_id: int, connection: Redis) -> bool:
    return bool(connection.exists(LEASE_KEY.format(turn_id)))


def progress(turn_id: int, connection: Redis) -> dict:
    """What the owner did with the turn's stream: {"chunks", "bytes", "partial", "final", "live"} as text."""
    raw = connection.hgetall(PROGRESS_KEY.format(turn_id))
    return {k.decode(): v.decode() for k, v in raw.items()}


# --- worker side ----------------------------------------------------------------------------------

class StreamOwners:
    """A grading process's pool of stream-owning threads (daemons: they die with the process)."""

    def __init__(self, app, threads: int) -> None:
        self.app = app
        self.threads = max(0, int(threads))
        self.stop_event = threading.Event()
        self._running: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"stream-owner-{index}", daemon=True)
            thread.start()
            self._running.append(thread)

    def stop(self) -> None:
        self.stop_event.set()

    def _loop(self) -> None:
        config = self.app.config
        connection = Redis.from_url(config["REDIS_URL"], socket_connect_timeout=2,
                                    socket_timeout=max(10, READ_BLOCK_MS / 1000 * 4))
        while not self.stop_event.is_set():
            try:
                item = connection.brpop([NEW_STREAMS], timeout=1)
                if item:
                    self.own(int(item[1]), connection)
            except RedisError as exc:
                log.warning("stream owner: Redis unavailable (%s)", exc)
                self.stop_event.wait(1.0)
            except Exception:  # one bad turn must not stop the owner; that turn falls back to its recording
                log.exception("stream owner failed")

    def own(self, turn_id: int, connection: Redis) -> str:
        """Hold one turn's stream until it ends, breaks or goes idle. Returns what happened."""
        seconds = max(1.0, float(self.app.config["STREAM_LEASE_SECONDS"]))
        lease = connection.lock(LEASE_KEY.format(turn_id), timeout=seconds, blocking=False, thread_local=False)
        if not lease.acquire(blocking=False):
            return "held"
        from ..extensions import db
        try:
            with self.app.app_context():
                try:
                    return _follow(turn_id, connection, lease, self.stop_event)
                finally:
                    db.session.remove()
        finally:
            try:
                lease.release()
            except LockError:
                pass  # it ran out: someone else may hold it now


def _follow(turn_id: int, connection: Redis, lease, stop: threading.Event) -> str:
    from ..extensions import db
    from ..roleplays import streaming
    from ..roleplays.models import RECEIVED, STREAMING, Turn

    turn = db.session.get(Turn, turn_id)
    if turn is None or turn.status not in (STREAMING, RECEIVED):
        return "gone"
    try:
        recogniser = streaming._recogniser_factory(turn.attempt, turn.node_id)()
    except Exception:  # no model here: the reply is recognised from its recording when it ends
        log.warning("turn %s: no live recogniser in this worker", turn_id, exc_info=True)
        return "no recogniser"
    db.session.rollback()  # hold no transaction open while the trainee speaks
    key, progress_key = STREAM_KEY.format(turn_id), PROGRESS_KEY.format(turn_id)
    idle = float(current_app.config["STREAM_IDLE_SECONDS"])
    last_id, next_seq, fed, broken = "0", 0, 0, False
    last_seen = time.monotonic()
    def renew() -> bool:
        try:
            lease.reacquire()  # renewed at every read and every chunk: a backlog can take a while to decode
            return True
        except LockError:  # it ran out (this thread stalled): the sweeper's fallback may be under way
            log.warning("turn %s: the stream's lease ran out; left to the saved recording", turn_id)
            return False

    while not stop.is_set():
        if not renew():
            return "lost"
        answer = connection.xread({key: last_id}, count=64, block=READ_BLOCK_MS)
        if not answer:
            if time.monotonic() - last_seen > idle:
                log.info("turn %s: no chunk for %.0f s; left to the sweeper", turn_id, idle)
                return "idle"
            continue
        last_seen = time.monotonic()
        for entry_id, fields in answer[0][1]:
            last_id = entry_id
            if b"end" in fields:
                renew()  # then the claim in grade_turn holds the turn
                return _grade(turn_id, recogniser, fed, next_seq, broken, connection, progress_key)
            if broken:
                continue
            if not renew():
                return "lost"
            seq, data = int(fields[b"seq"]), fields[b"data"]
            if seq != next_seq:  # a chunk lost on the way (Redis restarted, trimmed): use the recording
                log.warning("turn %s: expected chunk %s in the stream, got %s; the recording will be "
                            "recognised instead", turn_id, next_seq, seq)
                broken = True
                continue
            try:
                text = recogniser.feed(data)
            except Exception:
                log.warning("turn %s: live recognition failed; the recording will be recognised", turn_id,
                            exc_info=True)
                broken = True
                continue
            fed += len(data)
            next_seq += 1
            pipe = connection.pipeline(transaction=False)
            pipe.hset(progress_key, mapping={"chunks": next_seq, "bytes": fed, "partial": text or ""})
            pipe.expire(progress_key, STREAM_KEY_TTL)
            pipe.execute()
    return "stopped"


def _grade(turn_id: int, recogniser, fed: int, chunks: int, broken: bool, connection: Redis,
           progress_key: str) -> str:
    from ..extensions import db
    from ..roleplays import errors as roleplay_errors
    from ..roleplays import grader as roleplay_grader
    from ..roleplays import recordings as roleplay_recordings
    from ..roleplays.models import RECEIVED, Turn

    db.session.expire_all()
    turn = db.session.get(Turn, turn_id)
    if turn is None or turn.status != RECEIVED:
        return "gone"
    transcript = None
    if not broken:
        try:  # the live result counts only if it heard exactly the saved recording
            with wave.open(str(roleplay_recordings.recordings_dir() / turn.recording_path)) as saved:
                saved_bytes = saved.getnframes() * saved.getsampwidth()
        except (OSError, wave.Error, EOFError):
            saved_bytes = -1
        if saved_bytes == fed:
            transcript = recogniser.final()
        else:
            log.warning("turn %s: the live recogniser heard %s bytes, the recording holds %s; recognising "
                        "the recording", turn_id, fed, saved_bytes)
    db.session.rollback()
    connection.hset(progress_key, mapping={"final": 1, "live": int(transcript is not None)})
    try:
        roleplay_grader.grade_turn(turn_id, recognized=transcript)
    except roleplay_errors.GradingFailed:
        return "failed"  # left pending: the sweeper queues it again
    log.info("turn %s: graded by its stream owner (%s chunks fed live, live result %s)",
             turn_id, chunks, "used" if transcript is not None else "not used")
    return "graded"


def start_owners(app) -> StreamOwners | None:
    threads = int(app.config["STREAM_WORKER_THREADS"])
    if threads < 1:
        return None
    owners = StreamOwners(app, threads)
    owners.start()
    return owners
