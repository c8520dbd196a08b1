"""The suite's own machinery (tests/support): the catalog check that stops a run early, the table
wipe between tests, and the recorded content syncs that stand in for real ones."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from tests.support import catalogs
from tests.support.catalogs import COMPILE_HINT, uncompiled_catalogs
from tests.support.content import TableRows
from tests.support.database import empty_tables, tables_with_rows


def _catalog(translations: Path, *, compiled: bool | None) -> Path:
    """A messages.po under translations/zh/LC_MESSAGES; compiled: a newer .mo, False: an older one, None: none."""
    folder = translations / "zh" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "messages.po"
    po.write_text('msgid "Home"\nmsgstr "首页"\n', encoding="utf-8")
    if compiled is not None:
        mo = po.with_suffix(".mo")
        mo.write_bytes(b"\xde\x12\x04\x95")
        po_time = po.stat().st_mtime_ns
        shift = 10**9 if compiled else -10**9
        os.utime(mo, ns=(po_time + shift, po_time + shift))
    return po


def test_catalogs_missing_or_older_than_their_source_are_uncompiled(tmp_path):
    missing = _catalog(tmp_path / "missing", compiled=None)
    old = _catalog(tmp_path / "old", compiled=False)
    _catalog(tmp_path / "fresh", compiled=True)
    assert uncompiled_catalogs(tmp_path / "missing") == [missing]
    assert uncompiled_catalogs(tmp_path / "old") == [old]
    assert uncompiled_catalogs(tmp_path / "fresh") == []


def test_a_run_stops_before_any_test_when_the_catalogs_are_not_compiled(tmp_path):
    """A project laid out like this one (app/translations beside tests/support), run by pytest in a subprocess
    (with compiled catalogs this very run is the proof that the check lets a run go on)."""
    support = tmp_path / "tests" / "support"
    support.mkdir(parents=True)
    (tmp_path / "tests" / "__init__.py").write_text("")
    (support / "__init__.py").write_text("")
    (support / "catalogs.py").write_text(Path(catalogs.__file__).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.support.catalogs"]\n')
    ran = tmp_path / "ran"
    (tmp_path / "test_any.py").write_text(f"def test_any():\n    open({str(ran)!r}, 'w').close()\n")
    _catalog(tmp_path / "app" / "translations", compiled=None)

    stopped = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 4, stopped.stdout + stopped.stderr
    assert COMPILE_HINT in stopped.stdout + stopped.stderr
    assert "app/translations/zh/LC_MESSAGES/messages.po" in stopped.stdout + stopped.stderr
    assert not ran.exists()


def _rows(connection) -> dict[str, list[str]]:
    """Every app table's rows, sorted, without what a later sync writes anew: ids (a real sync on
    PostgreSQL numbers rows on from the sequences) and the times of writing (only whether one is set)."""
    dump = {}
    for table in tables_with_rows(connection):
        ids = {column.key for column in table.columns
               if column.primary_key or column.foreign_keys or column.key.endswith("_id")}
        times = {column.key for column in table.columns if isinstance(column.type, sa.DateTime)}
        dump[table.name] = sorted(
            repr({key: ("<set>" if key in times and value is not None else value)
                  for key, value in row.items() if key not in ids})
            for row in TableRows.read(connection, table).rows)
    return dump


def _real_sync(app, bundle):
    from app.content.services import sync_bundle
    with app.app_context():
        return sync_bundle(bundle)


def _emptied(app) -> None:
    with app.app_context():
        empty_tables(db.session.connection())
        db.session.commit()


def _restored(app, sync_snapshots, bundle):
    """The shipped content put back from its recording (recorded first, unless an earlier test did)."""
    _emptied(app)
    sync_snapshots.synced("shipped", lambda: _real_sync(app, bundle))
    _emptied(app)
    return sync_snapshots.synced("shipped", lambda: _real_sync(app, bundle))


def test_the_recorded_content_sync_writes_what_a_real_sync_writes(app, shipped_bundle, sync_snapshots):
    _emptied(app)  # the migrations leave a row behind for the session's first test
    report = _real_sync(app, shipped_bundle)
    with app.app_context():
        synced = _rows(db.session.connection())
    restored_report = _restored(app, sync_snapshots, shipped_bundle)
    with app.app_context():
        restored = _rows(db.session.connection())
    assert restored == synced
    assert {"courses", "roleplay_scenario_versions", "exam_questions", "certification_versions"} <= set(restored)
    assert (restored_report.summary, restored_report.lines) == (report.summary, report.lines)
    restored_report.lines.append("changed by a test")
    assert _restored(app, sync_snapshots, shipped_bundle).lines == report.lines


def test_rows_added_after_a_restore_get_fresh_ids(app, shipped_bundle, sync_snapshots):
    from app.courses.models import Course, Lesson
    _restored(app, sync_snapshots, shipped_bundle)
    with app.app_context():
        course = db.session.scalars(sa.select(Course).order_by(Course.id)).first()
        lesson = course.lessons[0]
        highest = {model: db.session.scalar(sa.select(sa.func.max(model.id))) for model in (Course, Lesson)}
        copy = Course(**{column.key: getattr(course, column.key) for column in Course.__table__.columns
                         if column.key not in ("id", "slug")}, slug="added-after-restore")
        db.session.add(copy)
        db.session.flush()
        added = Lesson(**{column.key: getattr(lesson, column.key) for column in Lesson.__table__.columns
                          if column.key not in ("id", "course_id")}, course_id=copy.id)
        db.session.add(added)
        db.session.commit()
        assert copy.id > highest[Course] and added.id > highest[Lesson]


def test_the_wipe_empties_exactly_the_tables_that_hold_rows(app, make_user, content):
    make_user("zhang", "learner")
    with app.app_context():
        connection = db.session.connection()
        filled = {table.name for table in tables_with_rows(connection)}
        counted = {table.name for table in db.metadata.sorted_tables
                   if connection.scalar(sa.select(sa.func.count()).select_from(table))}
        assert filled == counted and {"users", "courses"} <= filled
        empty_tables(connection)
        db.session.commit()
        assert tables_with_rows(db.session.connection()) == []
