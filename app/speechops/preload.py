"""Loading speech models before a server forks, so its processes share one copy.

A Vosk model is ~0.5 GB once loaded and read-only afterwards. Loaded in gunicorn's master
(preload_app) or in the worker supervisor, it is inherited by every forked process
copy-on-write: N processes hold one copy instead of N (bench/memory.py measures it).
Opt-in, because each model costs its memory even where it is never used.
"""
from __future__ import annotations

import time

from speech.languages import normalize_language


def parse_languages(spec: str | None, app) -> list[str]:
    """"" or None → none; "installed" → every language with a model here; else "ko-KR,zh-CN"."""
    spec = (spec or "").strip()
    if not spec or spec.lower() in {"0", "no", "none", "off", "false"}:
        return []
    if spec.lower() in {"installed", "all"}:
        from . import services as speech
        with app.app_context():
            return sorted(speech.voice_languages(app))
    return [normalize_language(part) for part in spec.split(",") if part.strip()]


def preload_speech_models(app, spec: str | None) -> dict[str, float]:
    """Load the models named by spec into the app's registry; {language: seconds taken}."""
    from . import services as speech

    loaded: dict[str, float] = {}
    for language in parse_languages(spec, app):
        started = time.perf_counter()
        speech.registry(app).model(language)
        loaded[language] = round(time.perf_counter() - started, 2)
    return loaded
