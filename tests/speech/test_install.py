from __future__ import annotations

import hashlib
import io
import json
import random
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from speech.errors import ModelDownloadError, ModelInstallError
from speech.install import OFFICIAL_MODELS, install_model, official_source
from speech.models import SpeechConfig, find_models, looks_like_vosk_model

MODEL_FILES = {"am/final.mdl": b"acoustic model", "conf/mfcc.conf": b"--use-energy=false\n",
               "conf/model.conf": b"--beam=10\n", "graph/HCLG.fst": b"graph", "README": b"tiny"}


def model_zip(files: dict[str, bytes] = MODEL_FILES, top: str = "vosk-model-small-test-0.1/") -> bytes:
    """A zip laid out like the official ones: everything under one top folder."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(top + name, data)
    return out.getvalue()


class ModelServer:
    """Serves in-memory files on 127.0.0.1; ``cut`` paths announce more bytes than they send."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(body) * 2 if self.path in server.cut else len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def add(self, path: str, body: bytes, *, cut: bool = False) -> str:
        self.files[path] = body
        if cut:
            self.cut.add(path)
        return self.url(path)


@pytest.fixture(scope="module")
def server():
    srv = ModelServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir() if p.name.startswith("."))


def test_install_downloads_verifies_and_unpacks(server, tmp_path):
    body = model_zip()
    url = server.add("/good.zip", body)
    seen: list[tuple[int, int | None]] = []
    path = install_model("zh-CN", tmp_path, url=url, sha256=hashlib.sha256(body).hexdigest().upper(),
                         progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "zh-CN"
    assert looks_like_vosk_model(path)
    assert (path / "am" / "final.mdl").read_bytes() == b"acoustic model"
    recorded = json.loads((path / "INSTALLED_FROM.json").read_text())
    assert recorded == {"name": "vosk-model-small-test-0.1", "url": url, "sha256": hashlib.sha256(body).hexdigest()}
    assert seen[-1] == (len(body), len(body))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert leftovers(tmp_path) == []
    assert find_models(SpeechConfig(model_dir=tmp_path))["zh-CN"] == path


def test_flat_zip_without_top_folder(server, tmp_path):
    url = server.add("/flat.zip", model_zip(top=""))
    assert looks_like_vosk_model(install_model("en-US", tmp_path, url=url))


def test_reinstall_replaces_and_failed_install_keeps_the_old_model(server, tmp_path):
    install_model("en-US", tmp_path, url=server.add("/v1.zip", model_zip({**MODEL_FILES, "VERSION": b"1"})))
    install_model("en-US", tmp_path, url=server.add("/v2.zip", model_zip({**MODEL_FILES, "VERSION": b"2"})))
    assert (tmp_path / "en-US" / "VERSION").read_bytes() == b"2"
    with pytest.raises(ModelInstallError):
        install_model("en-US", tmp_path, url=server.add("/junk.zip", b"junk" * 100))
    assert (tmp_path / "en-US" / "VERSION").read_bytes() == b"2"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("case, message", [
    ("checksum", "Checksum mismatch"),
    ("not_zip", "not a valid zip"),
    ("bad_crc", "corrupt"),
    ("cut", "cut off"),
    ("not_model", "does not contain a Vosk model"),
    ("traversal", "unsafe path"),
    ("absolute", "unsafe path"),
    ("missing", "HTTP Error 404|Not Found"),
])
def test_bad_downloads_are_rejected(server, tmp_path, case, message):
    body = model_zip()
    sha256 = None
    if case == "checksum":
        sha256 = hashlib.sha256(b"something else").hexdigest()
    elif case == "not_zip":
        body = b"<html>502 Bad Gateway</html>" * 10
    elif case == "bad_crc":
        noise = random.Random(0).randbytes(5000)  # incompressible, so the member's data is long
        body = bytearray(model_zip({**MODEL_FILES, "am/final.mdl": noise}))
        stored = body.index(b"vosk-model-small-test-0.1/am/final.mdl") + 1000  # inside the member's data
        body[stored] ^= 0xFF
        body = bytes(body)
    elif case == "not_model":
        body = model_zip({"README": b"hello", "data/file.bin": b"x"})
    elif case == "traversal":
        body = model_zip({**MODEL_FILES, "../../evil.txt": b"owned"})
    elif case == "absolute":
        body = model_zip({"/etc/evil.conf": b"owned"}, top="")
    url = server.url("/nothing-here.zip") if case == "missing" else server.add(f"/{case}.zip", body, cut=case == "cut")

    models_dir = tmp_path / "models"
    with pytest.raises(ModelInstallError, match=message):
        install_model("zh-CN", models_dir, url=url, sha256=sha256, timeout=5)
    assert not (models_dir / "zh-CN").exists()
    assert leftovers(models_dir) == []
    assert not (tmp_path / "evil.txt").exists()


def test_network_failure_is_a_clear_error(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ModelDownloadError, match="Download of .* failed"):
        install_model("zh-CN", tmp_path, url=f"http://127.0.0.1:{port}/model.zip", timeout=5)
    assert leftovers(tmp_path) == []


def test_languages_without_official_download_need_a_url(tmp_path):
    with pytest.raises(ModelInstallError, match="no official download for ko-KR"):
        install_model("ko", tmp_path)


def test_official_source_from_a_mirror_keeps_the_file_name_and_the_pin():
    pinned = OFFICIAL_MODELS["zh-CN"]
    assert official_source("zh") == pinned
    mirror = official_source("zh-CN", base_url="http://mirror.local/vosk/")
    assert mirror.url == "http://mirror.local/vosk/vosk-model-small-cn-0.22.zip" and mirror.sha256 == pinned.sha256
    assert official_source("en-US", sha256="ab" * 32).sha256 == "ab" * 32
    assert official_source("ko-KR") is None
