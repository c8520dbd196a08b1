"""app.config built from the settings model (app/settings.py) and the environment.

Everything that differs between a laptop and a call centre's server comes from environment
variables; nothing secret is a literal in the code. Every key, its type, default and meaning is
declared once, in ``app.settings.Settings``; this module only reads the environment through it
and computes the defaults that depend on the instance folder.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from .settings import PROJECT_ROOT, SettingsError, read_environment

__all__ = ["PROJECT_ROOT", "SettingsError", "load_config"]


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY generated once into instance/ and reused (when the environment sets none).

    Reusing the generated key keeps sessions valid across restarts without anyone
    having to invent a secret by hand.
    """
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


def _listen_type_max_cpm() -> dict[str, float]:
    """LISTEN_TYPE_MAX_CPM from the environment alone (a SettingsError on a typo)."""
    return read_environment({"LISTEN_TYPE_MAX_CPM": os.environ.get("LISTEN_TYPE_MAX_CPM", "")}).LISTEN_TYPE_MAX_CPM


def load_config(instance_path: Path, environ=None) -> dict:
    """The configuration mapping for an app whose instance folder is instance_path: every setting
    of the model, read from environ (default: os.environ) and validated; SettingsError names the
    variables with a bad value."""
    settings = read_environment(os.environ if environ is None else environ)
    config = settings.model_dump()
    data_dir = Path(settings.DATA_DIR or instance_path)
    public_base_url = settings.PUBLIC_BASE_URL
    config.update({
        "SECRET_KEY": settings.SECRET_KEY or _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": settings.SQLALCHEMY_DATABASE_URI or f"sqlite:///{instance_path / 'academy.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            # Only meaningful for PostgreSQL.
            **({"pool_size": settings.DB_POOL_SIZE, "max_overflow": settings.DB_MAX_OVERFLOW}
               if settings.SQLALCHEMY_DATABASE_URI else {}),
        },
        "DATA_DIR": str(data_dir),
        "UPLOAD_DIR": settings.UPLOAD_DIR or str(data_dir / "uploads"),
        "RECORDINGS_DIR": settings.RECORDINGS_DIR or str(data_dir / "recordings"),
        "AUDIO_CACHE_DIR": settings.AUDIO_CACHE_DIR or str(data_dir / "audio-cache"),
        "VOSK_MODEL_DIR": settings.VOSK_MODEL_DIR or str(data_dir / "models"),
        # An https public address means browsers reach the app over HTTPS: the cookie must never travel without it.
        "SESSION_COOKIE_SECURE": (settings.SESSION_COOKIE_SECURE if settings.SESSION_COOKIE_SECURE is not None
                                  else bool(public_base_url and public_base_url.startswith("https://"))),
        # Fixed choices for Flask and its extensions (not settings: nobody needs to change them).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead; an exam can run long
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        # Stored times are UTC; pages, exports and PDFs show TIMEZONE (Babel's date filters too).
        "BABEL_DEFAULT_TIMEZONE": settings.TIMEZONE,
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
    })
    return config
