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


# Faster than anyone types what they hear, in characters per minute (as grading.exam.normalise
# counts them): a Chinese typist at 400 is exceptional; alphabetic text counts every letter.
DEFAULT_LISTEN_TYPE_MAX_CPM = {"zh-CN": 400.0, "ko-KR": 400.0, "en-US": 600.0, "*": 600.0}


def _listen_type_max_cpm() -> dict[str, float]:
    """LISTEN_TYPE_MAX_CPM: one number for every language, or "zh-CN=400,en-US=600" (languages not
    named keep their default; "*" is the fallback). Refuse to start on a typo."""
    raw = os.environ.get("LISTEN_TYPE_MAX_CPM", "").strip()
    limits = dict(DEFAULT_LISTEN_TYPE_MAX_CPM)
    if not raw:
        return limits
    try:
        if "=" not in raw:
            return dict.fromkeys(limits, float(raw))
        for part in raw.split(","):
            language, _, value = part.partition("=")
            limits[language.strip()] = float(value)
    except ValueError as exc:
        raise RuntimeError(f"LISTEN_TYPE_MAX_CPM={raw!r} is not a number or a list like zh-CN=400,en-US=600") from exc
    return limits


def _public_base_url() -> str | None:
    """PUBLIC_BASE_URL: the address people reach the app at (printed certificates link to it).

    Links that leave the app (the PDF's verify link and QR code) are built from this, never
    from the request's Host header, which any client can set. Refuse to start on a typo."""
    from urllib.parse import urlsplit
    raw = os.environ.get("PUBLIC_BASE_URL", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise RuntimeError(f"PUBLIC_BASE_URL={raw!r} is not an address like https://academy.example.com")
    return raw.rstrip("/")


def load_config(instance_path: Path) -> dict:
    """Build the configuration mapping for an app whose instance folder is instance_path."""
    data_dir = Path(os.environ.get("ACADEMY_DATA_DIR", instance_path))
    models_dir = os.environ.get("VOSK_MODEL_DIR")
    timezone_name = _timezone()
    public_base_url = _public_base_url()
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
        # Longest text field (form field, JSON body, query string); files are limited by MAX_UPLOAD_MB.
        # Longer ones get 413 (414 in a query string): app.core.limits.
        "MAX_FORM_MEMORY_SIZE": int(os.environ.get("MAX_FIELD_KB", "128")) * 1024,
        "MAX_AUDIO_SECONDS": int(os.environ.get("MAX_AUDIO_SECONDS", "120")),
        "IDLE_TIMEOUT": timedelta(minutes=int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30"))),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # An https public address means browsers reach the app over HTTPS: the cookie must never travel without it.
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE",
                                           bool(public_base_url and public_base_url.startswith("https://"))),
        "PUBLIC_BASE_URL": public_base_url,
        # Login throttling (accounts.throttle): per username from one address, per address for any
        # username, per username from every address; 0 switches one off.
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_ADDRESS_MAX_FAILURES": int(os.environ.get("LOGIN_ADDRESS_MAX_FAILURES", "20")),
        "LOGIN_ACCOUNT_MAX_FAILURES": int(os.environ.get("LOGIN_ACCOUNT_MAX_FAILURES", "50")),
        # Proxies in front of the app (nginx: 1) whose X-Forwarded-For/-Proto are believed: the
        # client's address for login throttling and https for HSTS. 0: the connection's own address.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
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
        # Evidence a person cannot produce that fast: see the README's configuration table.
        "LISTEN_TYPE_MAX_CPM": _listen_type_max_cpm(),
        "LESSON_MIN_READ_SHARE": float(os.environ.get("LESSON_MIN_READ_SHARE", "0.3")),
        "EXAM_MIN_SECONDS_PER_QUESTION": float(os.environ.get("EXAM_MIN_SECONDS_PER_QUESTION", "5")),
        "CALL_MIN_SECONDS_PER_REPLY": float(os.environ.get("CALL_MIN_SECONDS_PER_REPLY", "4")),
    }
