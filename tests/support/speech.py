"""Real Korean speech for the tests (a pytest plugin): espeak-ng recordings like the browser sends,
the phrase the Korean model hears reliably, and silence trimming."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from speech.audio import Audio

KOREAN_PHRASE = "기다려 주셔서 감사합니다"


@pytest.fixture(scope="session")
def korean_speech(tmp_path_factory):
    """Real Korean speech from espeak-ng (16 kHz mono 16-bit WAV, like the browser sends), cached per text."""
    folder = tmp_path_factory.mktemp("ko-speech")
    made: dict[str, bytes] = {}

    def speak(text: str) -> bytes:
        if text not in made:
            raw = folder / f"{len(made)}.wav"
            out = folder / f"{len(made)}-16k.wav"
            subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True, capture_output=True)
            subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True,
                           capture_output=True)
            made[text] = out.read_bytes()
        return made[text]

    return speak


def trim_silence(audio: Audio, threshold: float = 0.01) -> np.ndarray:
    """Samples of ``audio`` without leading and trailing silence (int16)."""
    samples = np.frombuffer(audio.pcm16, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples) > threshold * 32768)
    return samples[loud[0]:loud[-1] + 1]
