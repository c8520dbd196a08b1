from __future__ import annotations

import io
import struct
from datetime import timedelta

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speech.audio import TARGET_RATE, Audio, audio_from_pcm16, load_for_recognition
from speech.errors import AudioError

LIMITS = {"max_seconds": 60.0, "max_bytes": 5_000_000}


def tone_wav(subtype: str = "PCM_16", rate: int = 44100, channels: int = 1, seconds: float = 1.0,
             freq: float = 440.0, amplitude: float = 0.3) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    signal = amplitude * np.sin(2 * np.pi * freq * t)
    data = np.stack([signal] * channels, axis=1) if channels > 1 else signal
    out = io.BytesIO()
    soundfile.write(out, data, rate, subtype=subtype, format="WAV")
    return out.getvalue()


def dominant_frequency(audio: Audio) -> float:
    samples = audio.samples()
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / audio.sample_rate)[spectrum.argmax()])


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", [8000, 48000])
def test_wav_layouts_become_16k_mono_pcm16(subtype, channels, rate):
    audio = load_for_recognition(tone_wav(subtype, rate, channels, seconds=1.5), **LIMITS)
    assert audio.sample_rate == TARGET_RATE
    assert len(audio.pcm16) == pytest.approx(1.5 * TARGET_RATE * 2, abs=40)
    assert audio.duration_s == pytest.approx(1.5, abs=0.005)
    assert dominant_frequency(audio) == pytest.approx(440, abs=3)
    peak = np.abs(audio.samples()).max()
    assert peak == pytest.approx(0.3, abs=0.03), "level must survive conversion"


def test_a_file_path_is_accepted(tmp_path):
    path = tmp_path / "answer.wav"
    path.write_bytes(tone_wav(rate=22050))
    assert load_for_recognition(path, **LIMITS).duration_s == pytest.approx(1.0, abs=0.005)


def error_code(data, **limits) -> str:
    with pytest.raises(AudioError) as caught:
        load_for_recognition(data, **{**LIMITS, **limits})
    assert caught.value.message and str(caught.value) == caught.value.message
    return caught.value.code


def test_every_bad_upload_gets_its_code(tmp_path):
    good = tone_wav()
    assert error_code(b"") == "empty"
    assert error_code(b"hello, this is a text file and not a recording") == "not_audio"
    assert error_code(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64) == "not_audio"
    assert error_code(b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 40) == "not_audio"
    assert error_code(good[:len(good) // 2]) == "truncated"
    assert error_code(good[:30]) == "truncated"
    assert error_code(good[:7]) == "truncated"
    assert error_code(tone_wav(seconds=0)) == "empty"
    assert error_code(tone_wav(amplitude=0.0)) == "silence"
    assert error_code(tone_wav(amplitude=0.0005)) == "silence"  # -66 dBFS hum: microphone muted
    assert error_code(tone_wav(seconds=3), max_seconds=2) == "too_long"
    assert error_code(good, max_bytes=1000) == "too_large"
    big = tmp_path / "big.wav"
    big.write_bytes(good)
    assert error_code(big, max_bytes=1000) == "too_large"
    assert error_code(tmp_path / "missing.wav") == "not_audio"


def test_unsupported_layouts_are_named():
    assert error_code(tone_wav(channels=3)) == "unsupported"
    header = bytearray(tone_wav())
    fmt = header.index(b"fmt ") + 8
    header[fmt + 4:fmt + 8] = struct.pack("<I", 1000)  # sample rate below any microphone's
    assert error_code(bytes(header)) == "unsupported"


def test_quiet_but_real_speech_is_not_silence():
    audio = load_for_recognition(tone_wav(amplitude=0.01), **LIMITS)  # -40 dBFS
    assert audio.duration_s == pytest.approx(1.0, abs=0.005)


def test_raw_browser_pcm():
    pcm = (0.2 * np.sin(np.arange(16000) / 3) * 32767).astype("<i2").tobytes()
    audio = audio_from_pcm16(pcm, **LIMITS)
    assert audio.pcm16 == pcm and audio.duration_s == pytest.approx(1.0)
    for data, limits, code in [(b"", {}, "empty"), (pcm[:-1], {}, "truncated"),
                               (b"\x00\x00" * 16000, {}, "silence"),
                               (pcm, {"max_seconds": 0.5}, "too_long"), (pcm, {"max_bytes": 100}, "too_large")]:
        with pytest.raises(AudioError) as caught:
            audio_from_pcm16(data, **{**LIMITS, **limits})
        assert caught.value.code == code


SMALL_WAV = tone_wav(rate=8000, seconds=0.25)
FUZZ = settings(max_examples=200, deadline=timedelta(seconds=2), database=None,
                suppress_health_check=[HealthCheck.too_slow])


def decode_or_audio_error(data: bytes) -> None:
    try:
        audio = load_for_recognition(data, **LIMITS)
    except AudioError as exc:
        assert exc.code in AudioError.CODES and exc.message
    else:
        assert len(audio.pcm16) % 2 == 0 and audio.duration_s <= LIMITS["max_seconds"]


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes(data):
    decode_or_audio_error(data)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(SMALL_WAV) - 1), st.integers(0, 255)), min_size=1, max_size=24),
       st.integers(0, len(SMALL_WAV)))
def test_fuzz_mutated_wav(mutations, cut):
    data = bytearray(SMALL_WAV)
    for index, value in mutations:
        data[index] = value
    decode_or_audio_error(bytes(data[:max(cut, 1)]))


@FUZZ
@given(st.binary(min_size=0, max_size=64), st.sampled_from([b"RIFF", b"RIFX", b"RF64"]))
def test_fuzz_riff_headers(tail, magic):
    decode_or_audio_error(magic + b"\xff\xff\xff\x7f" + b"WAVE" + tail)
