"""The settings model (app/settings.py): types, defaults, bad values, unknown keys, the README's table,
and that the domains read only settings the model declares (and never the environment themselves)."""
from __future__ import annotations

import ast
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from app.config import load_config
from app.settings import (
    FIELDS, README, TABLE_BEGIN, TABLE_END, SettingsError, env_name, is_known_key, read_environment, readme_table,
    unknown_environment, unknown_keys,
)

APP_DIR = Path(__file__).resolve().parents[3] / "app"
# The only modules that read the environment: the model and the loader (create_app warns of unknown
# variables; jobs/backup.py hands the whole environment to pg_dump).
READS_ENVIRONMENT = {"settings.py", "config.py"}


def _minimal_config(tmp_path: Path) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'settings.db'}",
            "SECRET_KEY": "settings-test", "DATA_DIR": str(tmp_path), "UPLOAD_DIR": str(tmp_path / "uploads"),
            "RECORDINGS_DIR": str(tmp_path / "recordings"), "AUDIO_CACHE_DIR": str(tmp_path / "audio-cache"),
            "VOSK_MODEL_DIR": str(tmp_path / "models")}


@pytest.fixture
def clean_environment(monkeypatch):
    """No setting of the app in the environment (whatever the shell running the tests exports)."""
    for name in {env_name(key) for key in FIELDS} - {None}:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- types and defaults -----------------------------------------------------------------------------

def test_defaults_are_the_documented_ones(clean_environment, tmp_path):
    config = load_config(tmp_path)
    assert config["GRADING_RETRIES"] == 3 and isinstance(config["GRADING_RETRIES"], int)
    assert config["GRADING_QUEUE"] == "grading" and config["GRADING_CLAIM_TIMEOUT"] == 150.0
    assert config["JOBS_SWEEP_INTERVAL"] == 10.0 and config["JOBS_RECEIVED_GRACE"] == 15.0
    assert config["JOBS_PROCESSES"] == 1 and config["PRELOAD_SPEECH_MODELS"] == ""
    assert config["IDLE_TIMEOUT"] == timedelta(minutes=30) and config["LOGIN_LOCKOUT"] == timedelta(minutes=15)
    assert config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024 and config["MAX_FORM_MEMORY_SIZE"] == 128 * 1024
    assert config["VOSK_GRAMMAR_LANGUAGES"] == ("ko-KR",) and config["VOSK_MODEL_SHA256"] == {}
    assert config["ACADEMY_FETCH_MODELS"] is True and config["TEAM_TRAINERS_SEE_ALL"] is False
    assert config["STREAMS_MAX"] == 32 and config["STREAM_IDLE_SECONDS"] == 10.0
    assert config["RECORDINGS_PENDING_MAX_MB"] == 50.0 and config["RECOVER_ON_START_SECONDS"] == 60.0
    assert config["MAIL_FROM"] == "academy@localhost" and config["MAIL_SERVER"] is None
    assert config["APP_VERSION"] == "0.1.0" and config["CERT_FONT_PATH"].endswith("wqy-zenhei.ttc")
    assert config["LISTEN_TYPE_MAX_CPM"]["zh-CN"] == 400 and config["TIMEZONE"] == "Asia/Shanghai"
    # Computed from the instance folder: the data folders, the database, a generated secret key.
    assert config["RECORDINGS_DIR"] == str(tmp_path / "recordings")
    assert config["VOSK_MODEL_DIR"] == str(tmp_path / "models")
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'academy.db'}"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}
    assert config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert "SYNC_CONTENT_ON_START" not in config  # read by nothing: gone


def test_environment_values_are_converted_to_their_types(clean_environment, tmp_path):
    for name, value in {"GRADING_RETRIES": " 5 ", "IDLE_TIMEOUT_MINUTES": "5", "MAX_UPLOAD_MB": "2",
                        "MAIL_USE_TLS": "yes", "ACADEMY_FETCH_MODELS": "0", "VOSK_GRAMMAR_LANGUAGES": "ko-KR, zh-CN",
                        "DATABASE_URL": "postgres://academy@db.example/academy", "DB_POOL_SIZE": "7",
                        "ACADEMY_DATA_DIR": str(tmp_path / "data"), "MAIL_PASSWORD": " spaced ",
                        "STREAMS_MAX": "4", "TEAM_TRAINERS_SEE_ALL": "on"}.items():
        clean_environment.setenv(name, value)
    config = load_config(tmp_path)
    assert config["GRADING_RETRIES"] == 5 and config["IDLE_TIMEOUT"] == timedelta(minutes=5)
    assert config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    assert config["MAIL_USE_TLS"] is True and config["ACADEMY_FETCH_MODELS"] is False
    assert config["VOSK_GRAMMAR_LANGUAGES"] == ("ko-KR", "zh-CN") and config["TEAM_TRAINERS_SEE_ALL"] is True
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://academy@db.example/academy"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True, "pool_size": 7, "max_overflow": 10}
    assert config["UPLOAD_DIR"] == str(tmp_path / "data" / "uploads") and config["STREAMS_MAX"] == 4
    assert config["MAIL_PASSWORD"] == " spaced "  # secrets are taken exactly as written


def test_an_empty_variable_keeps_the_default():
    assert read_environment({"GRADING_RETRIES": "", "MAIL_PORT": "  "}).GRADING_RETRIES == 3


# --- bad values stop start-up; unknown ones are warned ----------------------------------------------------

def test_a_bad_value_stops_start_up_naming_the_variable(clean_environment, tmp_path):
    from app import create_app
    clean_environment.setenv("GRADING_RETRIES", "abc")
    with pytest.raises(SettingsError, match=r"^GRADING_RETRIES='abc' is not a whole number$"):
        create_app(_minimal_config(tmp_path))


def test_every_bad_value_is_reported_at_once_by_its_variables_name():
    with pytest.raises(SettingsError) as caught:
        read_environment({"IDLE_TIMEOUT_MINUTES": "half an hour", "MAIL_USE_TLS": "maybe", "MAIL_TIMEOUT": "soon",
                          "VOSK_MODEL_SHA256": "zh-CN=abc", "PUBLIC_BASE_URL": "academy.example.com"})
    message = str(caught.value)
    assert "IDLE_TIMEOUT_MINUTES='half an hour' is not a whole number of minutes" in message
    assert "MAIL_USE_TLS='maybe' is not on or off" in message
    assert "MAIL_TIMEOUT='soon' is not a number" in message
    assert "VOSK_MODEL_SHA256='zh-CN=abc' is not a list of LANG=<64 hex digits>" in message
    assert "PUBLIC_BASE_URL='academy.example.com' is not an address like https://academy.example.com" in message


def test_unknown_keys_and_variables_are_warned_not_fatal(clean_environment, tmp_path, caplog):
    from app import create_app
    clean_environment.setenv("GRADING_RETRYS", "5")
    clean_environment.setenv("ACADEMY_FETCH_MODEL", "0")
    clean_environment.setenv("GUNICORN_THREADS", "2")  # gunicorn's own: not the app's prefix, not warned
    config = _minimal_config(tmp_path) | {"WTF_CSRF_ENABLED": False, "LESSON_MIN_READ_SHARE": 0,
                                          "STREAM_IDLE_SECONDS_": 3}
    with caplog.at_level(logging.WARNING):
        app = create_app(config)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "settings:" in r.getMessage()]
    assert any("GRADING_RETRYS is not a setting of the app (did you mean GRADING_RETRIES?)" in w for w in warnings)
    assert any("ACADEMY_FETCH_MODEL is not a setting of the app (did you mean ACADEMY_FETCH_MODELS?)" in w
               for w in warnings)
    assert any("STREAM_IDLE_SECONDS_ passed to create_app is not a setting of the app (did you mean "
               "STREAM_IDLE_SECONDS?)" in w for w in warnings)
    assert len(warnings) == 3, warnings  # known keys (Flask's, the extensions', the model's) are not warned
    assert app.config["GRADING_RETRIES"] == 3 and app.config["LESSON_MIN_READ_SHARE"] == 0


def test_what_is_unknown():
    assert unknown_environment({"MAIL_SERVR": "x", "MAIL_SERVER": "x", "HOME": "/root", "VOSK_X": "1"}) == \
        ["MAIL_SERVR", "VOSK_X"]
    assert unknown_keys({"TESTING": True, "SQLALCHEMY_ECHO": True, "SESSION_COOKIE_NAME": "s",
                         "REDIS_URL": None, "IDLE_TIMEOUT": timedelta(1), "REDIS_ULR": None}) == ["REDIS_ULR"]


# --- the README's table -------------------------------------------------------------------------------

def _readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    assert TABLE_BEGIN in text and TABLE_END in text, "README.md lost the settings table's markers"
    return text[text.index(TABLE_BEGIN):text.index(TABLE_END) + len(TABLE_END)]


def test_the_readme_table_names_every_setting_and_no_other():
    named = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", _readme_table(), flags=re.MULTILINE))
    expected = {env_name(key) or key for key in FIELDS}
    assert not expected - named, f"missing from the README's settings table: {sorted(expected - named)} " \
                                 "(run .venv/bin/python scripts/settings_table.py --write)"
    assert not named - expected, f"the README's settings table names what the model lacks: {sorted(named - expected)}"


def test_the_readme_table_is_the_generated_one():
    assert _readme_table() == readme_table(), \
        "the README's settings table differs from app/settings.py: run .venv/bin/python scripts/settings_table.py --write"


def test_every_setting_has_a_type_default_and_description():
    for key, field in FIELDS.items():
        assert field.annotation is not None and field.description, key
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", key)
    names = [env_name(key) for key in FIELDS if env_name(key)]
    assert len(names) == len(set(names)), "two settings read the same environment variable"


# --- the domains read only declared settings, never the environment ----------------------------------------

def _is_config(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "config") or \
        (isinstance(node, ast.Attribute) and node.attr == "config")


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _modules():
    for path in sorted(APP_DIR.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_the_walk_finds_config_reads():
    tree = ast.parse('x = app.config["A"]; y = current_app.config.get("B", 1); config = {}; z = config["C"]\n'
                     'app.config.setdefault("D", 2)')
    found = {key for node in ast.walk(tree) for key in _config_keys(node)}
    assert found == {"A", "B", "C", "D"}


def _config_keys(node: ast.AST):
    if isinstance(node, ast.Subscript) and _is_config(node.value) and _string(node.slice):
        yield _string(node.slice)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr in ("get", "setdefault", "pop") and _is_config(node.func.value) and node.args and \
            _string(node.args[0]):
        yield _string(node.args[0])


def test_domains_read_only_settings_the_model_declares():
    undeclared = [f"{path.relative_to(APP_DIR.parent)}:{node.lineno}: {key}"
                  for path, tree in _modules() for node in ast.walk(tree) for key in _config_keys(node)
                  if not is_known_key(key)]
    assert not undeclared, "app.config keys the settings model (app/settings.py) does not declare:\n" + \
        "\n".join(undeclared)


def test_keys_read_by_name_lists_are_settings():
    from app.demo.agent import SPEED_CHECKS
    from app.jobs.backup import FOLDERS
    from app.roleplays.streaming import SETTINGS as STREAM_SETTINGS
    from app.speechops import MODEL_PATH_SETTINGS
    for key in (*SPEED_CHECKS, *FOLDERS.values(), *STREAM_SETTINGS, *MODEL_PATH_SETTINGS.values()):
        assert key in FIELDS, key


def _environment_reads(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "getenv":
            yield node.lineno, "os.getenv"
        elif isinstance(node, ast.Attribute) and node.attr in ("get", "setdefault") and \
                isinstance(node.value, ast.Attribute) and node.value.attr == "environ":
            yield node.lineno, f"os.environ.{node.attr}"
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "environ":
            yield node.lineno, "os.environ[...]"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault" \
                and _is_config(node.func.value):
            yield node.lineno, "app.config.setdefault"


def test_no_domain_reads_the_environment_or_sets_defaults_itself():
    found = [f"{path.relative_to(APP_DIR.parent)}:{line}: {what}" for path, tree in _modules()
             if path.relative_to(APP_DIR).as_posix() not in READS_ENVIRONMENT
             for line, what in _environment_reads(tree)]
    assert not found, "settings belong in app/settings.py (domains read app.config[...]):\n" + "\n".join(found)


def test_the_settings_model_sits_at_the_bottom():
    """app/settings.py imports no domain, not the app and not Flask: every layer may read it."""
    tree = ast.parse((APP_DIR / "settings.py").read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {("." * node.level) + (node.module or "") for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    allowed = {"__future__", "difflib", "re", "datetime", "pathlib", "typing", "pydantic", "zoneinfo",
               "urllib.parse", "speech.languages"}
    assert imported <= allowed, sorted(imported - allowed)
