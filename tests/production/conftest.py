"""Production mode tests: real redis-server, gunicorn, `flask jobs worker`, SQLite or PostgreSQL.

The database follows the suite: a SQLite file, or — when TEST_DATABASE_URL names a PostgreSQL
server — throwaway databases created on that server and dropped afterwards (never the shared
test database). Missing binaries or servers fail the tests; nothing is skipped.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
import redis
from rq import SimpleWorker

from app.jobs import queue as jobs_queue
from app.jobs import tasks
from bench.stack import Database, free_port


def server_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@pytest.fixture
def make_database(tmp_path):
    """make_database(name) → a fresh empty Database (dropped at the end of the test)."""
    made: list[Database] = []

    def make(name: str = "db") -> Database:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        database = Database(folder, server_url())
        made.append(database)
        return database

    yield make
    for database in made:
        database.drop()


@pytest.fixture(scope="session", autouse=True)
def _binaries():
    for binary in ("redis-server", "espeak-ng", "sox") + (("pg_dump", "pg_restore") if server_url() else ()):
        assert shutil.which(binary), f"{binary} is not installed (scripts/install.sh installs it)"


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
