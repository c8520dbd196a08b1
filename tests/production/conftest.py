"""Production mode tests: real redis-server, gunicorn, `flask jobs worker`, SQLite or PostgreSQL.

The database follows the suite: a SQLite file, or — when TEST_DATABASE_URL names a PostgreSQL
server — throwaway databases created on that server and dropped afterwards (never the shared
test database). Missing binaries or servers fail the tests; nothing is skipped. Redis and the
in-process worker: tests/support/production.py.
"""
from __future__ import annotations

import shutil

import pytest

from bench.stack import Database
from tests.support.production import server_url


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
