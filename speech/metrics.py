"""Delivery metrics from the audio alone (no language model).

All measures work on 10 ms frames of 16 kHz mono audio:
- voice activity: frame energy against a threshold set from the recording's
  own loudest frames and noise floor, so a quiet microphone is not "silent";
- pitch: YIN (de Cheveigné & Kawahara 2002) on active frames;
- speaking rate, in the units trainers use (characters per minute for
  Chinese and Korean, words per minute for English), from what was said:
  the recogniser's words over their voiced time (first word to last word
  minus pauses of RATE_PAUSE_S or more), or a given text over the voiced time
  the audio shows. Without words the fallback is syllable nuclei, i.e. peaks
  of the voiced-band energy envelope separated by dips (after de Jong &
  Wempe 2009; syllables per second); it underestimates fast speech (espeak-ng
  at 120 and 220 wpm, 1.83x faster, measures only 1.30x faster), which is
  why the words come first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .audio import Audio

HOP = 160  # 10 ms
WINDOW = 400  # 25 ms
FRAME_S = HOP / 16000

PAUSE_MIN_S = 1.5
# Silences this long or longer are left out of the time a rate is measured over
# (breaths and thinking are not slow speech); shorter gaps between words count.
RATE_PAUSE_S = 0.3

CHARS_PER_MIN = "chars/min"  # Chinese and Korean: each Han character or Hangul syllable
WORDS_PER_MIN = "words/min"  # English
_UNIT_OF_LANGUAGE = {"zh-CN": CHARS_PER_MIN, "ko-KR": CHARS_PER_MIN, "en-US": WORDS_PER_MIN}
_SYLLABIC_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
_NOT_SPEECH_TOKENS = {"[unk]", "<unk>"}

# Voice activity: a frame is speech when it is within 35 dB of the loudest
# frames, 10 dB above the noise floor, and above an absolute floor.
_ACTIVE_BELOW_PEAK_DB = 35.0
_ACTIVE_ABOVE_NOISE_DB = 10.0
_ACTIVE_FLOOR_DBFS = -55.0
_MIN_BURST_FRAMES = 3  # shorter blips (clicks) are not speech
_BRIDGE_FRAMES = 15  # gaps under 150 ms (stop closures) stay inside speech

# Pitch search range covers low male to high female/child voices.
F0_MIN_HZ = 50.0
F0_MAX_HZ = 500.0
_YIN_WINDOW = 512
_YIN_THRESHOLD = 0.2

# Syllable nuclei: envelope peaks at least 2 dB above the dip before them.
_NUCLEUS_DIP_DB = 2.0
_NUCLEUS_MIN_GAP_FRAMES = 8  # 80 ms: no language packs syllables tighter
_BAND_HZ = (300.0, 2500.0)  # vowels carry their energy here; fricatives mostly above


@dataclass(frozen=True)
class Pause:
    start_s: float
    duration_s: float


@dataclass(frozen=True)
class DeliveryMetrics:
    duration_s: float
    speech_onset_s: float | None
    active_speech_ratio: float
    pauses: list[Pause] = field(default_factory=list)
    loudness_dbfs: float | None = None
    pitch_mean_hz: float | None = None
    pitch_spread_hz: float | None = None
    syllable_count: int = 0
    speaking_rate_sps: float | None = None
    # From what was said (see speaking_rate_from_words / compute_metrics(text=...)):
    speaking_rate: float | None = None  # per minute, in speaking_rate_unit
    speaking_rate_unit: str | None = None  # "chars/min" or "words/min"
    speaking_rate_basis: str | None = None  # "transcript" (recognised words) or "text" (given text)
    voiced_s: float | None = None  # the time the rate is measured over

    def to_dict(self) -> dict:
        return asdict(self)


def rate_unit(language: str | None, text: str = "") -> str:
    """chars/min for zh-CN and ko-KR, words/min for en-US; without a language, from the text."""
    if language in _UNIT_OF_LANGUAGE:
        return _UNIT_OF_LANGUAGE[language]
    return CHARS_PER_MIN if _SYLLABIC_CHAR.search(text) else WORDS_PER_MIN


def count_units(text: str, unit: str) -> int:
    """Characters (Han, Hangul; a Latin word inside counts as one) or words in ``text``."""
    if unit == CHARS_PER_MIN:
        return len(_SYLLABIC_CHAR.findall(text)) + len(_LATIN_WORD.findall(_SYLLABIC_CHAR.sub(" ", text)))
    return len(_LATIN_WORD.findall(text))


def _word_fields(word) -> tuple[str, float, float]:
    if isinstance(word, Mapping):
        return str(word["word"]), float(word["start"]), float(word["end"])
    if isinstance(word, tuple):
        text, start, end = word[:3]
        return str(text), float(start), float(end)
    return str(word.word), float(word.start), float(word.end)


def voiced_seconds_from_words(words: Iterable) -> float:
    """First word's start to last word's end, minus gaps between words of RATE_PAUSE_S or more."""
    spans = sorted((start, end) for _, start, end in map(_word_fields, words) if end > start)
    if not spans:
        return 0.0
    total, reach = 0.0, None
    for start, end in spans:
        if reach is None or start - reach >= RATE_PAUSE_S:
            total += end - start  # a new stretch of speech
        elif end > reach:
            total += end - reach  # continues the stretch (short gaps count as speech)
        else:
            continue
        reach = end if reach is None else max(reach, end)
    return total


def speaking_rate_from_words(words: Iterable, language: str | None = None) -> dict:
    """The rate fields of DeliveryMetrics from recognised words with timings (Vosk ``result`` entries
    or asr.Word); {} when no word was recognised. Each word's text is counted in the language's unit."""
    spoken = [w for w in map(_word_fields, words) if w[0].strip().lower() not in _NOT_SPEECH_TOKENS]
    text = " ".join(word for word, _, _ in spoken)
    unit = rate_unit(language, text)
    units = count_units(text, unit)
    seconds = voiced_seconds_from_words(spoken)
    if not units or seconds <= 0:
        return {}
    return {"speaking_rate": round(units / seconds * 60, 1), "speaking_rate_unit": unit,
            "speaking_rate_basis": "transcript", "voiced_s": round(seconds, 2)}


def _voiced_seconds_from_activity(active: np.ndarray) -> float:
    """Speech time in the audio: first to last active frame, minus silences of RATE_PAUSE_S or more."""
    runs = _runs(active)
    if not runs:
        return 0.0
    span = (runs[-1][1] - runs[0][0]) * FRAME_S
    gaps = ((nxt - end) * FRAME_S for (_, end), (nxt, _) in zip(runs, runs[1:]))
    return span - sum(g for g in gaps if g >= RATE_PAUSE_S)


def compute_metrics(audio: Audio, *, words: Iterable | None = None, text: str | None = None,
                    language: str | None = None) -> DeliveryMetrics:
    """Measure delivery of one recording; silent input gives None for speech-only measures.

    ``words`` (recognised words with start/end seconds) give the speaking rate from what was said;
    otherwise ``text`` stands in for the transcript, spread over the voiced time found in the audio.
    ``language`` (zh-CN, en-US, ko-KR) picks the unit; without it the text decides.
    """
    metrics = _audio_metrics(audio)
    rate = speaking_rate_from_words(words, language) if words else {}
    if not rate and text and text.strip() and metrics.voiced_s:
        unit = rate_unit(language, text)
        units = count_units(text, unit)
        if units:
            rate = {"speaking_rate": round(units / metrics.voiced_s * 60, 1), "speaking_rate_unit": unit,
                    "speaking_rate_basis": "text", "voiced_s": metrics.voiced_s}
    return replace(metrics, **rate) if rate else metrics


def _audio_metrics(audio: Audio) -> DeliveryMetrics:
    x = audio.samples().astype(np.float64)
    duration = round(audio.duration_s, 3)
    if len(x) < WINDOW:
        return DeliveryMetrics(duration_s=duration, speech_onset_s=None, active_speech_ratio=0.0)
    frames = _frames(x, WINDOW)
    energy_db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    loud, active = _voice_activity(energy_db)
    if not active.any():
        return DeliveryMetrics(duration_s=duration, speech_onset_s=None, active_speech_ratio=0.0)

    runs = _runs(active)
    onset = runs[0][0] * FRAME_S
    pauses = [Pause(round(end * FRAME_S, 2), round((nxt - end) * FRAME_S, 2))
              for (_, end), (nxt, _) in zip(runs, runs[1:]) if (nxt - end) * FRAME_S >= PAUSE_MIN_S]
    loudness = 10 * np.log10(np.mean(frames[active] ** 2) + 1e-12)

    f0 = _yin(x, loud & active)  # bridged gaps may be digital silence: no pitch there
    voiced = ~np.isnan(f0)
    pitch_mean = pitch_spread = None
    if voiced.sum() >= 5:
        values = f0[voiced]
        median = np.median(values)
        values = values[(values > median / 1.8) & (values < median * 1.8)]  # drop octave errors
        pitch_mean, pitch_spread = round(float(values.mean()), 1), round(float(values.std()), 1)

    nuclei = _syllable_nuclei(frames, active, voiced)
    speech_seconds = active.sum() * FRAME_S
    return DeliveryMetrics(
        duration_s=duration,
        speech_onset_s=round(onset, 2),
        active_speech_ratio=round(float(active.sum()) / len(active), 3),
        pauses=pauses,
        loudness_dbfs=round(float(loudness), 1),
        pitch_mean_hz=pitch_mean,
        pitch_spread_hz=pitch_spread,
        syllable_count=nuclei,
        speaking_rate_sps=round(float(nuclei / speech_seconds), 2),
        voiced_s=round(_voiced_seconds_from_activity(active), 2),
    )


def _frames(x: np.ndarray, width: int) -> np.ndarray:
    count = 1 + (len(x) - width) // HOP
    return np.lib.stride_tricks.sliding_window_view(x, width)[::HOP][:count]


def _voice_activity(energy_db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frames above the threshold, speech regions after bridging and de-clicking)."""
    peak = np.percentile(energy_db, 99)
    noise = np.percentile(energy_db, 5)
    threshold = max(_ACTIVE_FLOOR_DBFS, peak - _ACTIVE_BELOW_PEAK_DB,
                    min(noise + _ACTIVE_ABOVE_NOISE_DB, peak - 15))
    loud = energy_db > threshold
    active = loud.copy()
    for start, end in _runs(~active):  # bridge short gaps inside words
        if end - start < _BRIDGE_FRAMES and start > 0 and end < len(active):
            active[start:end] = True
    for start, end in _runs(active):  # drop clicks
        if end - start < _MIN_BURST_FRAMES:
            active[start:end] = False
    return loud, active


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of consecutive True values."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _yin(x: np.ndarray, active: np.ndarray, sr: int = 16000) -> np.ndarray:
    """F0 in Hz per frame (NaN where unvoiced or inactive)."""
    tau_min, tau_max = int(sr / F0_MAX_HZ), int(sr / F0_MIN_HZ)
    width = _YIN_WINDOW + tau_max
    padded = np.concatenate([x, np.zeros(width)])
    f0 = np.full(len(active), np.nan)
    indices = np.flatnonzero(active)
    n_fft = 1 << int(np.ceil(np.log2(width + _YIN_WINDOW)))
    for chunk in np.array_split(indices, max(1, len(indices) // 512)):  # bounds memory
        if len(chunk) == 0:
            continue
        segs = np.stack([padded[i * HOP:i * HOP + width] for i in chunk])
        head = segs[:, :_YIN_WINDOW]
        # r[tau] = sum_j x[j] x[j+tau] for j < window, via FFT cross-correlation.
        r = np.fft.irfft(np.conj(np.fft.rfft(head, n_fft)) * np.fft.rfft(segs, n_fft), n_fft)[:, :tau_max + 1]
        power = np.concatenate([np.zeros((len(chunk), 1)), np.cumsum(segs ** 2, axis=1)], axis=1)
        e_tau = power[:, _YIN_WINDOW:_YIN_WINDOW + tau_max + 1] - power[:, :tau_max + 1]
        diff = np.maximum(power[:, [_YIN_WINDOW]] + e_tau - 2 * r, 0.0)
        cumulative = np.cumsum(diff[:, 1:], axis=1)
        cmnd = np.ones_like(diff)
        cmnd[:, 1:] = diff[:, 1:] * np.arange(1, tau_max + 1) / np.maximum(cumulative, 1e-12)
        for row, frame_index in zip(cmnd, chunk):
            tau = _first_dip(row, tau_min, tau_max)
            if tau is not None:
                f0[frame_index] = sr / tau
    return f0


def _first_dip(cmnd: np.ndarray, tau_min: int, tau_max: int) -> float | None:
    below = np.flatnonzero(cmnd[tau_min:tau_max] < _YIN_THRESHOLD)
    if len(below) == 0:
        return None
    tau = tau_min + int(below[0])
    while tau + 1 < tau_max and cmnd[tau + 1] < cmnd[tau]:
        tau += 1
    # Parabolic interpolation for a sub-sample period.
    left, mid, right = cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]
    curvature = left - 2 * mid + right
    return tau + (0.5 * (left - right) / curvature if curvature > 0 else 0.0)


def _syllable_nuclei(frames: np.ndarray, active: np.ndarray, voiced: np.ndarray) -> int:
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(frames.shape[1]), axis=1)) ** 2
    freqs = np.fft.rfftfreq(frames.shape[1], 1 / 16000)
    band = (freqs >= _BAND_HZ[0]) & (freqs <= _BAND_HZ[1])
    envelope = 10 * np.log10(spectrum[:, band].sum(axis=1) + 1e-12)
    envelope = np.convolve(envelope, np.ones(5) / 5, mode="same")  # 50 ms smoothing
    # A nucleus is voiced; allow a frame of slack where YIN drops at the edges.
    near_voiced = np.convolve(voiced.astype(float), np.ones(5), mode="same") > 0
    candidates = [i for i in range(1, len(envelope) - 1)
                  if envelope[i] >= envelope[i - 1] and envelope[i] > envelope[i + 1]
                  and active[i] and near_voiced[i]]
    count, last_peak = 0, None
    for i in candidates:
        if last_peak is None:
            count, last_peak = 1, i
            continue
        dip = envelope[last_peak:i + 1].min()
        far_enough = i - last_peak >= _NUCLEUS_MIN_GAP_FRAMES
        if far_enough and envelope[i] - dip >= _NUCLEUS_DIP_DB and envelope[last_peak] - dip >= _NUCLEUS_DIP_DB:
            count, last_peak = count + 1, i
        elif envelope[i] > envelope[last_peak]:
            last_peak = i  # same syllable, a higher peak: move the nucleus there
    return count
