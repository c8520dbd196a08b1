"""Listen-and-type differences and the weighted accuracy: meaning-changing slips (numbers, dates,
days, negations, amounts) cost more than other characters."""
from __future__ import annotations

import pytest

from grading.exam import score_listen_type, typing_accuracy
from grading.typing import CRITICAL_WEIGHT, EXTRA, MISSING, SAME, WRONG, compare_typing, critical_mask


def marked(text: str, language: str = "zh-CN") -> str:
    return "".join(char for char, flag in zip(text, critical_mask(text, language)) if flag)


def test_meaning_changing_spans_in_chinese():
    assert marked("我昨天晚上打过电话") == "昨天"
    assert marked("星期三下午到上门") == "星期三下午"
    assert marked("一共两百五十元") == "两百五十元"
    assert marked("话费多了30块") == "30块"
    assert marked("第三次打电话") == "第三"
    assert marked("还没来，别挂") == "没别"
    assert marked("师傅不来了") == "不"
    # Not negations or numbers: a polite phrase, "especially", "the future", "wait a moment".
    assert marked("不好意思，特别是未来请等一下") == ""


def test_meaning_changing_spans_in_english():
    text = "i will not call you on monday at 3"
    assert marked(text, "en-US") == "notmonday3"
    assert marked("you owe twenty dollars", "en-US") == "twentydollars"


def test_today_for_yesterday_is_not_full_marks_any_more():
    said = "我家的宽带从昨天晚上开始就一直连不上网，麻烦你们尽快派人来看看。"
    typed = said.replace("昨天", "今天")
    # One character in 29: plain character accuracy would be 96.6 % and pass a 90 % bar.
    weighted = typing_accuracy(said, typed, "zh-CN")
    assert weighted < 0.9
    ordinary = typing_accuracy(said, said.replace("麻烦", "麻番"), "zh-CN")
    assert 0.9 < ordinary < 1.0 and weighted < ordinary
    fast_enough = score_listen_type(said, typed, 30, min_accuracy=0.9, min_cpm=30, language="zh-CN")
    assert fast_enough.fraction < 1.0


def test_weights_are_exact():
    # 今天晚上: 今天 weighs CRITICAL_WEIGHT each, 晚上 1 each; one critical substitution.
    result = compare_typing("今天晚上", "昨天晚上", "zh-CN")
    total = 2 * CRITICAL_WEIGHT + 2
    assert result.accuracy == pytest.approx(1 - CRITICAL_WEIGHT / total)
    assert result.errors == 1 and result.critical_errors == 1
    # A negation typed that was never said weighs as much as one left out.
    extra = compare_typing("师傅一会儿就来了", "师傅一会儿就没来了", "zh-CN")
    assert extra.accuracy == pytest.approx(1 - CRITICAL_WEIGHT / 8) and extra.critical_errors == 1
    missing = compare_typing("师傅一会儿就没来了", "师傅一会儿就来了", "zh-CN")
    assert missing.accuracy == pytest.approx(1 - CRITICAL_WEIGHT / (8 + CRITICAL_WEIGHT))


def test_the_diff_shows_wrong_missing_and_extra_characters():
    result = compare_typing("今天晚上好", "昨天晚好呀", "zh-CN")
    kinds = [(part.kind, part.expected, part.typed, part.critical) for part in result.parts]
    assert kinds == [
        (WRONG, "今", "昨", True),
        (SAME, "天", "天", True),
        (SAME, "晚", "晚", False),
        (MISSING, "上", "", False),
        (SAME, "好", "好", False),
        (EXTRA, "", "呀", False),
    ]
    assert result.errors == 3 and result.critical_errors == 1
    # Punctuation, width and spaces never count.
    assert compare_typing("您好，请问？", "您好 请问?", "zh-CN").errors == 0


def test_long_answers_still_compare():
    said = "您好请问有什么可以帮您" * 30
    result = compare_typing(said, said + "多" * 1000, "zh-CN")
    assert result.errors == 1000 and result.accuracy == 0.0


def test_empty_texts():
    assert compare_typing("", "", "zh-CN").accuracy == 1.0
    assert compare_typing("", "多", "zh-CN").accuracy == 0.0
    nothing = compare_typing("您好", "", "zh-CN")
    assert nothing.accuracy == 0.0 and [part.kind for part in nothing.parts] == [MISSING]
