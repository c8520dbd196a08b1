"""The shipped content in the test database (a pytest plugin).

Syncing the shipped tree costs most of a second (validation, every syncer's queries and writes),
and every test empties the tables afterwards, so a test asking for ``content`` would pay it again.
Instead the first sync of a session into an empty database is recorded row by row
(``SyncSnapshots``), and later tests get those rows put back with one bulk INSERT per table:
the same rows, ids included, as the sync would have written. Synthesized audio lives in the
session's audio cache on disk, which nothing empties, so the rows' audio files stay valid.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, TypeVar

import pytest
import sqlalchemy as sa

from app.config import PROJECT_ROOT
from app.extensions import db
from tests.support.database import tables_with_rows

CONTENT_FOLDERS = ("courses", "exams", "roleplays")
TESTS = Path(__file__).resolve().parents[1]
# The only scenario a speech model exists for here (the pip-installed Korean Vosk model).
KO_SCENARIO = TESTS / "fixtures" / "roleplays" / "ko-thanks-for-waiting.yaml"

Result = TypeVar("Result")


def copy_content(dest: Path, *, with_korean: bool = False) -> Path:
    """A writable copy of the shipped content tree at dest, optionally with the Korean test scenario."""
    for folder in CONTENT_FOLDERS:
        shutil.copytree(PROJECT_ROOT / folder, dest / folder)
    if with_korean:
        shutil.copy(KO_SCENARIO, dest / "roleplays" / KO_SCENARIO.name)
    return dest


def sync_with_korean(app, tmp_path: Path) -> Path:
    """The shipped content plus the Korean test scenario, synced into the test database."""
    from app.content.services import sync_content
    root = copy_content(tmp_path / "content", with_korean=True)
    with app.app_context():
        sync_content(root)
    return root


@dataclass
class TableRows:
    table: sa.Table
    rows: list[dict]

    @classmethod
    def read(cls, connection, table: sa.Table) -> TableRows:
        # JSON columns read back None for both SQL NULL and JSON null; ask which one it was, so the
        # copy writes the same (JSON.NULL forces JSON null; None with none_as_null writes SQL NULL).
        json_columns = [column for column in table.columns if isinstance(column.type, sa.JSON)]
        flags = [column.is_(None).label(f"sql_null_{index}") for index, column in enumerate(json_columns)]
        rows = []
        for row in connection.execute(sa.select(*table.columns, *flags)).mappings():
            values = {column.key: row[column] for column in table.columns}
            for index, column in enumerate(json_columns):
                if values[column.key] is None and not row[f"sql_null_{index}"]:
                    values[column.key] = sa.JSON.NULL
            rows.append(values)
        return cls(table, rows)

    def insert(self, connection) -> None:
        binds = {column.key: sa.bindparam(column.key, type_=sa.JSON(none_as_null=True)
                                          if isinstance(column.type, sa.JSON) else column.type)
                 for column in self.table.columns}
        connection.execute(self.table.insert().values(binds), self.rows)


@dataclass
class Snapshot:
    tables: list[TableRows]  # parents first
    result: object           # what the sync returned

    @property
    def table_set(self) -> set[sa.Table]:
        return {entry.table for entry in self.tables}


class SyncSnapshots:
    """Syncs recorded once per session and put back on demand, keyed by what was synced.

    A snapshot is only taken of a sync into an empty database, and only put back where the
    tables it fills are empty: anywhere else the real sync runs (the rows of a sync into a
    database that already holds content differ)."""

    def __init__(self, app):
        self.app = app
        self.taken: dict[str, Snapshot] = {}

    def synced(self, key: str, sync: Callable[[], Result]) -> Result:
        """sync()'s effect on the database and its result (within the test's app context)."""
        snapshot = self.taken.get(key)
        with self.app.app_context():
            db.session.rollback()
            connection = db.session.connection()
            filled = set(tables_with_rows(connection))
            if snapshot is not None and not filled & snapshot.table_set:
                for entry in snapshot.tables:
                    entry.insert(connection)
                db.session.commit()
                return copy_result(snapshot.result)
            db.session.commit()
        result = sync()
        if snapshot is None and not filled:
            with self.app.app_context():
                connection = db.session.connection()
                tables = [TableRows.read(connection, table) for table in tables_with_rows(connection)]
                db.session.commit()
            self.taken[key] = Snapshot(tables, copy_result(result))
        return result


def copy_result(result):
    """A copy a test may change without changing the recorded one (a SyncReport, a path)."""
    if hasattr(result, "lines"):
        return replace(result, lines=list(result.lines))
    return result


@pytest.fixture(scope="session")
def sync_snapshots(app) -> SyncSnapshots:
    return SyncSnapshots(app)


@pytest.fixture
def content_copy(tmp_path) -> Path:
    """A copy of the shipped content tree that a test may edit and break."""
    return copy_content(tmp_path / "content")


@pytest.fixture(scope="session")
def ko_content_root(tmp_path_factory) -> Path:
    """The shipped content plus the Korean test scenario, copied once (nothing edits it)."""
    return copy_content(tmp_path_factory.mktemp("ko-content"), with_korean=True)


@pytest.fixture
def ko_content(app, ko_content_root, sync_snapshots) -> Path:
    """The shipped content plus the Korean test scenario, synced."""
    from app.content.services import sync_content

    def sync():
        with app.app_context():
            sync_content(ko_content_root)
        return ko_content_root
    return sync_snapshots.synced("shipped+korean", sync)


@pytest.fixture(scope="session")
def shipped_bundle(app):
    """The shipped content tree, validated once per session (about a second each time: the
    tree does not change while the tests run, and nothing writes to a bundle)."""
    from app.content.services import load_bundle
    with app.app_context():
        return load_bundle()


@pytest.fixture
def content(app, shipped_bundle, sync_snapshots):
    """The shipped content (courses/, exams/, roleplays/) synced into the test database; the
    sync's report (what a sync into an empty database reports)."""
    from app.content.services import sync_bundle

    def sync():
        with app.app_context():
            return sync_bundle(shipped_bundle)
    return sync_snapshots.synced("shipped", sync)
