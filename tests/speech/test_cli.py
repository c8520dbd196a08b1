from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from speech.cli import make_speech_cli
from speech.models import SpeechConfig

from .conftest import KOREAN_PHRASE
from .test_install import ModelServer, model_zip


@pytest.fixture
def config(tmp_path):
    return SpeechConfig(model_dir=tmp_path / "models")


@pytest.fixture
def run(config):
    cli = make_speech_cli(lambda: config)
    assert cli.name == "speech"

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args))

    return invoke


def assert_one_line_error(result, fragment: str) -> None:
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()  # download progress may come first
    errors = [line for line in lines if line.startswith("Error: ")]
    assert errors == lines[-1:] and fragment in errors[0], result.stderr


def test_status_lists_models_and_gradable_languages(run, korean_model):
    result = run("status")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {"models": {"zh-CN": None, "en-US": None, "ko-KR": str(korean_model)},
                    "voice_grading": ["ko-KR"]}


def test_install_model_then_status(run, config):
    server = ModelServer()
    server.thread.start()
    try:
        url = server.add("/zh.zip", model_zip())
        result = run("install-model", "zh-CN", "--url", url)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout) == {"lang": "zh-CN", "path": str(config.model_dir / "zh-CN")}
        assert "downloaded" in result.stderr
        assert "zh-CN" in json.loads(run("status").stdout)["voice_grading"]

        bad = run("install-model", "en-US", "--url", url, "--sha256", "00" * 32)
        assert_one_line_error(bad, "Checksum mismatch")
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def test_install_model_without_a_model_folder(korean_model):
    result = CliRunner().invoke(make_speech_cli(lambda: SpeechConfig()), ["install-model", "zh-CN"])
    assert_one_line_error(result, "VOSK_MODEL_DIR")


def test_transcribe_prints_words_with_timings(run, speak):
    wav = speak(KOREAN_PHRASE, "ko")
    result = run("transcribe", str(wav), "--lang", "ko-KR", "--grammar", f"{KOREAN_PHRASE}|안녕하세요")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["text"] == KOREAN_PHRASE
    assert [w["word"] for w in data["words"]] == KOREAN_PHRASE.split()
    assert all(w["start"] < w["end"] for w in data["words"])
    assert data["audio_seconds"] > 1.0 and data["decode_seconds"] > 0


def test_transcribe_errors(run, speak, tmp_path):
    wav = speak("您好", "cmn")
    assert_one_line_error(run("transcribe", str(wav), "--lang", "zh-CN"), "install-model zh-CN")
    text_file = tmp_path / "notes.wav"
    text_file.write_text("not audio")
    assert_one_line_error(run("transcribe", str(text_file), "--lang", "ko-KR"), "not_audio:")
    assert_one_line_error(run("transcribe", str(wav), "--lang", "fr"), "unsupported language")


def test_metrics_prints_json(run, speak, tmp_path):
    result = run("metrics", str(speak("您好，请问有什么可以帮您？", "cmn")))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["duration_s"] > 1 and data["pitch_mean_hz"] > 50 and data["pauses"] == []
    silent = tmp_path / "silent.wav"
    silent.write_bytes(b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>\x00\x00"
                       b"\x00}\x00\x00\x02\x00\x10\x00data\x00\x02\x00\x00" + b"\x00" * 512)
    assert_one_line_error(run("metrics", str(silent)), "silence:")
