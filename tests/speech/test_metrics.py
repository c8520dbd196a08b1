from __future__ import annotations

import json

import numpy as np
import pytest

from speech.audio import Audio
from speech.asr import Word
from speech.metrics import (CHARS_PER_MIN, RATE_PAUSE_S, WORDS_PER_MIN, compute_metrics, count_units,
                            speaking_rate_from_words, voiced_seconds_from_words)

from tests.support.speech import trim_silence

EN = ("Thank you for calling customer service. I understand that your parcel has not arrived yet, "
      "and I am sorry about that. Let me check the tracking number for you right now.")
ZH = "您好，感谢您的来电。我理解您的包裹还没有送到，非常抱歉。请让我现在为您查询一下物流信息。"
KO = "기다려 주셔서 감사합니다. 고객님의 주문을 확인해 드리겠습니다."


def pcm(samples: np.ndarray) -> Audio:
    return Audio(samples.astype("<i2").tobytes())


@pytest.mark.parametrize("text, voice", [(EN, "en-us"), (KO, "ko")])
def test_speaking_rate_ranks_slow_and_fast_speech(speak_audio, text, voice):
    # Mandarin is left out here: espeak-ng's cmn voice splits many syllables
    # into two energy bursts, so it is no ground truth for syllable counting.
    slow = compute_metrics(speak_audio(text, voice, rate=120))
    fast = compute_metrics(speak_audio(text, voice, rate=220))
    assert fast.speaking_rate_sps > slow.speaking_rate_sps * 1.25
    assert 2.0 < slow.speaking_rate_sps < fast.speaking_rate_sps < 8.0


@pytest.mark.parametrize("text, voice", [(ZH, "cmn"), (EN, "en-us")])
def test_loudness_ranks_amplitude(speak_audio, text, voice):
    quiet = compute_metrics(speak_audio(text, voice, amplitude=50))
    loud = compute_metrics(speak_audio(text, voice, amplitude=150))
    assert loud.loudness_dbfs - quiet.loudness_dbfs > 6.0  # x3 amplitude is ~9.5 dB
    assert -40 < quiet.loudness_dbfs < loud.loudness_dbfs < 0


@pytest.mark.parametrize("text, voice", [(ZH, "cmn"), (EN, "en-us"), (KO, "ko")])
def test_pitch_ranks_espeak_pitch(speak_audio, text, voice):
    low = compute_metrics(speak_audio(text, voice, pitch=30))
    high = compute_metrics(speak_audio(text, voice, pitch=80))
    assert high.pitch_mean_hz > low.pitch_mean_hz * 1.3
    assert 50 < low.pitch_mean_hz < high.pitch_mean_hz < 250
    assert low.pitch_spread_hz > 0


def test_female_voice_is_higher_than_male(speak_audio):
    male = compute_metrics(speak_audio(ZH, "cmn+m3"))
    female = compute_metrics(speak_audio(ZH, "cmn+f3"))
    assert female.pitch_mean_hz > male.pitch_mean_hz * 1.4


def test_inserted_two_second_silence_is_found_as_a_pause(speak_audio):
    first = trim_silence(speak_audio("您好，请问有什么可以帮您？", "cmn"))
    second = trim_silence(speak_audio("好的，我马上为您处理。", "cmn"))
    lead = np.zeros(16000, "<i2")  # one second before the agent starts speaking
    gap = np.zeros(32000, "<i2")
    metrics = compute_metrics(pcm(np.concatenate([lead, first, gap, second])))

    assert len(metrics.pauses) == 1
    pause = metrics.pauses[0]
    assert pause.duration_s == pytest.approx(2.0, abs=0.4)
    assert pause.start_s == pytest.approx((len(lead) + len(first)) / 16000, abs=0.3)
    assert metrics.speech_onset_s == pytest.approx(1.0, abs=0.15)
    speech_share = (len(first) + len(second)) / (len(lead) + len(first) + len(gap) + len(second))
    assert metrics.active_speech_ratio == pytest.approx(speech_share, abs=0.12)
    assert metrics.duration_s == pytest.approx((len(lead) + len(first) + len(gap) + len(second)) / 16000, abs=0.001)


def test_short_gaps_are_not_pauses(speak_audio):
    first = trim_silence(speak_audio("您好", "cmn"))
    metrics = compute_metrics(pcm(np.concatenate([first, np.zeros(16000, "<i2"), first])))
    assert metrics.pauses == []


def test_silence_and_tiny_inputs_have_no_speech_measures():
    for audio in (pcm(np.zeros(32000)), pcm(np.zeros(100))):
        metrics = compute_metrics(audio)
        assert metrics.speech_onset_s is None and metrics.active_speech_ratio == 0.0
        assert metrics.pitch_mean_hz is None and metrics.speaking_rate_sps is None
        assert metrics.pauses == []


def test_pure_tone_pitch_is_measured_exactly():
    t = np.arange(32000) / 16000
    metrics = compute_metrics(pcm(8000 * np.sin(2 * np.pi * 180 * t)))
    assert metrics.pitch_mean_hz == pytest.approx(180, abs=1.5)
    assert metrics.pitch_spread_hz < 2
    assert metrics.loudness_dbfs == pytest.approx(20 * np.log10(8000 / 32768 / np.sqrt(2)), abs=0.5)


def test_to_dict_is_json_ready(speak_audio):
    data = compute_metrics(speak_audio(KO, "ko")).to_dict()
    assert set(data) == {"duration_s", "speech_onset_s", "active_speech_ratio", "pauses", "loudness_dbfs",
                         "pitch_mean_hz", "pitch_spread_hz", "syllable_count", "speaking_rate_sps",
                         "speaking_rate", "speaking_rate_unit", "speaking_rate_basis", "voiced_s"}
    assert data["speaking_rate"] is None and data["speaking_rate_basis"] is None  # nothing said was given
    assert json.loads(json.dumps(data)) == data


def test_rate_from_recognised_words_counts_characters_for_chinese():
    # Vosk's zh words: 6 characters said in 2.0 s, then a 1 s breath, then 4 in 1.0 s.
    words = [Word("您好", 0.5, 1.1, 1.0), Word("请问", 1.15, 1.8, 1.0), Word("有什么", 1.85, 2.5, 1.0),
             Word("[unk]", 3.0, 3.2, 0.5), Word("可以", 3.5, 4.0, 1.0), Word("帮您", 4.0, 4.5, 1.0)]
    # [unk] is not speech; the gap 2.5 -> 3.5 is a pause and is left out; the 0.05 s gaps count.
    rate = speaking_rate_from_words(words, "zh-CN")
    assert rate == {"speaking_rate": round(11 / 3.0 * 60, 1), "speaking_rate_unit": CHARS_PER_MIN,
                    "speaking_rate_basis": "transcript", "voiced_s": 3.0}


def test_rate_from_recognised_words_counts_words_for_english_and_accepts_vosk_dicts():
    words = [{"word": w, "start": i * 0.4, "end": i * 0.4 + 0.35, "conf": 1.0}
             for i, w in enumerate("thank you for waiting i'll check that now".split())]
    rate = speaking_rate_from_words(words, "en-US")
    voiced = 7 * 0.4 + 0.35  # the 0.05 s gaps between words are part of speaking
    assert rate["speaking_rate_unit"] == WORDS_PER_MIN and rate["voiced_s"] == round(voiced, 2)
    assert rate["speaking_rate"] == round(8 / voiced * 60, 1)


def test_pauses_of_the_threshold_are_left_out_and_shorter_ones_kept():
    just_under = [("a", 0.0, 1.0), ("b", 1.0 + RATE_PAUSE_S - 0.01, 2.0)]
    at = [("a", 0.0, 1.0), ("b", 1.0 + RATE_PAUSE_S, 2.0 + RATE_PAUSE_S)]
    assert voiced_seconds_from_words(just_under) == pytest.approx(2.0)
    assert voiced_seconds_from_words(at) == pytest.approx(2.0)
    assert speaking_rate_from_words([]) == {} and speaking_rate_from_words([("[unk]", 0.0, 1.0)]) == {}


def test_units_per_language():
    assert count_units("您好，我是小王，工号 A12。", CHARS_PER_MIN) == 8 + 1  # a Latin token inside counts once
    assert count_units("I'm sorry, let me check.", WORDS_PER_MIN) == 5
    assert count_units("기다려 주셔서", CHARS_PER_MIN) == 6


def test_text_stands_in_for_the_transcript(speak_audio):
    audio = speak_audio(EN, "en-us", rate=175)
    plain = compute_metrics(audio)
    given = compute_metrics(audio, text=EN)
    assert given.speaking_rate_basis == "text" and given.speaking_rate_unit == WORDS_PER_MIN
    assert given.voiced_s == plain.voiced_s and 0 < given.voiced_s <= given.duration_s
    assert given.speaking_rate == pytest.approx(31 / given.voiced_s * 60, abs=0.1)
    # Recognised words win over the text; neither changes the energy estimate.
    words = speaking_rate_from_words([("hello", 0.0, 0.5)], "en-US")
    assert compute_metrics(audio, text=EN, words=[("hello", 0.0, 0.5)]).speaking_rate == words["speaking_rate"]
    assert given.speaking_rate_sps == plain.speaking_rate_sps
    assert compute_metrics(pcm(np.zeros(32000)), text=EN).speaking_rate is None  # nothing voiced
