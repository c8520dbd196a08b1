"""The app under test and its database (a pytest plugin).

The app runs on a real database built by the migrations: SQLite in a temporary folder by default,
or the PostgreSQL database named by TEST_DATABASE_URL (the test command runs the suite once on each).
One app serves the whole session; every test that used it leaves the tables empty behind it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db


def database_url(tmp: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'test.db'}"  # tmp is per pytest-xdist worker already
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... under `pytest -n N`
    if worker:
        url = _worker_database(url, worker)
    _reset_postgres(url)
    return url


def _worker_database(url: str, worker: str) -> str:
    """A database of the worker's own beside the named one (test_gw0 beside test), made anew: workers
    running side by side must not empty each other's tables."""
    server = sa.engine.make_url(url)
    name = f"{server.database}_{worker}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def _reset_postgres(url: str) -> None:
    # A fresh schema each run: the migrations, not leftovers, must build everything (a worker's own
    # database is new already; the one named by TEST_DATABASE_URL, used without workers, is not).
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def tables_with_rows(connection) -> list[sa.Table]:
    """The app's tables that hold at least one row, in dependency order (parents first): one
    query, however many tables there are."""
    tables = db.metadata.sorted_tables
    probes = [sa.select(sa.literal_column(str(index))).where(sa.exists().select_from(table))
              for index, table in enumerate(tables)]
    filled = set(connection.execute(sa.union_all(*probes)).scalars())
    return [table for index, table in enumerate(tables) if index in filled]


def empty_tables(connection) -> None:
    """Delete every row of every app table, children first. Only the tables that hold rows are
    touched: a test fills a handful of the ~70 tables, and asking once which ones is far cheaper
    than a DELETE on each (rows written by other processes, e.g. a CLI run against the test
    database, are found the same way)."""
    for table in reversed(tables_with_rows(connection)):
        connection.execute(table.delete())


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("academy")
    url = database_url(tmp)
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": "test-secret-not-for-production",
        "DATA_DIR": str(tmp),
        "UPLOAD_DIR": str(tmp / "uploads"),
        "RECORDINGS_DIR": str(tmp / "recordings"),
        "AUDIO_CACHE_DIR": str(tmp / "audio-cache"),
        "VOSK_MODEL_DIR": str(tmp / "models"),
        "SERVER_NAME": "localhost",
        # The suite's helpers complete lessons and exams in milliseconds; tests of the minimums
        # set them back (monkeypatch.setitem(app.config, ...)).
        "LESSON_MIN_READ_SHARE": 0,
        "EXAM_MIN_SECONDS_PER_QUESTION": 0,
        "CALL_MIN_SECONDS_PER_REPLY": 0,
    })
    with application.app_context():
        from flask_migrate import upgrade
        upgrade(revision="heads")
    return application


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that used the app, so tests stay independent; the saved
    recordings go with the rows that named them (ids start again at 1 on SQLite, so the next test's
    u1/a1 folder would otherwise hold the last one's files)."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.rollback()
        empty_tables(db.session.connection())
        db.session.commit()
    recordings = Path(application.config["RECORDINGS_DIR"])
    if recordings.is_dir():
        for entry in recordings.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()
