"""Speech recognition with Vosk: one shared model per language, one recognizer per utterance.

A Vosk model is large (the small Korean one takes ~2 s and ~0.5 GB to load)
and read-only once loaded, so a process loads each language once and shares
it between threads. A recognizer holds per-utterance decoder state, so every
utterance gets its own.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import vosk

from .audio import TARGET_RATE, Audio, load_for_recognition
from .errors import AudioError, ModelNotInstalled, SpeechError
from .languages import normalize_language
from .models import SpeechConfig, find_models

# Whole files are fed like a stream, in half-second chunks, so Vosk's
# endpointing splits a long answer into segments as it would live.
_FILE_CHUNK_BYTES = TARGET_RATE // 2 * 2

# Vosk's grammar token for "anything else"; some models lack it in their
# vocabulary (the small Korean one does) and then log a warning and ignore it.
UNKNOWN_TOKEN = "[unk]"


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[Word] = field(default_factory=list)
    audio_seconds: float = 0.0
    decode_seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class RecognitionStream:
    """Incremental recognition of one utterance.

    Feed raw 16 kHz mono PCM16 as it arrives; ``final()`` ends the utterance.
    Word times are seconds from the start of the stream.
    """

    def __init__(self, recognizer: vosk.KaldiRecognizer, max_seconds: float) -> None:
        self._recognizer = recognizer
        self._max_seconds = max_seconds
        self._lock = threading.Lock()  # one utterance, but feed() may come from any worker thread
        self._segments: list[dict] = []
        self._partial = ""
        self._odd_byte = b""
        self._bytes_fed = 0
        self._decode_seconds = 0.0
        self._finished = False

    @property
    def audio_seconds(self) -> float:
        return self._bytes_fed / 2 / TARGET_RATE

    def feed(self, pcm16: bytes) -> str:
        """Add audio; return the text recognised so far (final segments + partial)."""
        with self._lock:
            if self._finished:
                raise RuntimeError("this recognition stream has already been finalised")
            data = self._odd_byte + bytes(pcm16)
            # A chunk may split a sample; keep the spare byte for the next chunk.
            self._odd_byte = data[len(data) - len(data) % 2:]
            data = data[:len(data) - len(self._odd_byte)]
            if (self._bytes_fed + len(data)) / 2 / TARGET_RATE > self._max_seconds:
                raise AudioError("too_long", f"The recording is longer than the limit of {self._max_seconds:.0f} s.")
            self._bytes_fed += len(data)
            started = time.perf_counter()
            if self._recognizer.AcceptWaveform(data):
                self._segments.append(json.loads(self._recognizer.Result()))
                self._partial = ""
            else:
                self._partial = json.loads(self._recognizer.PartialResult()).get("partial", "")
            self._decode_seconds += time.perf_counter() - started
            return _join([s.get("text", "") for s in self._segments] + [self._partial])

    def final(self) -> Transcript:
        """Finish the utterance and return the full transcript with word timings."""
        with self._lock:
            if self._finished:
                raise RuntimeError("this recognition stream has already been finalised")
            self._finished = True
            started = time.perf_counter()
            self._segments.append(json.loads(self._recognizer.FinalResult()))
            self._decode_seconds += time.perf_counter() - started
            words = [Word(w["word"], float(w["start"]), float(w["end"]), float(w["conf"]))
                     for segment in self._segments for w in segment.get("result", [])]
            text = _join([s.get("text", "") for s in self._segments])
            return Transcript(text, words, round(self.audio_seconds, 3), round(self._decode_seconds, 4))


# Kaldi decoder settings written into a model's conf/model.conf when it is loaded (tune_model):
# free decoding with the models' shipped beams (10 / 3000 active / lattice 2) falls behind real time
# on one loaded core, so a streamed reply would still wait for the decoder at its end. Measured on
# the Korean model against espeak-ng speech (docs/production.md, "Decoder settings"); None keeps the
# model's own value. VOSK_DECODER (the app) overrides them.
DECODER_DEFAULTS: dict[str, str | None] = {"beam": "7.0", "max-active": "1500", "lattice-beam": "1.0"}


def tune_model(path: Path, options: dict[str, str | None], cache_dir: Path) -> Path:
    """A copy of the model at ``path`` whose conf/model.conf carries ``options`` (Kaldi decoder flags
    without the leading dashes); every other file is a symlink to the original. Returns ``path``
    itself when nothing changes. The copy lives under ``cache_dir`` and is reused while the same."""
    options = {key: value for key, value in options.items() if value is not None}
    conf = path / "conf" / "model.conf"
    if not options or not conf.is_file():
        return path
    lines = conf.read_text().splitlines()
    seen = set()
    tuned_lines = []
    for line in lines:
        key = line.strip().lstrip("-").split("=", 1)[0]
        if key in options:
            tuned_lines.append(f"--{key}={options[key]}")
            seen.add(key)
        else:
            tuned_lines.append(line)
    tuned_lines += [f"--{key}={value}" for key, value in options.items() if key not in seen]
    text = "\n".join(tuned_lines) + "\n"
    if text.split() == "\n".join(lines).split():
        return path
    import hashlib
    digest = hashlib.sha256(f"{path.resolve()}\n{text}".encode()).hexdigest()[:16]
    target = cache_dir / f"{path.name}-{digest}"
    if (target / "conf" / "model.conf").is_file():
        return target
    staging = cache_dir / f".{target.name}.{os.getpid()}.{threading.get_ident()}"
    staging.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        if child.name != "conf":
            (staging / child.name).symlink_to(child.resolve())
    (staging / "conf").mkdir()
    for child in (path / "conf").iterdir():
        if child.name != "model.conf":
            (staging / "conf" / child.name).symlink_to(child.resolve())
    (staging / "conf" / "model.conf").write_text(text)
    try:
        os.rename(staging, target)
    except OSError:  # another process made it first
        import shutil
        shutil.rmtree(staging, ignore_errors=True)
    return target


class ModelRegistry:
    """Loads each language's Vosk model at most once per process (thread-safe).

    ``decoder``: Kaldi decoder settings applied to every model loaded (see DECODER_DEFAULTS and
    tune_model); ``{}`` loads the models exactly as shipped.
    """

    def __init__(self, config: SpeechConfig, decoder: dict[str, str | None] | None = None,
                 tuned_dir: Path | None = None) -> None:
        self.config = config
        self.decoder = dict(DECODER_DEFAULTS if decoder is None else decoder)
        self.tuned_dir = tuned_dir
        self._models: dict[str, vosk.Model] = {}
        self._loads: dict[str, int] = {}
        self._guard = threading.Lock()
        self._lang_locks: dict[str, threading.Lock] = {}
        vosk.SetLogLevel(-1)  # keep Kaldi's load chatter out of logs; warnings still show

    def model_path(self, lang: str) -> Path:
        """Path of the model that would be used for ``lang``; raises ModelNotInstalled."""
        lang = normalize_language(lang)
        path = find_models(self.config)[lang]
        if path is None:
            raise ModelNotInstalled(lang)
        return path

    def model(self, lang: str) -> vosk.Model:
        lang = normalize_language(lang)
        with self._guard:
            if lang in self._models:
                return self._models[lang]
            lock = self._lang_locks.setdefault(lang, threading.Lock())
        # A per-language lock: a slow load of one language does not block
        # requests for another that is already loaded.
        with lock:
            with self._guard:
                if lang in self._models:
                    return self._models[lang]
            path = self.model_path(lang)
            try:
                path = self._tuned(path)
                model = vosk.Model(str(path))
            except Exception as exc:  # vosk raises a bare Exception on load failure
                raise SpeechError(f"Vosk could not load the {lang} model at {path}; reinstall it "
                                  f"with `flask speech install-model {lang}`.") from exc
            with self._guard:
                self._models[lang] = model
                self._loads[lang] = self._loads.get(lang, 0) + 1
            return model

    def _tuned(self, path: Path) -> Path:
        if not self.decoder:
            return path
        cache = self.tuned_dir or ((self.config.model_dir / ".tuned") if self.config.model_dir else None)
        if cache is None:
            import tempfile
            cache = Path(tempfile.gettempdir()) / "academy-vosk-tuned"
        try:
            cache.mkdir(parents=True, exist_ok=True)
            return tune_model(path, self.decoder, cache)
        except OSError:  # a read-only data folder: the model as shipped still works, only slower
            return path

    def load_count(self, lang: str | None = None) -> int:
        """How many times a model was loaded (for one language, or in total)."""
        with self._guard:
            if lang is None:
                return sum(self._loads.values())
            return self._loads.get(normalize_language(lang), 0)

    def loaded_languages(self) -> list[str]:
        with self._guard:
            return sorted(self._models)

    def stream(self, lang: str, grammar: list[str] | None = None, *,
               max_seconds: float | None = None) -> RecognitionStream:
        """A new recognizer for one utterance; ``grammar`` limits it to those phrases.

        ``max_seconds`` (default: the config's max_audio_seconds) bounds the audio fed.
        """
        model = self.model(lang)
        if grammar is None:
            recognizer = vosk.KaldiRecognizer(model, TARGET_RATE)
        else:
            recognizer = vosk.KaldiRecognizer(model, TARGET_RATE, grammar_json(grammar))
        recognizer.SetWords(True)
        limit = self.config.max_audio_seconds if max_seconds is None else max_seconds
        return RecognitionStream(recognizer, limit)


def grammar_json(phrases: list[str]) -> str:
    """Vosk runtime grammar: the expected phrases plus ``[unk]`` for anything else.

    Vosk matches words against the model vocabulary, which is lower-case and
    space-separated; Chinese phrases must already be split into vocabulary words.
    """
    cleaned = [" ".join(p.lower().split()) for p in phrases if p.strip()]
    if not [p for p in cleaned if p != UNKNOWN_TOKEN]:
        raise ValueError("a grammar needs at least one phrase")
    if UNKNOWN_TOKEN not in cleaned:
        cleaned.append(UNKNOWN_TOKEN)
    return json.dumps(cleaned, ensure_ascii=False)


def transcribe(registry: ModelRegistry, lang: str, audio: Audio | bytes | Path | str,
               grammar: list[str] | None = None) -> Transcript:
    """Recognise a whole recording.

    ``audio`` is an ``Audio``, raw 16 kHz mono PCM16 bytes, or a WAV file path
    (validated and converted with the registry's limits).
    """
    if isinstance(audio, (str, Path)):
        audio = load_for_recognition(Path(audio), max_seconds=registry.config.max_audio_seconds,
                                     max_bytes=registry.config.max_upload_bytes)
    pcm = audio.pcm16 if isinstance(audio, Audio) else bytes(audio)
    stream = registry.stream(lang, grammar)
    for offset in range(0, len(pcm), _FILE_CHUNK_BYTES):
        stream.feed(pcm[offset:offset + _FILE_CHUNK_BYTES])
    return stream.final()


def _join(parts: list[str]) -> str:
    return " ".join(p for p in parts if p)
