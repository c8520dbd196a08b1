"""Audio input: validate learner recordings and convert them for Vosk.

Vosk wants 16 kHz mono signed 16-bit PCM. Uploads arrive as WAV in any common
PCM/float layout; the browser streams raw 16 kHz PCM16. Everything that cannot
be used raises ``AudioError`` with a stable code, never a decoder traceback.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr

from .errors import AudioError

TARGET_RATE = 16000

# A 30 ms frame whose RMS never exceeds this is not speech: a muted or
# disconnected microphone records around -70 dBFS or lower, quiet speech on a
# laptop microphone still peaks well above -40 dBFS.
SILENCE_DBFS = -50.0
_FRAME = 480  # 30 ms at 16 kHz

# RIFF chunk sizes of 0xFFFFFFFF mean "length unknown" (written by streaming
# recorders before they know the length); the data then runs to end of file.
_UNKNOWN_SIZE = 0xFFFFFFFF
_RIFF_MAGICS = (b"RIFF", b"RIFX", b"RF64")


@dataclass(frozen=True)
class Audio:
    """16 kHz mono PCM16 audio ready for recognition and delivery metrics."""

    pcm16: bytes
    sample_rate: int = TARGET_RATE

    @property
    def duration_s(self) -> float:
        return len(self.pcm16) / 2 / self.sample_rate

    def samples(self) -> np.ndarray:
        """Samples as float32 in [-1, 1)."""
        return np.frombuffer(self.pcm16, dtype="<i2").astype(np.float32) / 32768.0


@dataclass(frozen=True)
class _WavLayout:
    channels: int
    sample_rate: int


def load_for_recognition(data: bytes | Path, *, max_seconds: float, max_bytes: int) -> Audio:
    """Decode a WAV upload (bytes or file) into 16 kHz mono PCM16.

    Raises AudioError: too_large, not_audio, unsupported, truncated, empty,
    too_long, silence.
    """
    raw = _read_limited(data, max_bytes)
    layout = _inspect_wav(raw)
    samples = _decode(raw, layout, max_seconds)
    audio = Audio(_to_pcm16(_resample_mono(samples, layout.sample_rate)))
    _reject_silence(audio)
    return audio


def audio_from_pcm16(pcm16: bytes, *, max_seconds: float, max_bytes: int) -> Audio:
    """Validate a whole raw 16 kHz mono PCM16 upload (the browser's format)."""
    if len(pcm16) > max_bytes:
        raise AudioError("too_large", _too_large_message(len(pcm16), max_bytes))
    if not pcm16:
        raise AudioError("empty", "The recording contains no audio.")
    if len(pcm16) % 2:
        raise AudioError("truncated", "The recording ends in the middle of a sample.")
    audio = Audio(bytes(pcm16))
    if audio.duration_s > max_seconds:
        raise AudioError("too_long", _too_long_message(audio.duration_s, max_seconds))
    _reject_silence(audio)
    return audio


def _read_limited(data: bytes | Path, max_bytes: int) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise AudioError("too_large", _too_large_message(len(raw), max_bytes))
        return raw
    path = Path(data)
    try:
        size = path.stat().st_size
        if size > max_bytes:  # checked before reading so a huge file never lands in memory
            raise AudioError("too_large", _too_large_message(size, max_bytes))
        return path.read_bytes()
    except OSError as exc:
        raise AudioError("not_audio", f"The recording could not be read: {exc.strerror or exc}.") from exc


def _inspect_wav(raw: bytes) -> _WavLayout:
    """Walk the RIFF chunks ourselves before any decoder sees the bytes.

    libsndfile happily decodes a cut-off file as a shorter one; walking the
    chunks lets us tell "truncated" from "not audio" and bound the work by the
    declared length before decoding anything.
    """
    if not raw:
        raise AudioError("empty", "The recording contains no audio.")
    magic = raw[:4]
    if len(raw) < 12:
        if any(known.startswith(magic) for known in _RIFF_MAGICS):
            raise AudioError("truncated", "The WAV file is cut off inside its header.")
        raise AudioError("not_audio", "The file is not a WAV recording.")
    if magic not in _RIFF_MAGICS or raw[8:12] != b"WAVE":
        raise AudioError("not_audio", "The file is not a WAV recording.")
    endian = ">" if magic == b"RIFX" else "<"
    fmt: tuple[int, int] | None = None
    rf64_data_size: int | None = None
    pos = 12
    while True:
        if pos + 8 > len(raw):
            raise AudioError("truncated", "The WAV file is cut off before its audio data.")
        chunk_id = raw[pos:pos + 4]
        (size,) = struct.unpack(endian + "I", raw[pos + 4:pos + 8])
        body = pos + 8
        if chunk_id == b"data":
            if fmt is None:
                raise AudioError("not_audio", "The WAV file has audio data but no format description.")
            if magic == b"RF64" and size == _UNKNOWN_SIZE and rf64_data_size is not None:
                size = rf64_data_size
            available = len(raw) - body
            if size == _UNKNOWN_SIZE:
                size = available
            elif size > available:
                raise AudioError("truncated", "The WAV file is cut off: part of the audio is missing.")
            if size == 0:
                raise AudioError("empty", "The recording contains no audio.")
            return _WavLayout(channels=fmt[0], sample_rate=fmt[1])
        if body + size > len(raw):
            raise AudioError("truncated", "The WAV file is cut off inside its header.")
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(raw[body:body + size], endian)
        elif chunk_id == b"ds64" and size >= 16:
            rf64_data_size = struct.unpack("<Q", raw[body + 8:body + 16])[0]
        pos = body + size + (size & 1)  # chunks are padded to even sizes


def _parse_fmt(chunk: bytes, endian: str) -> tuple[int, int]:
    """Return (channels, sample_rate) after sanity checks on the format chunk."""
    if len(chunk) < 16:
        raise AudioError("not_audio", "The WAV format description is damaged.")
    _tag, channels, rate, _byte_rate, block_align, bits = struct.unpack(endian + "HHIIHH", chunk[:16])
    if channels == 0 or rate == 0 or block_align == 0 or bits == 0:
        raise AudioError("not_audio", "The WAV format description is damaged.")
    if channels > 2:
        raise AudioError("unsupported", f"Recordings with {channels} channels are not supported; use mono or stereo.")
    if not 4000 <= rate <= 384000:
        raise AudioError("unsupported", f"A sample rate of {rate} Hz is not supported.")
    return channels, rate


def _decode(raw: bytes, layout: _WavLayout, max_seconds: float) -> np.ndarray:
    try:
        with soundfile.SoundFile(io.BytesIO(raw)) as wav:
            if wav.samplerate != layout.sample_rate or wav.channels != layout.channels:
                raise AudioError("not_audio", "The WAV header contradicts itself.")
            # The frame count comes from the header (compressed encodings such
            # as ADPCM pack many frames per block), so check it before decoding.
            if wav.frames == 0:
                raise AudioError("empty", "The recording contains no audio.")
            duration = wav.frames / wav.samplerate
            if duration > max_seconds:
                raise AudioError("too_long", _too_long_message(duration, max_seconds))
            samples = wav.read(dtype="float32", always_2d=True)
    except AudioError:
        raise
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError, MemoryError) as exc:
        raise AudioError("unsupported", "This WAV encoding is not supported; record as PCM WAV.") from exc
    if samples.shape[0] == 0:
        raise AudioError("empty", "The recording contains no audio.")
    return samples


def _resample_mono(samples: np.ndarray, rate: int) -> np.ndarray:
    mono = np.nan_to_num(samples.mean(axis=1), nan=0.0, posinf=1.0, neginf=-1.0)
    if rate == TARGET_RATE:
        return mono
    return soxr.resample(mono, rate, TARGET_RATE, quality="HQ")


def _to_pcm16(mono: np.ndarray) -> bytes:
    return (np.clip(mono, -1.0, 32767 / 32768) * 32768).astype("<i2").tobytes()


def _reject_silence(audio: Audio) -> None:
    samples = audio.samples()
    if len(samples) == 0:
        raise AudioError("empty", "The recording contains no audio.")
    whole = len(samples) // _FRAME * _FRAME
    frames = samples[:whole].reshape(-1, _FRAME) if whole else samples[None, :]
    loudest = float(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)).max())
    if 20 * np.log10(loudest + 1e-12) < SILENCE_DBFS:
        raise AudioError("silence", "The recording is silent; check that the microphone is on and not muted.")


def _too_long_message(duration: float, max_seconds: float) -> str:
    return f"The recording is {duration:.0f} s long; the limit is {max_seconds:.0f} s."


def _too_large_message(size: int, max_bytes: int) -> str:
    return f"The file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB."
