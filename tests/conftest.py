"""Shared fixtures.

The app under test runs on a real database built by the migrations: SQLite in a
temporary folder by default, or the PostgreSQL database named by TEST_DATABASE_URL
(the test command runs the suite once on each).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.config import PROJECT_ROOT
from app.accounts.models import User
from app.accounts.services import create_user
from app.extensions import db

TEST_PASSWORD = "correct-horse-42"


def _database_url(tmp: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'test.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _reset_postgres(url: str) -> None:
    # A fresh schema each run: the migrations, not leftovers, must build everything.
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("academy")
    url = _database_url(tmp)
    if url.startswith("postgresql"):
        _reset_postgres(url)
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


CONTENT_FOLDERS = ("courses", "exams", "roleplays")
# The only scenario a speech model exists for here (the pip-installed Korean Vosk model).
KO_SCENARIO = Path(__file__).resolve().parent / "fixtures" / "roleplays" / "ko-thanks-for-waiting.yaml"


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


@pytest.fixture
def content_copy(tmp_path) -> Path:
    """A copy of the shipped content tree that a test may edit and break."""
    return copy_content(tmp_path / "content")


@pytest.fixture
def ko_content(app, tmp_path) -> Path:
    """The shipped content plus the Korean test scenario, synced."""
    return sync_with_korean(app, tmp_path)


@pytest.fixture(scope="session")
def korean_speech(tmp_path_factory):
    """Real Korean speech from espeak-ng (16 kHz mono 16-bit WAV, like the browser sends), cached per text."""
    folder = tmp_path_factory.mktemp("ko-speech")
    made: dict[str, bytes] = {}

    def speak(text: str) -> bytes:
        if text not in made:
            raw = folder / f"{len(made)}.wav"
            out = folder / f"{len(made)}-16k.wav"
            subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True, capture_output=True)
            subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True,
                           capture_output=True)
            made[text] = out.read_bytes()
        return made[text]

    return speak


@pytest.fixture(scope="session")
def shipped_bundle(app):
    """The shipped content tree, validated once per session (about a second each time: the
    tree does not change while the tests run, and nothing writes to a bundle)."""
    from app.content.services import load_bundle
    with app.app_context():
        return load_bundle()


@pytest.fixture
def content(app, shipped_bundle):
    """The shipped content (courses/, exams/, roleplays/) synced into the test database.

    Function-scoped because every test empties the tables afterwards; synthesized audio is
    cached on disk for the whole session, so only the first sync pays for text-to-speech.
    """
    from app.content.services import sync_bundle
    with app.app_context():
        return sync_bundle(shipped_bundle)


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that used the app, so tests stay independent."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Create a user with the given roles; password TEST_PASSWORD, no forced change."""
    def make(username: str, *roles: str, must_change_password: bool = False, **fields) -> User:
        with app.app_context():
            user, _ = create_user(username, fields.pop("name", username.title()), roles or ("learner",),
                                  password=TEST_PASSWORD, must_change_password=must_change_password, **fields)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user
    return make


def login_as(client, user: User) -> None:
    """Put a logged-in session in the client's cookie jar without a password round trip."""
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["seen"] = time.time()


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a rendered page like a browser would."""
    response = client.get(path, follow_redirects=True)
    match = CSRF_META.search(response.get_data(as_text=True))
    assert match, f"no csrf meta tag on {path}"
    return match.group(1)
