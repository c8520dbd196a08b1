"""speech.presence: silence, tones and noise hold no speech; espeak-ng speech does (issue 19 item 4)."""
from __future__ import annotations

import numpy as np
import pytest

from speech.audio import Audio
from speech.presence import detect_speech

RATE = 16000


def _audio(samples: np.ndarray) -> Audio:
    return Audio((np.clip(samples, -1, 32767 / 32768) * 32768).astype("<i2").tobytes())


T = np.arange(RATE * 3) / RATE
RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name, samples, reason", [
    ("silence", np.zeros_like(T), "silence"),
    ("440 Hz tone", 0.5 * np.sin(2 * np.pi * 440 * T), "tone"),
    ("quiet 150 Hz tone", 0.02 * np.sin(2 * np.pi * 150 * T), "tone"),
    ("dial tone 440+480 Hz", 0.25 * np.sin(2 * np.pi * 440 * T) + 0.25 * np.sin(2 * np.pi * 480 * T), "tone"),
    ("beeps", 0.5 * np.sin(2 * np.pi * 440 * T) * (np.sin(2 * np.pi * 2 * T) > 0), "tone"),
    ("chirp", 0.5 * np.sin(2 * np.pi * (200 * T + 50 * T ** 2)), "tone"),
    ("white noise", 0.3 * RNG.standard_normal(len(T)), "noise"),
    ("quiet white noise", 0.01 * RNG.standard_normal(len(T)), "noise"),
])
def test_no_speech(name, samples, reason):
    result = detect_speech(_audio(samples))
    assert not result.speech and result.reason == reason, (name, result)


@pytest.mark.parametrize("text, voice", [("안녕하세요 기다려 주셔서 감사합니다", "ko"), ("네", "ko"),
                                         ("您好，我理解您的心情，我马上帮您查一下", "cmn"),
                                         ("Hello, I understand, let me check that for you", "en")])
def test_speech_is_heard_also_with_some_noise_or_a_tone_behind_it(speak_audio, text, voice):
    audio = speak_audio(text, voice)
    assert detect_speech(audio).speech, detect_speech(audio)
    samples = audio.samples()
    noisy = samples + 0.01 * RNG.standard_normal(len(samples))
    humming = samples + 0.05 * np.sin(2 * np.pi * 440 * np.arange(len(samples)) / RATE)
    assert detect_speech(_audio(noisy)).speech and detect_speech(_audio(humming)).speech
