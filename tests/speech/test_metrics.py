from __future__ import annotations

import json

import numpy as np
import pytest

from speech.audio import Audio
from speech.metrics import compute_metrics

from .conftest import trim_silence

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
                         "pitch_mean_hz", "pitch_spread_hz", "syllable_count", "speaking_rate_sps"}
    assert json.loads(json.dumps(data)) == data
