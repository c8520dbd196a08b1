import pytest

from grading.delivery import count_fillers, judge_delivery

BASE = {"speech_rate_sps": 4.0, "loudness_dbfs": -20.0, "onset_s": 1.0, "pauses": [], "duration_s": 5.0}


def judge(turn, baseline=BASE, provoked=True, transcript="", language="zh-CN", points=5):
    results = judge_delivery(turn, baseline, points=points, provoked=provoked, transcript=transcript,
                             language=language)
    return {r.rule.split(":")[1]: r for r in results}


def turn(**changes):
    return {**BASE, **changes}


def test_clean_turn_keeps_every_share():
    results = judge(turn())
    assert set(results) == {"speech_rate", "loudness", "response_latency", "pauses", "fillers"}
    assert all(r.matched and r.points_awarded == 1 for r in results.values())
    assert sum(r.points_possible for r in results.values()) == 5


@pytest.mark.parametrize(("rate", "ok"), [(4.8, True), (4.81, False)])
def test_speaking_rate_boundary_under_provocation(rate, ok):
    result = judge(turn(speech_rate_sps=rate))["speech_rate"]
    assert result.matched is ok and result.points_awarded == (1 if ok else 0)
    for text in result.evidence[0].values():  # the figures in both UI languages
        assert "4.00" in text and f"{rate:.2f}" in text


def test_speeding_up_without_provocation_is_not_judged():
    result = judge(turn(speech_rate_sps=6.0), provoked=False)["speech_rate"]
    assert result.matched and "not judged" in result.evidence[0]["en"] and "不评判" in result.evidence[0]["zh-CN"]


@pytest.mark.parametrize(("loudness", "ok"), [(-14.0, True), (-13.9, False)])
def test_loudness_boundary(loudness, ok):
    result = judge(turn(loudness_dbfs=loudness))["loudness"]
    assert result.matched is ok and all("dB" in text for text in result.evidence[0].values())


def test_first_turn_passes_rate_and_loudness_and_says_so():
    results = judge(turn(speech_rate_sps=9.0, loudness_dbfs=0.0), baseline=None)
    for rule in ("speech_rate", "loudness"):
        assert results[rule].matched and "no baseline" in results[rule].evidence[0]["en"]
        assert "第一轮" in results[rule].evidence[0]["zh-CN"]


@pytest.mark.parametrize(("onset", "ok"), [(3.0, True), (3.01, False)])
def test_response_latency_boundary(onset, ok):
    result = judge(turn(onset_s=onset))["response_latency"]
    assert result.matched is ok and f"{onset:.1f} s" in result.evidence[0]["en"]
    assert f"{onset:.1f} 秒" in result.evidence[0]["zh-CN"]


@pytest.mark.parametrize(("pause", "ok"), [(1.5, True), (1.51, False)])
def test_pause_boundary(pause, ok):
    result = judge(turn(pauses=[{"start": 0.5, "duration": 0.3}, {"start": 2.0, "duration": pause}]))["pauses"]
    assert result.matched is ok


def test_metric_names_from_the_speech_package_are_accepted():
    results = judge({"speaking_rate_sps": 6.0, "loudness_dbfs": -20.0, "speech_onset_s": 4.0,
                     "pauses": [{"start_s": 1.0, "duration_s": 2.0}]})
    assert not results["speech_rate"].matched
    assert not results["response_latency"].matched
    assert not results["pauses"].matched


@pytest.mark.parametrize(
    ("transcript", "language", "count"),
    [
        ("嗯，我看一下，呃", "zh-CN", 2),
        ("嗯 那个 就是说 我帮您查", "zh-CN", 3),
        ("然后然后我们再看", "zh-CN", 1),
        ("Um, I'd like to check, uh, you know", "en-US", 3),
        ("Do you know your account number?", "en-US", 0),
    ],
)
def test_filler_counting(transcript, language, count):
    assert count_fillers(transcript, language)[0] == count


def test_more_than_two_fillers_lose_the_share():
    assert judge(turn(), transcript="嗯，呃，我看一下")["fillers"].matched
    failed = judge(turn(), transcript="嗯，呃，那个，我看一下")["fillers"]
    assert not failed.matched and "3 filler words" in failed.evidence[0]["en"]
    assert "语气词 3 个（嗯、呃、那个）" in failed.evidence[0]["zh-CN"]
    english = judge(turn(), transcript="um, uh, like, whatever", language="en-US")["fillers"]
    assert not english.matched


def test_rate_from_what_was_said_is_judged_in_characters_per_minute():
    base = {**BASE, "speaking_rate": 200.0, "speaking_rate_unit": "chars/min"}
    ok = judge(turn(speaking_rate=240.0, speaking_rate_unit="chars/min"), baseline=base)["speech_rate"]
    fast = judge(turn(speaking_rate=241.0, speaking_rate_unit="chars/min"), baseline=base)["speech_rate"]
    assert ok.matched and not fast.matched
    assert "241 字/分钟" in fast.evidence[0]["zh-CN"] and "241 chars/min" in fast.evidence[0]["en"]
    words = judge(turn(speaking_rate=150.0, speaking_rate_unit="words/min"),
                  baseline={**BASE, "speaking_rate": 140.0, "speaking_rate_unit": "words/min"})["speech_rate"]
    assert words.matched and "150 words/min" in words.evidence[0]["en"] and "词/分钟" in words.evidence[0]["zh-CN"]


def test_rates_measured_differently_are_not_compared():
    # The first turn had no recognised words: both fall back to the energy estimate (syllables/s).
    result = judge(turn(speech_rate_sps=6.0, speaking_rate=100.0, speaking_rate_unit="chars/min"))["speech_rate"]
    assert not result.matched and "6.00 syll/s" in result.evidence[0]["en"]
