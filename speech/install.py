"""Download, verify and unpack an official small Vosk model."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import ModelDownloadError, ModelInstallError
from .languages import normalize_language
from .models import looks_like_vosk_model

ProgressCallback = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


@dataclass(frozen=True)
class ModelSource:
    url: str
    sha256: str | None


# The alphacephei.com site publishes no checksums. These sha256 values are
# the ones several independent projects pin for the same archives (Yocto
# recipes, installer scripts); this machine cannot reach the site to
# recompute them. A caller can pass its own sha256, and every download is
# verified structurally (valid zip, Vosk layout, safe member names) anyway.
OFFICIAL_MODELS: dict[str, ModelSource] = {
    "zh-CN": ModelSource("https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
                         "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba"),
    "en-US": ModelSource("https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
                         "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"),
}



def official_source(lang: str, *, base_url: str | None = None, sha256: str | None = None) -> ModelSource | None:
    """The official download for ``lang`` (None when there is none), optionally from a mirror.

    ``base_url`` replaces the folder the official file is fetched from (the file name stays, e.g.
    ``<base_url>/vosk-model-small-cn-0.22.zip``); the pinned sha256 still applies unless ``sha256``
    replaces it (for a mirror that serves other files, and for tests).
    """
    source = OFFICIAL_MODELS.get(normalize_language(lang))
    if source is None:
        return None
    url = source.url
    if base_url:
        url = base_url.rstrip("/") + "/" + source.url.rsplit("/", 1)[1]
    return ModelSource(url, sha256 or source.sha256)


# Small models unpack to under 100 MB; anything claiming far more is a zip bomb.
MAX_UNPACKED_BYTES = 2 * 1024 ** 3
_CHUNK = 1 << 16
# Written into every installed model: {"name": zip's top folder, "url": ..., "sha256": ...}.
INSTALLED_FROM = "INSTALLED_FROM.json"


def install_model(lang: str, models_dir: Path, *, url: str | None = None, sha256: str | None = None,
                  timeout: float = 60.0, progress: ProgressCallback | None = None) -> Path:
    """Install the model for ``lang`` into ``models_dir/<lang>`` and return that path.

    Without ``url`` the official small model is used (zh-CN, en-US). An
    existing model there is replaced only once the new one is fully unpacked
    and verified. Raises ModelInstallError on network failure, checksum
    mismatch, a corrupt archive, or an archive that is not a Vosk model.
    """
    lang = normalize_language(lang)
    if url is None:
        source = OFFICIAL_MODELS.get(lang)
        if source is None:
            raise ModelInstallError(f"There is no official download for {lang}; pass --url to a Vosk model zip.")
        url, sha256 = source.url, sha256 or source.sha256
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / lang

    fd, archive_name = tempfile.mkstemp(dir=models_dir, prefix=f".{lang}-", suffix=".zip.part")
    archive = Path(archive_name)
    staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{lang}-unpack-"))
    try:
        with os.fdopen(fd, "wb") as sink:
            digest = _download(url, sink, timeout, progress)
        if sha256 is not None and digest != sha256.strip().lower():
            raise ModelInstallError(f"Checksum mismatch for {url}: expected {sha256.lower()}, got {digest}. "
                                    "The download is corrupt or not the expected file.")
        prefix = _unpack(archive, staging)
        name = prefix.name if prefix is not None else PurePosixPath(url.split("?")[0]).name.removesuffix(".zip")
        (staging / INSTALLED_FROM).write_text(json.dumps({"name": name, "url": url, "sha256": digest}),
                                              encoding="utf-8")
        _swap_into_place(staging, target)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _download(url: str, sink, timeout: float, progress: ProgressCallback | None) -> str:
    """Stream ``url`` into ``sink``; return the sha256 hex digest."""
    digest = hashlib.sha256()
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            while chunk := response.read(_CHUNK):
                sink.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(received, total)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ModelDownloadError(f"Download of {url} failed: {reason}") from exc
    if total is not None and received != total:
        raise ModelDownloadError(f"Download of {url} was cut off: got {received} of {total} bytes.")
    return digest.hexdigest()


def _unpack(archive: Path, staging: Path) -> PurePosixPath | None:
    """Unpack the model into ``staging``; return the folder inside the zip that held it."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            _check_members(members)
            broken = bundle.testzip()
            if broken is not None:
                raise ModelInstallError(f"The model archive is corrupt (bad checksum in {broken}).")
            prefix = _model_prefix([m.filename for m in members])
            for member in members:
                path = PurePosixPath(member.filename)
                if member.is_dir() or (prefix is not None and not path.is_relative_to(prefix)):
                    continue  # folders are made as needed; files beside the model are not needed
                relative = path.relative_to(prefix) if prefix is not None else path
                destination = staging.joinpath(*relative.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, open(destination, "wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"The download is not a valid zip archive ({exc}).") from exc
    if not looks_like_vosk_model(staging):
        raise ModelInstallError("The archive does not contain a Vosk model (no am/final.mdl, conf and graph).")
    return prefix


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    total = 0
    for member in members:
        path = PurePosixPath(member.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or ":" in member.filename:
            raise ModelInstallError(f"Refusing to unpack: unsafe path {member.filename!r} in the archive.")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise ModelInstallError(f"Refusing to unpack: symbolic link {member.filename!r} in the archive.")
        total += member.file_size
    if total > MAX_UNPACKED_BYTES:
        raise ModelInstallError(f"Refusing to unpack: the archive expands to {total / 1e9:.1f} GB.")


def _model_prefix(names: list[str]) -> PurePosixPath | None:
    """The folder inside the zip that holds the model (official zips nest one level)."""
    roots = {path.parent.parent if path.parent.name == "am" else path.parent
             for path in map(PurePosixPath, names) if path.name == "final.mdl"}
    if len(roots) != 1:
        return None  # no or several acoustic models: the layout check will say so
    root = roots.pop()
    return None if root == PurePosixPath(".") else root


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename the unpacked model into place; an old model is moved aside first."""
    retired = None
    if target.exists():
        retired = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-old-"))
        os.replace(target, retired / "model")
    try:
        os.replace(staging, target)
    except OSError:
        if retired is not None:
            os.replace(retired / "model", target)
        raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
