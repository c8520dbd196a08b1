"""`flask backup` / `flask restore` on the suite's database kind (SQLite, or PostgreSQL through
pg_dump/pg_restore on throwaway databases), with the recordings/uploads/audio-cache folders."""
from __future__ import annotations

import json
import tarfile
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from app import create_app
from app.accounts.models import User
from app.accounts.services import create_user
from app.extensions import db

FILES = {
    "recordings": {"u1/a1/20260101T000000-abc.wav": b"RIFF-reply-1", "rejected/u1/a1/x.wav": b"not audio"},
    "uploads": {"course/figure.png": b"\x89PNG-figure"},
    "audio-cache": {"zh-CN/line.wav": b"RIFF-line"},
}
FOLDER_KEYS = {"recordings": "RECORDINGS_DIR", "uploads": "UPLOAD_DIR", "audio-cache": "AUDIO_CACHE_DIR"}


def _installation(database, folder: Path):
    url = database.url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": "backup-test", "DATA_DIR": str(folder), "UPLOAD_DIR": str(folder / "uploads"),
        "RECORDINGS_DIR": str(folder / "recordings"), "AUDIO_CACHE_DIR": str(folder / "audio-cache"),
        "VOSK_MODEL_DIR": str(folder / "models"),
    })


def _files(app) -> dict:
    found = {}
    for name, key in FOLDER_KEYS.items():
        root = Path(app.config[key])
        found[name] = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    return found


def _usernames(app) -> list[str]:
    with app.app_context():
        names = sorted(db.session.scalars(sa.select(User.username)))
        db.session.remove()
        return names


def _dispose(*apps) -> None:
    for app in apps:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


def test_backup_restores_into_an_empty_installation_and_refuses_a_full_one_without_force(make_database, tmp_path):
    source = _installation(make_database("source"), tmp_path / "source")
    with source.app_context():
        upgrade(revision="heads")
        create_user("kim", "Kim", ("learner",), password="a-long-password-1", must_change_password=False)
        db.session.commit()
        db.session.remove()
    for name, files in FILES.items():
        for relative, data in files.items():
            path = Path(source.config[FOLDER_KEYS[name]]) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    result = source.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    archive = Path(report["archive"])
    assert archive.parent == tmp_path / "backups" and archive.name.startswith("academy-backup-")
    dialect = "postgresql" if source.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"
    heads = ScriptDirectory(str(Path(__file__).resolve().parents[2] / "migrations")).get_heads()
    assert report["database"]["dialect"] == dialect and report["database"]["revisions"] == heads
    assert report["folders"] == {"recordings": {"files": 2, "bytes": 21}, "uploads": {"files": 1, "bytes": 11},
                                 "audio-cache": {"files": 1, "bytes": 9}}
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json" and report["database"]["file"] in names
    assert "recordings/u1/a1/20260101T000000-abc.wav" in names

    # A new, empty installation: restored as it was.
    target = _installation(make_database("target"), tmp_path / "target")
    runner = target.test_cli_runner()
    result = runner.invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert _usernames(target) == ["kim"]
    assert _files(target) == FILES
    with target.app_context():
        with db.engine.connect() as conn:
            revisions = sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
        assert revisions == report["database"]["revisions"]
        # Restored users can log in: the schema and data are whole.
        create_user("lee", "Lee", ("learner",), password="a-long-password-2", must_change_password=False)
        db.session.commit()
        db.session.remove()
    (Path(target.config["UPLOAD_DIR"]) / "later.txt").write_text("added after the restore")

    # Now it is not empty: refused, and nothing changed.
    result = runner.invoke(args=["restore", str(archive)])
    assert result.exit_code != 0
    assert "not empty" in result.output and "--force" in result.output
    assert _usernames(target) == ["kim", "lee"]

    # --force replaces database and folders with the backup's.
    result = runner.invoke(args=["restore", str(archive), "--force"])
    assert result.exit_code == 0, result.output
    assert _usernames(target) == ["kim"]
    assert _files(target) == FILES

    # Not a backup at all.
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        tar.add(tmp_path / "backups", arcname="something")
    result = runner.invoke(args=["restore", str(bogus), "--force"])
    assert result.exit_code != 0 and "no manifest.json" in result.output
    _dispose(source, target)
