"""Judging how a reply was spoken: pace, volume, latency, pauses and filler words.

The trainee is compared with their own first turn rather than a fixed norm, because
voices differ; the rule from the handbook is not to get louder or faster when provoked.
Each rule holds an equal share of the delivery points and keeps it unless broken.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from grading.localize import both
from grading.rubric import ItemResult
from grading.text import family, normalise

MAX_RATE_INCREASE = 0.20     # share over the first turn's speaking rate
MAX_LOUDNESS_INCREASE_DB = 6.0
MAX_ONSET_S = 3.0
MAX_PAUSE_S = 1.5
MAX_FILLERS = 2

_FILLERS_ZH = ("然后然后", "就是说", "那个", "嗯", "呃", "啊")   # longest first: counted without overlap
_FILLERS_KO = ("그러니까", "저기", "음", "어")
# "like" and "you know" only count as fillers where they are not doing real work
# ("I'd like to", "do you know your account number").
_FILLER_WORDS_EN = re.compile(
    r"\b(?:u+m+|u+h+|e+r+m*|h+m+"
    r"|(?<!would )(?<!\bid )(?<!\bwed )(?<!youd )(?<!\blook )(?<!looks )(?<!feel )like"
    r"|(?<!\bdo )(?<!did )you know)\b"
)

_EXPLANATIONS: dict[str, dict[str, str]] = {
    "speech_rate": {
        "zh-CN": "客户情绪激动时不要跟着加快语速，放慢呼吸、保持语调平稳。",
        "en": "Don't speed up when the caller gets heated; slow your breathing and keep an even tone.",
    },
    "loudness": {
        "zh-CN": "无论客户态度如何，都不要提高音量“回敬”客户。",
        "en": "Whatever the caller says, never raise your voice back at them.",
    },
    "response_latency": {
        "zh-CN": "客户说完后要及时回应，长时间沉默会让客户以为没人在听。",
        "en": "Answer promptly once the caller has finished; a long silence sounds like nobody is listening.",
    },
    "pauses": {
        "zh-CN": "回答中间不要长时间停顿，先想好要点再开口。",
        "en": "Avoid long pauses mid-answer; gather the key points before you speak.",
    },
    "fillers": {
        "zh-CN": "少用“嗯、呃、那个、就是说”等口头禅，吐字清晰、表达干脆。",
        "en": "Cut filler words such as \"um\", \"uh\" and \"you know\"; speak clearly and to the point.",
    },
}
_RULES = tuple(_EXPLANATIONS)


def count_fillers(transcript: str, language: str) -> tuple[int, list[str]]:
    """How many filler words the transcript holds, and which ones."""
    fam = family(language)
    if fam == "en":
        found = _FILLER_WORDS_EN.findall(normalise(transcript, language))
        return len(found), found
    text = normalise(transcript, language)
    pattern = re.compile("|".join(_FILLERS_ZH if fam == "zh" else _FILLERS_KO))
    found = pattern.findall(text)
    return len(found), found


# Accepted key spellings: the names in the brief first, then speech.metrics.DeliveryMetrics'.
_RATE_KEYS = ("speech_rate_sps", "speaking_rate_sps")
_ONSET_KEYS = ("onset_s", "speech_onset_s")
_PAUSE_DURATION_KEYS = ("duration", "duration_s")


# Rates measured from what was said (speech.metrics: speaking_rate + speaking_rate_unit).
_RATE_UNITS = {"chars/min": ("字/分钟", "chars/min"), "words/min": ("词/分钟", "words/min")}


def _rates(turn: Mapping[str, Any],
           baseline: Mapping[str, Any] | None) -> tuple[float | None, float | None, str | None]:
    """(this turn's rate, the first turn's, the unit or None for syllables/s).

    The rate from the words is used when both turns have it in the same unit; otherwise both fall
    back to the energy estimate, so a turn is never compared with a figure measured another way.
    """
    unit = (turn or {}).get("speaking_rate_unit")
    if unit in _RATE_UNITS and (baseline is None or baseline.get("speaking_rate_unit") == unit):
        rate, base_rate = _number(turn, ("speaking_rate",)), _number(baseline, ("speaking_rate",))
        if rate is not None:
            return rate, base_rate, unit
    return _number(turn, _RATE_KEYS), _number(baseline, _RATE_KEYS), None


def _number(metrics: Mapping[str, Any] | None, keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = (metrics or {}).get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def judge_delivery(
    turn: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    *,
    points: float,
    provoked: bool,
    transcript: str,
    language: str,
) -> list[ItemResult]:
    """One ItemResult per delivery rule for this turn; each names the measured figures.

    `baseline` is the trainee's own first turn (None while grading the first turn).
    `provoked` says whether the customer's line was an angry one: speeding up only
    counts against the trainee under provocation.
    """
    share = float(points) / len(_RULES)

    def result(rule: str, ok: bool, evidence: dict[str, str]) -> ItemResult:
        return ItemResult(f"delivery-{rule.replace('_', '-')}", "intent", share, share if ok else 0.0,
                          ok, [evidence], f"delivery:{rule}", dict(_EXPLANATIONS[rule]))

    first_turn = both("第一轮回复，还没有对比基准：不评判", "no baseline yet (first turn): not judged")
    results: list[ItemResult] = []

    rate, base_rate, unit = _rates(turn, baseline)
    rate_limit = f"{MAX_RATE_INCREASE:+.0%}"
    if baseline is None:
        results.append(result("speech_rate", True, first_turn))
    elif rate is None or not base_rate:
        results.append(result("speech_rate", True, both("没有测到语速：不评判", "speech rate not measured: not judged")))
    else:
        change = rate / base_rate - 1.0
        if unit is None:
            zh = f"语速 {rate:.2f} 音节/秒，第一轮 {base_rate:.2f}（{change:+.0%}，上限 {rate_limit}）"
            en = f"{rate:.2f} syll/s vs first turn {base_rate:.2f} ({change:+.0%}, limit {rate_limit})"
        else:
            zh_unit, en_unit = _RATE_UNITS[unit]
            zh = f"语速 {rate:.0f} {zh_unit}，第一轮 {base_rate:.0f}（{change:+.0%}，上限 {rate_limit}）"
            en = f"{rate:.0f} {en_unit} vs first turn {base_rate:.0f} ({change:+.0%}, limit {rate_limit})"
        if not provoked:
            results.append(result("speech_rate", True, both(f"{zh}；客户这句不激烈：不评判",
                                                            f"{en}; caller not provoking: not judged")))
        else:
            results.append(result("speech_rate", change <= MAX_RATE_INCREASE + 1e-9, both(zh, en)))

    loud, base_loud = _number(turn, ("loudness_dbfs",)), _number(baseline, ("loudness_dbfs",))
    if baseline is None:
        results.append(result("loudness", True, first_turn))
    elif loud is None or base_loud is None:
        results.append(result("loudness", True, both("没有测到音量：不评判", "loudness not measured: not judged")))
    else:
        rise = loud - base_loud
        results.append(result("loudness", rise <= MAX_LOUDNESS_INCREASE_DB + 1e-9, both(
            f"音量 {loud:.1f} dBFS，第一轮 {base_loud:.1f}（{rise:+.1f} dB，上限 +{MAX_LOUDNESS_INCREASE_DB:g} dB）",
            f"{loud:.1f} dBFS vs first turn {base_loud:.1f} ({rise:+.1f} dB, limit +{MAX_LOUDNESS_INCREASE_DB:g} dB)",
        )))

    onset = _number(turn, _ONSET_KEYS)
    if onset is None:
        results.append(result("response_latency", True,
                              both("没有测到开口时间：不评判", "response latency not measured: not judged")))
    else:
        results.append(result("response_latency", onset <= MAX_ONSET_S, both(
            f"{onset:.1f} 秒后开口（上限 {MAX_ONSET_S:g} 秒）", f"answered after {onset:.1f} s (limit {MAX_ONSET_S:g} s)")))

    pauses = [_number(p, _PAUSE_DURATION_KEYS) or 0.0 for p in turn.get("pauses") or [] if isinstance(p, Mapping)]
    longest = max(pauses, default=0.0)
    long_pauses = [p for p in pauses if p > MAX_PAUSE_S]
    results.append(result("pauses", not long_pauses, both(
        f"最长停顿 {longest:.1f} 秒，超过 {MAX_PAUSE_S:g} 秒的 {len(long_pauses)} 处",
        f"longest pause {longest:.1f} s, {len(long_pauses)} over {MAX_PAUSE_S:g} s",
    )))

    filler_count, fillers = count_fillers(transcript, language)
    results.append(result("fillers", filler_count <= MAX_FILLERS, both(
        f"语气词 {filler_count} 个（{'、'.join(fillers) if fillers else '无'}），上限 {MAX_FILLERS} 个",
        f"{filler_count} filler words ({', '.join(fillers) if fillers else 'none'}), limit {MAX_FILLERS}",
    )))
    return results
