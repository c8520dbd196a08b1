"""`flask backup DEST` / `flask restore SRC`: the database and the data folders in one tar.gz.

The archive holds ``manifest.json`` (first), the database — ``database.sqlite3`` made with
SQLite's online backup API (consistent while the app runs), or ``database.pgdump`` made by
``pg_dump --format=custom`` — and the folders recordings/, uploads/ and audio-cache/. Speech
models are not included (reinstall them with `flask speech install-model`).

Restore refuses a target that already has tables or files unless --force; with --force the
database is emptied first (PostgreSQL: the public schema is dropped and recreated) and the
folders' contents are replaced. Stop the web and worker processes while restoring.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from ..core.errors import UserError
from ..extensions import db

FORMAT = "agent-academy-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FOLDERS = {"recordings": "RECORDINGS_DIR", "uploads": "UPLOAD_DIR", "audio-cache": "AUDIO_CACHE_DIR"}
DB_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(UserError):
    """Backup or restore refused or failed; the message says why and what to do.

    Raised on the command line only (`flask backup`/`flask restore` print it), so its messages are
    for operators, in English like the rest of the command line's output."""

    code = "backup_refused"
    status = 409


# --- database helpers ------------------------------------------------------------------------

def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _dialect(url) -> str:
    name = url.get_backend_name()
    if name not in DB_FILES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _libpq(url) -> tuple[str, dict]:
    """A libpq URL for pg_dump/pg_restore (no password in the command line) and its environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian package postgresql-client, version at least "
                          f"the server's)")
    return path


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def _revisions() -> list[str]:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return []
        return sorted(row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version")))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_stats(folder: Path) -> dict:
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


# --- backup ----------------------------------------------------------------------------------

def backup(dest: str | Path) -> tuple[Path, dict]:
    """Write the archive; DEST is a file name ending .tar.gz, or a folder (made if needed) where a
    dated name is chosen."""
    url = _url()
    dialect = _dialect(url)
    stamp = datetime.now(timezone.utc)
    dest = Path(dest)
    if dest.is_dir() or not dest.name.endswith((".tar.gz", ".tgz")):
        dest = dest / f"academy-backup-{stamp:%Y%m%dT%H%M%SZ}.tar.gz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".academy-backup-", dir=dest.parent) as work:
        dump = Path(work) / DB_FILES[dialect]
        if dialect == "sqlite":
            source = sqlite3.connect(_sqlite_path(url))
            target = sqlite3.connect(dump)
            try:
                source.backup(target)  # online backup: a consistent copy while others write
            finally:
                target.close()
                source.close()
        else:
            libpq, env = _libpq(url)
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump),
                  "--dbname", libpq], env)
        folders = {name: Path(current_app.config[key]) for name, key in FOLDERS.items()}
        manifest = {
            "format": FORMAT, "version": FORMAT_VERSION, "created_at": stamp.isoformat(timespec="seconds"),
            "database": {"dialect": dialect, "file": dump.name, "bytes": dump.stat().st_size,
                         "sha256": _sha256(dump), "revisions": _revisions()},
            "folders": {name: _folder_stats(path) for name, path in folders.items()},
        }
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(stamp.timestamp()), 0o644
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname=dump.name)
            for name, path in folders.items():
                if path.is_dir():
                    archive.add(path, arcname=name)
        os.replace(partial, dest)  # never half an archive under the final name
    return dest, manifest


# --- restore ---------------------------------------------------------------------------------

def read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        member = archive.getmember(MANIFEST)
    except KeyError:
        raise BackupError("not an Agent Academy backup (no manifest.json)") from None
    manifest = json.loads(archive.extractfile(member).read())
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r} version {manifest.get('version')!r}")
    return manifest


def target_contents() -> list[str]:
    """What the restore would overwrite: tables in the database, files in the folders."""
    found = []
    tables = inspect(db.engine).get_table_names()
    if tables:
        found.append(f"the database has {len(tables)} table(s)")
    for name, key in FOLDERS.items():
        stats = _folder_stats(Path(current_app.config[key]))
        if stats["files"]:
            found.append(f"{name}/ holds {stats['files']} file(s) ({current_app.config[key]})")
    return found


def restore(src: str | Path, *, force: bool = False) -> dict:
    url = _url()
    dialect = _dialect(url)
    src = Path(src)
    with tarfile.open(src, "r:gz") as archive:
        manifest = read_manifest(archive)
        if manifest["database"]["dialect"] != dialect:
            raise BackupError(f"this backup is of a {manifest['database']['dialect']} database; the configured "
                              f"database is {dialect}")
        existing = target_contents()
        if existing and not force:
            raise BackupError("the target is not empty (" + "; ".join(existing) + "). Restore into an empty "
                              "database and empty folders, or pass --force to replace them.")
        scratch_root = Path(current_app.config["RECORDINGS_DIR"]).parent
        scratch_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".academy-restore-", dir=scratch_root) as work:
            archive.extractall(work, filter="data")
            work = Path(work)
            dump = work / manifest["database"]["file"]
            if _sha256(dump) != manifest["database"]["sha256"]:
                raise BackupError("the database file in the archive is damaged (checksum mismatch)")
            for name, stats in manifest["folders"].items():
                if _folder_stats(work / name)["files"] != stats["files"]:
                    raise BackupError(f"the archive's {name}/ folder is incomplete")
            _restore_database(url, dialect, dump)
            for name, key in FOLDERS.items():
                _replace_folder(work / name, Path(current_app.config[key]))
    return manifest


def _restore_database(url, dialect: str, dump: Path) -> None:
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()
    if dialect == "sqlite":
        source = sqlite3.connect(dump)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            source.backup(target)  # replaces every page of the target, tables it had included
        finally:
            target.close()
            source.close()
        return
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.engine.dispose()
    libpq, env = _libpq(url)
    _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          "--dbname", libpq, str(dump)], env)


def _replace_folder(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if source.is_dir():
        for child in source.iterdir():
            shutil.move(str(child), target / child.name)
