"""Text-to-speech for customer lines (espeak-ng, via its CLI or pyttsx3).

Called at content-sync time, never on a request path. Every file is validated
before it enters the cache, so a role-play never plays a silent gap.

Engine choice, measured on this stack (pyttsx3 2.99, espeak-ng 1.51):
- pyttsx3 lost lines without any error: its espeak driver returns from
  runAndWait as soon as synthesis starts and writes the file later, on
  espeak's thread. A process that exits first has no file: a 31-character
  Chinese line 20 of 20 times, a short line 26 of 240 times under load.
  The child below waits for the driver's "finished-utterance" (0 of 240 lost;
  long lines then match the CLI's duration).
- pyttsx3 in one long-lived process often kept the previous line's rate
  after a voice switch: a line asked for at 100 wpm came out at the earlier
  rate (1.67 s instead of 3.30 s). It also prints "Audio saved to ..." on stdout,
  which would corrupt the CLI's JSON.
- The espeak-ng CLI gave byte-identical audio to pyttsx3's first line in a
  fresh process, honoured rate and pitch every time, and took ~26 ms a line.
So the espeak-ng CLI is the primary engine. pyttsx3 stays as the fallback for
hosts with the espeak-ng library but no CLI; it runs in a fresh child process
per line (settings are right on a process's first line) with a timeout, so a
hang or leaked state cannot reach the caller, and its output is validated.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile

from .errors import SynthesisError
from .languages import normalize_language

ENGINE_ESPEAK = "espeak-ng"
ENGINE_PYTTSX3 = "pyttsx3"
DEFAULT_ENGINES: tuple[str, ...] = (ENGINE_ESPEAK, ENGINE_PYTTSX3)

# Bumped when normalisation or voice mapping changes, so old cache entries miss.
_PIPELINE_VERSION = 1

ESPEAK_VOICES = {"zh-CN": "cmn", "en-US": "en-us", "ko-KR": "ko"}
_GENDER_VARIANTS = {"female": "f3", "male": "m3"}

# Neutral delivery; an angry customer speaks up to 45 % faster and 30 pitch
# steps higher (espeak-ng pitch is 0-99, rate is words per minute).
BASE_RATE_WPM = 165
BASE_PITCH = {"female": 55, "male": 40}
_ANGER_RATE_GAIN = 0.45
_ANGER_PITCH_GAIN = 30
_RATE_LIMITS = (80, 450)

_CHILD_TIMEOUT_S = 30.0
# The last 60 ms of a finished line are espeak's end pause; louder than 5 % of the peak there = cut off.
_END_PAUSE_CHECK_S = 0.06
_CUT_OFF_TAIL_SHARE = 0.05


@dataclass(frozen=True)
class SynthResult:
    path: Path
    sha: str
    duration_s: float
    engine: str
    cached: bool = False


@dataclass(frozen=True)
class SynthRequest:
    """One line for ``synthesize_many``; fields mirror ``synthesize``."""

    text: str
    language: str
    gender: str = "female"
    anger: int = 0
    base_rate: int | None = None
    base_pitch: int | None = None


def prosody(anger: int, gender: str, *, base_rate: int | None = None,
            base_pitch: int | None = None) -> tuple[int, int]:
    """Map anger 0..100 and gender to (rate in wpm, espeak pitch 0..99).

    ``base_rate``/``base_pitch`` are a persona's calm delivery; anger raises both.
    """
    if not 0 <= anger <= 100:
        raise ValueError(f"anger must be 0..100, got {anger}")
    if gender not in BASE_PITCH:
        raise ValueError(f"gender must be 'female' or 'male', got {gender!r}")
    calm_rate = BASE_RATE_WPM if base_rate is None else base_rate
    calm_pitch = BASE_PITCH[gender] if base_pitch is None else base_pitch
    rate = round(calm_rate * (1 + _ANGER_RATE_GAIN * anger / 100))
    pitch = round(calm_pitch + _ANGER_PITCH_GAIN * anger / 100)
    return min(max(rate, _RATE_LIMITS[0]), _RATE_LIMITS[1]), min(max(pitch, 0), 99)


def espeak_voice(language: str, gender: str) -> str:
    """espeak-ng voice name with gender variant, e.g. ``cmn+f3``."""
    if gender not in _GENDER_VARIANTS:
        raise ValueError(f"gender must be 'female' or 'male', got {gender!r}")
    return f"{ESPEAK_VOICES[normalize_language(language)]}+{_GENDER_VARIANTS[gender]}"


# Full-width marks that NFKC leaves alone.
_PUNCTUATION = str.maketrans({
    "。": ". ", "、": ", ", "—": ", ", "–": ", ", "·": " ",
    "「": '"', "」": '"', "『": '"', "』": '"', "《": '"', "》": '"', "〈": '"', "〉": '"',
    "【": "(", "】": ")", "〔": "(", "〕": ")",
})


def normalize_text(text: str) -> str:
    """Make a line safe for espeak-ng: ASCII punctuation, single spaces.

    Full-width punctuation is a known trap for the pyttsx3 path; NFKC maps
    most of it (！，？：；…) and the table above the rest (。、「」…).
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_PUNCTUATION)
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def synthesize(text: str, language: str, *, gender: str = "female", anger: int = 0,
               cache_dir: Path, base_rate: int | None = None, base_pitch: int | None = None,
               engines: Sequence[str] = DEFAULT_ENGINES) -> SynthResult:
    """Speak ``text`` into a cached, validated 16-bit mono WAV.

    The cache key is a hash of (text, voice, rate, pitch, engine version); a
    second call with the same inputs returns the cached file untouched.
    Raises SynthesisError when no engine produced a valid file.
    """
    spoken = normalize_text(text)
    units = speech_units(spoken)
    if units == 0:
        raise SynthesisError(f"Nothing to say in {text!r}: the line has no words.")
    voice = espeak_voice(language, gender)
    rate, pitch = prosody(anger, gender, base_rate=base_rate, base_pitch=base_pitch)
    unknown = [name for name in engines if name not in _ENGINES]
    if unknown or not engines:
        raise ValueError(f"engines must be chosen from {sorted(_ENGINES)}, got {list(engines)}")

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = json.dumps({"text": spoken, "voice": voice, "rate": rate, "pitch": pitch,
                      "engine": espeak_version(), "pipeline": _PIPELINE_VERSION},
                     sort_keys=True, ensure_ascii=False)
    sha = hashlib.sha256(key.encode("utf-8")).hexdigest()
    wav_path, meta_path = cache_dir / f"{sha}.wav", cache_dir / f"{sha}.json"
    cached = _read_cache(wav_path, meta_path)
    if cached is not None:
        return SynthResult(wav_path, sha, cached["duration_s"], cached["engine"], cached=True)

    failures: list[str] = []
    for engine in engines:
        fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=f".{sha[:12]}-", suffix=".wav.tmp")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            _ENGINES[engine](spoken, voice, rate, pitch, tmp)
            duration = validate_wav(tmp, units=units, rate_wpm=rate)
        except SynthesisError as exc:
            failures.append(f"{engine}: {exc}")
            tmp.unlink(missing_ok=True)
            continue
        os.replace(tmp, wav_path)
        # The metadata file is written last: it marks the cache entry complete.
        _atomic_write_text(meta_path, json.dumps(
            {"engine": engine, "duration_s": duration, "text": spoken, "voice": voice,
             "rate": rate, "pitch": pitch}, ensure_ascii=False))
        return SynthResult(wav_path, sha, duration, engine)
    raise SynthesisError(f"Could not synthesize {text!r} ({voice}, rate {rate}, pitch {pitch}): "
                         + "; ".join(failures))


def synthesize_many(requests: Iterable[SynthRequest], *, cache_dir: Path,
                    engines: Sequence[str] = DEFAULT_ENGINES, max_workers: int = 2) -> list[SynthResult]:
    """Synthesize many lines in parallel (each engine call is its own process).

    Results keep the order of ``requests``. Every line is attempted, so the
    good ones land in the cache; then one SynthesisError lists all failures.
    """
    items = list(requests)

    def run(item: SynthRequest) -> SynthResult | SynthesisError:
        try:
            return synthesize(item.text, item.language, gender=item.gender, anger=item.anger,
                              cache_dir=cache_dir, base_rate=item.base_rate,
                              base_pitch=item.base_pitch, engines=engines)
        except SynthesisError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        outcomes = list(pool.map(run, items))
    failures = [f"line {i + 1}: {out}" for i, out in enumerate(outcomes) if isinstance(out, SynthesisError)]
    if failures:
        raise SynthesisError(f"{len(failures)} of {len(items)} lines failed: " + " | ".join(failures))
    return [out for out in outcomes if isinstance(out, SynthResult)]


def speech_units(text: str) -> int:
    """Rough syllable count, used only to judge whether a duration is plausible.

    CJK characters, Hangul syllables and kana count one each, every digit one,
    each vowel group of a Latin word one (at least one per word).
    """
    units = 0
    for word in re.findall(r"[A-Za-z\u00c0-\u024f']+", text):
        units += max(1, len(re.findall(r"[aeiouyAEIOUY\u00c0-\u024f]+", word)))
    for ch in text:
        if ch.isdigit() or _is_syllabic_script(ch):
            units += 1
    return units


def _is_syllabic_script(ch: str) -> bool:
    code = ord(ch)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF  # CJK ideographs
            or 0xAC00 <= code <= 0xD7A3  # Hangul syllables
            or 0x3040 <= code <= 0x30FF)  # kana


# Measured espeak-ng speed: ~0.28 s (English) to ~0.38 s (Mandarin, Korean)
# per syllable at 175 wpm. The bounds are loose on purpose: they catch no
# file, empty or cut-off files, not small timing differences.
_SECONDS_PER_UNIT_AT_175 = 0.35


def validate_wav(path: Path, *, units: int, rate_wpm: int) -> float:
    """Check a synthesized file and return its duration, or raise SynthesisError."""
    if not path.exists() or path.stat().st_size <= 44:
        raise SynthesisError("no audio was written")
    try:
        info = soundfile.info(str(path))
        samples, _ = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise SynthesisError(f"the output is not a valid WAV file ({exc})") from exc
    if info.format != "WAV" or info.channels != 1 or len(samples) == 0:
        raise SynthesisError(f"unexpected output format {info.format}/{info.subtype}, {info.channels} channels")
    peak = float(np.abs(samples).max())
    if peak < 0.01:
        raise SynthesisError("the output is silent")
    duration = len(samples) / info.samplerate
    expected = units * _SECONDS_PER_UNIT_AT_175 * 175 / rate_wpm
    if not 0.35 * expected <= duration <= 3 * expected + 1.5:
        raise SynthesisError(f"implausible duration {duration:.2f} s for {units} syllables "
                             f"at {rate_wpm} wpm (expected about {expected:.1f} s)")
    # espeak ends every utterance with a pause (silence well under 1 % of the peak). A file that ends
    # loud was cut off mid-word: seen with pyttsx3's driver on a loaded machine (a 12.1 s line saved
    # as 10.0 s), which the duration bounds above are too wide to notice.
    tail = samples[-max(1, int(_END_PAUSE_CHECK_S * info.samplerate)):]
    if float(np.abs(tail).max()) > _CUT_OFF_TAIL_SHARE * peak:
        raise SynthesisError("the output was cut off mid-word (it does not end in espeak's closing pause)")
    return round(duration, 3)


@lru_cache(maxsize=1)
def espeak_version() -> str:
    """Version of the espeak-ng library both engines use (part of the cache key)."""
    library = ctypes.util.find_library("espeak-ng")
    if library is None:
        raise SynthesisError("libespeak-ng is not installed (Debian package espeak-ng)")
    info = ctypes.CDLL(library).espeak_Info
    info.restype = ctypes.c_char_p
    info.argtypes = [ctypes.c_void_p]
    return f"espeak-ng {info(None).decode('ascii', 'replace')}"


def _espeak_cli(text: str, voice: str, rate: int, pitch: int, out: Path) -> None:
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise SynthesisError("the espeak-ng command is not installed")
    # Text goes through stdin so a line starting with "-" is never an option;
    # -b 1 forces UTF-8 input whatever the process locale.
    command = [binary, "-b", "1", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(out)]
    try:
        done = subprocess.run(command, input=text.encode("utf-8"), capture_output=True,
                              timeout=_CHILD_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SynthesisError(f"espeak-ng did not finish within {_CHILD_TIMEOUT_S:.0f} s") from exc
    if done.returncode != 0:
        raise SynthesisError(f"espeak-ng failed: {done.stderr.decode('utf-8', 'replace').strip()}")


# Runs in a fresh interpreter: one line per process, see the module docstring.
# pyttsx3's espeak driver returns from runAndWait as soon as synthesis *starts*;
# the file is written later, on espeak's thread, at the end-of-message event.
# Exiting before that loses the line, so the child waits for "finished-utterance".
_PYTTSX3_CHILD = """
import contextlib, json, sys, threading
import pyttsx3
job = json.load(sys.stdin)
finished = threading.Event()
engine = pyttsx3.init("espeak")
engine.connect("finished-utterance", lambda name, completed: finished.set())
engine.setProperty("voice", job["voice"])
engine.setProperty("rate", job["rate"])
engine.setProperty("pitch", job["pitch"])
with contextlib.redirect_stdout(sys.stderr):
    engine.save_to_file(job["text"], job["path"])
    engine.runAndWait()
    if not finished.wait(job["timeout"]):
        sys.exit("pyttsx3 never finished the utterance")
"""


def _pyttsx3_child(text: str, voice: str, rate: int, pitch: int, out: Path) -> None:
    out.unlink(missing_ok=True)  # pyttsx3 must create the file itself, or it failed
    job = json.dumps({"text": text, "voice": voice, "rate": rate, "pitch": pitch, "path": str(out),
                      "timeout": _CHILD_TIMEOUT_S - 5})
    try:
        done = subprocess.run([sys.executable, "-c", _PYTTSX3_CHILD], input=job.encode("utf-8"),
                              capture_output=True, timeout=_CHILD_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SynthesisError(f"pyttsx3 hung for {_CHILD_TIMEOUT_S:.0f} s") from exc
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise SynthesisError(f"pyttsx3 failed: {' '.join(tail)}")


_ENGINES = {ENGINE_ESPEAK: _espeak_cli, ENGINE_PYTTSX3: _pyttsx3_child}


def _read_cache(wav_path: Path, meta_path: Path) -> dict | None:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not wav_path.is_file() or not {"engine", "duration_s"} <= meta.keys():
        return None
    return meta


def _atomic_write_text(path: Path, content: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.replace(tmp, path)
