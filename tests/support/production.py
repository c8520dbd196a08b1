"""Production mode for the tests (a pytest plugin): a private redis-server, the app with REDIS_URL set,
and an in-process RQ worker to work the grading queue dry."""
from __future__ import annotations

import io
import os
import signal
import wave
import subprocess
import time

import pytest
import redis
import sqlalchemy as sa
from rq import SimpleWorker

from app.jobs import queue as jobs_queue
from app.jobs import tasks
from bench.stack import free_port


def server_url() -> str | None:
    """The PostgreSQL server the suite runs on (TEST_DATABASE_URL), None on SQLite."""
    return os.environ.get("TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A private redis-server (never the machine's), stopped at the end."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def queued(app, redis_url, monkeypatch):
    """The app in production mode (REDIS_URL set), an empty Redis, jobs running in this app."""
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "JOBS_RECEIVED_GRACE", 0)
    redis.Redis.from_url(redis_url).flushdb()
    tasks.set_app(app)
    yield app
    tasks.set_app(None)


def run_jobs(app) -> int:
    """Work the grading queue dry with a real RQ worker in this process; how many jobs finished."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with app.app_context():
            queue = jobs_queue.grading_queue()
            finished = queue.finished_job_registry.count
            SimpleWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")
            assert queue.failed_job_registry.count == 0
            return queue.finished_job_registry.count - finished
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def wait_until(predicate, timeout: float, what: str):
    """Poll ``predicate`` until it returns something truthy (returned), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# Streaming a reply to a running stack over HTTP, as the call screen does (static/js/drill/stream.js).
CHUNK = 16000 * 2 * 240 // 1000  # 240 ms of 16 kHz 16-bit mono
L16 = {"Content-Type": "audio/l16; rate=16000; channels=1"}


def stream_pcm(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.readframes(reader.getnframes())


def turn_rows(engine) -> dict:
    """Every reply's row, read straight from the database the stack serves (not through the app)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status, claims, graded_count, recording_path, error "
                                    "FROM roleplay_turns ORDER BY id")).all()
    return {row.id: row for row in rows}


def open_stream_call(trainee) -> tuple[int, str]:
    """A new call for a bench.stack Trainee; its attempt id and stream URL."""
    trainee.new_call()
    return trainee.attempt, f"{trainee.base}/api/roleplays/attempts/{trainee.attempt}/stream"


def post_chunk(trainee, url: str, seq: int, data: bytes, final: bool = False):
    return trainee.http.post(f"{url}?seq={seq}" + ("&final=1" if final else ""), data=data,
                             headers={"X-CSRFToken": trainee.token, **L16}, timeout=60)
