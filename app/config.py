"""Configuration read from the environment, with safe defaults.

Everything that differs between a laptop and a call centre's server comes from
environment variables; nothing secret is a literal in the code.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else generated once into instance/ and reused.

    Reusing the generated key keeps sessions valid across restarts without anyone
    having to invent a secret by hand.
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance_path / 'academy.db'}"
    # Heroku-style URLs and plain postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _timezone() -> str:
    """TIMEZONE (an IANA name) for everything people read; refuse to start on a typo."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    name = os.environ.get("TIMEZONE", "Asia/Shanghai").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuntimeError(f"TIMEZONE={name!r} is not a known time zone (examples: Asia/Shanghai, UTC)") from exc
    return name


def load_config(instance_path: Path) -> dict:
    """Build the configuration mapping for an app whose instance folder is instance_path."""
    data_dir = Path(os.environ.get("ACADEMY_DATA_DIR", instance_path))
    models_dir = os.environ.get("VOSK_MODEL_DIR")
    timezone_name = _timezone()
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            # Only meaningful for PostgreSQL; documented in the README.
            **({"pool_size": int(os.environ.get("DB_POOL_SIZE", "5")),
                "max_overflow": int(os.environ.get("DB_MAX_OVERFLOW", "10"))}
               if os.environ.get("DATABASE_URL") else {}),
        },
        "DATA_DIR": str(data_dir),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(data_dir / "uploads")),
        "RECORDINGS_DIR": os.environ.get("RECORDINGS_DIR", str(data_dir / "recordings")),
        "AUDIO_CACHE_DIR": os.environ.get("AUDIO_CACHE_DIR", str(data_dir / "audio-cache")),
        "CONTENT_ROOT": os.environ.get("CONTENT_ROOT", str(PROJECT_ROOT)),
        "VOSK_MODEL_DIR": models_dir or str(data_dir / "models"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "16")) * 1024 * 1024,
        "MAX_AUDIO_SECONDS": int(os.environ.get("MAX_AUDIO_SECONDS", "120")),
        "IDLE_TIMEOUT": timedelta(minutes=int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30"))),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCKOUT": timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead; an exam can run long
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        # Stored times are UTC; pages, exports and PDFs show this zone (Babel's date filters too).
        "TIMEZONE": timezone_name,
        "BABEL_DEFAULT_TIMEZONE": timezone_name,
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "DEMO_MODE": _env_bool("DEMO_MODE", False),
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "SYNC_CONTENT_ON_START": _env_bool("SYNC_CONTENT_ON_START", False),
    }
