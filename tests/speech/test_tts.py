from __future__ import annotations

import wave

import numpy as np
import pytest
import soundfile

from speech.errors import SynthesisError
from speech.tts import (ENGINE_ESPEAK, ENGINE_PYTTSX3, SynthRequest, normalize_text, prosody,
                        speech_units, synthesize, synthesize_many, validate_wav)

ZH_LINE = "您好！请问，有什么可以帮您？"


def assert_valid_speech(path, min_s: float, max_s: float) -> float:
    info = soundfile.info(str(path))
    assert (info.format, info.subtype, info.channels) == ("WAV", "PCM_16", 1)
    samples, rate = soundfile.read(str(path), dtype="float32")
    duration = len(samples) / rate
    assert min_s <= duration <= max_s, duration
    assert np.abs(samples).max() > 0.1, "speech must not be silent"
    return duration


def test_chinese_line_with_full_width_punctuation_is_synthesized_and_cached(tmp_path):
    first = synthesize(ZH_LINE, "zh-CN", cache_dir=tmp_path)
    assert first.engine == ENGINE_ESPEAK and not first.cached
    duration = assert_valid_speech(first.path, 2.0, 10.0)
    assert first.duration_s == pytest.approx(duration, abs=0.01)
    assert first.path.parent == tmp_path and first.path.name == f"{first.sha}.wav"

    stamp = first.path.stat().st_mtime_ns
    second = synthesize(ZH_LINE, "zh-CN", cache_dir=tmp_path)
    assert second.cached and second.path == first.path and second.sha == first.sha
    assert second.engine == first.engine and second.duration_s == first.duration_s
    assert first.path.stat().st_mtime_ns == stamp, "a cache hit must not rewrite the file"
    assert not list(tmp_path.glob("*.tmp")), "temporary files must not be left behind"


def test_english_and_korean_lines(tmp_path):
    english = synthesize("Hello, how can I help you today?", "en-US", gender="male", cache_dir=tmp_path)
    korean = synthesize("기다려 주셔서 감사합니다", "ko", cache_dir=tmp_path)
    assert_valid_speech(english.path, 1.0, 6.0)
    assert_valid_speech(korean.path, 1.0, 6.0)
    assert english.sha != korean.sha


def test_pyttsx3_engine_produces_a_valid_file_in_a_child_process(tmp_path):
    result = synthesize("请稍等，我帮您查一下。", "zh-CN", cache_dir=tmp_path, engines=(ENGINE_PYTTSX3,))
    assert result.engine == ENGINE_PYTTSX3
    assert_valid_speech(result.path, 1.0, 8.0)


def test_pyttsx3_keeps_a_long_line_whole(tmp_path):
    # pyttsx3 2.99 returns before espeak has finished; a child that exited then lost this line.
    line = "您好，请问有什么可以帮您？我们今天的服务时间是早上九点到晚上六点。"
    by_pyttsx3 = synthesize(line, "zh-CN", cache_dir=tmp_path / "p", engines=(ENGINE_PYTTSX3,))
    by_cli = synthesize(line, "zh-CN", cache_dir=tmp_path / "c", engines=(ENGINE_ESPEAK,))
    assert by_pyttsx3.engine == ENGINE_PYTTSX3
    assert by_pyttsx3.duration_s == pytest.approx(by_cli.duration_s, abs=0.05)
    assert_valid_speech(by_pyttsx3.path, 6.0, 30.0)


def test_long_line_never_leaves_a_silent_gap(tmp_path):
    line = "您好，请问有什么可以帮您？我们今天的服务时间是早上九点到晚上六点。"
    result = synthesize(line, "zh-CN", anger=40, cache_dir=tmp_path)
    assert_valid_speech(result.path, 6.0, 30.0)


def test_anger_speeds_up_and_raises_the_voice():
    calm_rate, calm_pitch = prosody(0, "female")
    angry_rate, angry_pitch = prosody(100, "female")
    assert angry_rate > calm_rate * 1.3 and angry_pitch > calm_pitch
    rates = [prosody(anger, "male")[0] for anger in range(0, 101, 10)]
    assert rates == sorted(rates)
    assert prosody(0, "male")[1] < prosody(0, "female")[1]
    assert all(0 <= prosody(a, g, base_pitch=95)[1] <= 99 for a in (0, 100) for g in ("male", "female"))
    assert prosody(0, "male", base_rate=140) == (140, prosody(0, "male")[1])
    with pytest.raises(ValueError):
        prosody(101, "female")
    with pytest.raises(ValueError):
        prosody(10, "robot")


def test_angry_customer_is_audibly_faster(tmp_path):
    calm = synthesize("我已经等了一个星期了", "zh-CN", anger=0, cache_dir=tmp_path)
    angry = synthesize("我已经等了一个星期了", "zh-CN", anger=100, cache_dir=tmp_path)
    assert angry.sha != calm.sha
    assert angry.duration_s < calm.duration_s * 0.85


def test_normalize_text_maps_full_width_punctuation():
    assert normalize_text("您好！请问，有什么可以帮您？") == "您好!请问,有什么可以帮您?"
    assert normalize_text("好的。\n「谢谢」、再见…") == '好的. "谢谢", 再见...'
    assert normalize_text("  ＡＢＣ　１２３\t") == "ABC 123"
    assert speech_units("您好!") == 2 and speech_units("Hello, yes") == 3 and speech_units("119") == 3


def test_a_line_without_words_is_an_error(tmp_path):
    with pytest.raises(SynthesisError, match="no words"):
        synthesize("！？……", "zh-CN", cache_dir=tmp_path)


def test_validate_wav_rejects_broken_output(tmp_path):
    missing = tmp_path / "missing.wav"
    with pytest.raises(SynthesisError, match="no audio"):
        validate_wav(missing, units=5, rate_wpm=175)

    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF" + b"\x00" * 100)
    with pytest.raises(SynthesisError, match="not a valid WAV"):
        validate_wav(garbage, units=5, rate_wpm=175)

    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(22050)
        out.writeframes(b"\x00\x00" * 22050)
    with pytest.raises(SynthesisError, match="silent"):
        validate_wav(silent, units=5, rate_wpm=175)

    short = tmp_path / "short.wav"
    tone = (0.5 * np.sin(np.arange(2205) / 5) * 32767).astype("<i2")
    soundfile.write(str(short), tone, 22050, subtype="PCM_16")
    with pytest.raises(SynthesisError, match="implausible duration"):
        validate_wav(short, units=30, rate_wpm=175)  # 0.1 s cannot hold 30 syllables


def test_synthesize_many_keeps_order_and_reuses_the_cache(tmp_path):
    requests = [SynthRequest("您好", "zh-CN"), SynthRequest("Thanks for waiting", "en-US", gender="male"),
                SynthRequest("감사합니다", "ko-KR", anger=80), SynthRequest("您好", "zh-CN")]
    results = synthesize_many(requests, cache_dir=tmp_path)
    assert len(results) == 4 and results[0].sha == results[3].sha
    assert len({r.sha for r in results}) == 3
    again = synthesize_many(requests[:3], cache_dir=tmp_path)
    assert all(r.cached for r in again)
    assert [r.sha for r in again] == [r.sha for r in results[:3]]


def test_synthesize_many_reports_every_failed_line(tmp_path):
    requests = [SynthRequest("您好", "zh-CN"), SynthRequest("……", "zh-CN"), SynthRequest("?!", "en-US")]
    with pytest.raises(SynthesisError, match="2 of 3 lines failed: line 2: .*line 3: "):
        synthesize_many(requests, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.wav"))) == 1, "the good line is still cached"


def test_a_line_cut_off_mid_word_is_refused_and_the_next_engine_speaks_it(tmp_path, monkeypatch):
    # pyttsx3's driver once saved a 12.1 s line as 10.0 s on a loaded machine; the duration bounds
    # alone accepted it. A finished line ends in espeak's pause; a cut one ends loud.
    whole = synthesize(ZH_LINE, "zh-CN", cache_dir=tmp_path / "whole", engines=(ENGINE_ESPEAK,))
    samples, rate = soundfile.read(str(whole.path), dtype="int16")
    loud = np.flatnonzero(np.abs(samples) > 0.5 * np.abs(samples).max())
    cut = tmp_path / "cut.wav"
    soundfile.write(str(cut), samples[:loud[len(loud) // 2] + 1], rate, subtype="PCM_16")
    units = speech_units(normalize_text(ZH_LINE))
    assert validate_wav(whole.path, units=units, rate_wpm=175) == pytest.approx(whole.duration_s)
    with pytest.raises(SynthesisError, match="cut off"):
        validate_wav(cut, units=units, rate_wpm=175)

    from speech import tts

    def cut_short(text, voice, rate_wpm, pitch, out):
        out.write_bytes(cut.read_bytes())
    monkeypatch.setitem(tts._ENGINES, ENGINE_PYTTSX3, cut_short)
    result = synthesize(ZH_LINE, "zh-CN", cache_dir=tmp_path / "fallback", engines=(ENGINE_PYTTSX3, ENGINE_ESPEAK))
    assert result.engine == ENGINE_ESPEAK
    assert result.duration_s == pytest.approx(whole.duration_s, abs=0.05)
