"""Is there a human voice in a recording at all? Checked before a reply is recognised.

A recogniser limited to a grammar (ko-KR here) hears ANY sound as one of the allowed
phrases, so a 440 Hz tone or white noise would otherwise earn points. Speech has three
properties that steady sounds lack, and the checks use the measures of speech.metrics:
- it is voiced somewhere (a pitch YIN can follow); noise has none;
- its energy rises and falls with the syllables; a tone, a hum, a chirp or noise holds steady;
- its spectrum is peaked (harmonics, formants) at least in its vowels; noise is flat.
Thresholds sit far from both sides: espeak-ng speech (also one syllable, also with noise or a
tone mixed in) measures an energy spread of 3.6 dB or more and a low-percentile spectral
flatness under 0.2; pure and dual tones, chirps, beeps, white and pink noise measure under
2 dB, or over 0.5 flatness, or no pitch at all.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .audio import Audio
from .metrics import FRAME_S, WINDOW, _frames, _voice_activity, _yin

SILENCE, TONE, NOISE = "silence", "tone", "noise"

MIN_VOICED_S = 0.08          # less pitch than this in the whole reply: no voice in it
MIN_ENERGY_SPREAD_DB = 3.0   # syllables move the level by far more than this
MAX_FLATNESS = 0.3           # 20th percentile of the active frames' spectral flatness (white noise ~0.53)
MIN_PITCH_SPREAD_HZ = 1.0    # no voice holds one pitch this exactly for ...
STEADY_PITCH_S = 0.5         # ... this long


@dataclass(frozen=True)
class SpeechPresence:
    speech: bool
    reason: str | None          # silence | tone | noise when there is no speech
    voiced_s: float
    energy_spread_db: float
    flatness: float

    def to_dict(self) -> dict:
        return asdict(self)


def detect_speech(audio: Audio) -> SpeechPresence:
    """Whether the recording holds a human voice; when not, why (silence, tone, noise)."""
    x = audio.samples().astype(np.float64)
    if len(x) < WINDOW:
        return SpeechPresence(False, SILENCE, 0.0, 0.0, 0.0)
    frames = _frames(x, WINDOW)
    energy_db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    loud, active = _voice_activity(energy_db)
    if not active.any():
        return SpeechPresence(False, SILENCE, 0.0, 0.0, 0.0)
    f0 = _yin(x, loud & active)
    voiced = ~np.isnan(f0)
    voiced_s = round(float(voiced.sum() * FRAME_S), 2)
    spread = round(float(np.std(energy_db[active])), 2)
    spectrum = np.abs(np.fft.rfft(frames[active] * np.hanning(WINDOW), axis=1)) ** 2 + 1e-12
    flatness = round(float(np.percentile(np.exp(np.mean(np.log(spectrum), axis=1)) / np.mean(spectrum, axis=1), 20)), 3)

    def verdict(reason: str | None) -> SpeechPresence:
        return SpeechPresence(reason is None, reason, voiced_s, spread, flatness)

    if flatness > MAX_FLATNESS or voiced_s < MIN_VOICED_S:
        return verdict(NOISE)
    if spread < MIN_ENERGY_SPREAD_DB:
        # Steady: mostly pitched is a tone (or hum, chirp, beeps), else a steady noise.
        return verdict(TONE if voiced.sum() >= 0.5 * active.sum() else NOISE)
    values = f0[voiced]
    if voiced_s >= STEADY_PITCH_S and float(np.std(values)) < MIN_PITCH_SPREAD_HZ:
        return verdict(TONE)
    return verdict(None)
