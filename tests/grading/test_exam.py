import pytest

from grading.exam import (
    score_listen_type,
    score_multiple,
    score_ordering,
    score_phrase_rewrite,
    score_single,
    score_true_false,
    typing_accuracy,
)
from grading.rubric import RubricItem


def test_single_and_true_false():
    assert score_single("a", "a") == 1.0
    assert score_single("b", "a") == 0.0
    assert score_single(None, "a") == 0.0
    assert score_true_false(True, True) == 1.0
    assert score_true_false(False, True) == 0.0
    assert score_true_false(None, False) == 0.0


@pytest.mark.parametrize(
    ("selected", "expected"),
    [(["a", "b", "c"], 1.0), (["a", "b"], 2 / 3), (["a", "b", "d"], 1 / 3), (["a", "d", "e"], 0.0), ([], 0.0),
     (["a", "a"], 1 / 3)],
)
def test_multiple_proportional(selected, expected):
    assert score_multiple(selected, ["a", "b", "c"], "proportional") == pytest.approx(expected)


def test_multiple_all_or_nothing():
    assert score_multiple(["c", "a", "b"], ["a", "b", "c"], "all_or_nothing") == 1.0
    assert score_multiple(["a", "b"], ["a", "b", "c"], "all_or_nothing") == 0.0


def test_multiple_unknown_rule_is_an_error():
    with pytest.raises(ValueError):
        score_multiple(["a"], ["a"], "half")


@pytest.mark.parametrize(
    ("given", "expected"),
    [(["s1", "s2", "s3", "s4"], 1.0), (["s4", "s3", "s2", "s1"], 0.0), (["s2", "s3", "s4", "s1"], 2 / 3),
     (["s1", "s3", "s2", "s4"], 2 / 3), (["s2", "s1", "s4", "s3"], 1 / 3), ([], 0.0), (["s1", "s2"], 1 / 3)],
)
def test_ordering_pairs(given, expected):
    assert score_ordering(given, ["s1", "s2", "s3", "s4"], "pairs") == pytest.approx(expected)


def test_ordering_all_or_nothing():
    assert score_ordering(["s1", "s2", "s3"], ["s1", "s2", "s3"], "all_or_nothing") == 1.0
    assert score_ordering(["s1", "s3", "s2"], ["s1", "s2", "s3"], "all_or_nothing") == 0.0


def test_phrase_rewrite_reuses_rubric_grading():
    items = [
        RubricItem("ask", "intent", 1, phrases=("请您稍等",)),
        RubricItem("thank", "intent", 1, phrases=("感谢您的耐心",)),
        RubricItem("no-order", "forbidden", 1, phrases=("你等一下",)),
    ]
    full = score_phrase_rewrite("请您稍等，感谢您的耐心", items, "zh-CN")
    assert full.fraction == 1.0
    half = score_phrase_rewrite("请 您 稍 等", items, "zh-CN")
    assert half.fraction == 0.5 and len(half.tips) == 1
    assert score_phrase_rewrite("", items, "zh-CN").fraction == 0.0


def test_listen_type_ignores_full_width_punctuation_and_spaces():
    expected = "您好，请问有什么可以帮您？"
    assert typing_accuracy(expected, "您好, 请问 有什么可以帮您?", "zh-CN") == 1.0
    assert typing_accuracy(expected, "您好　请问有什么可以帮您", "zh-CN") == 1.0


def test_listen_type_full_points_when_accurate_and_fast():
    result = score_listen_type("您好请问有什么可以帮您", "您好请问有什么可以帮您", seconds=12,
                               min_accuracy=0.9, min_cpm=50, language="zh-CN")
    assert result.accuracy == 1.0 and result.cpm == 55.0 and result.fraction == 1.0


def test_listen_type_too_slow_scores_accuracy():
    result = score_listen_type("您好请问有什么可以帮您", "您好请问有什么可以帮您", seconds=60,
                               min_accuracy=0.9, min_cpm=50, language="zh-CN")
    assert result.cpm == 11.0 and result.fraction == 1.0 * result.accuracy


def test_listen_type_partial_and_failed_accuracy():
    expected = "abcdefghij"
    partial = score_listen_type(expected, "abcdefghxx", 6, 0.9, 50, "en-US")   # 8/10 correct
    assert partial.accuracy == pytest.approx(0.8) and partial.fraction == pytest.approx(0.8)
    at_floor = score_listen_type(expected, "abcdefgxxx", 6, 0.9, 50, "en-US")   # 0.7 = 0.9 − 0.2
    assert at_floor.fraction == pytest.approx(0.7)
    failed = score_listen_type(expected, "abcdefxxxx", 6, 0.9, 50, "en-US")
    assert failed.accuracy == pytest.approx(0.6) and failed.fraction == 0.0


def test_listen_type_empty_answer_scores_zero():
    result = score_listen_type("您好", "", 10, 0.9, 50, "zh-CN")
    assert result.fraction == 0.0 and result.accuracy == 0.0 and result.cpm == 0.0
    assert score_listen_type("您好", "您好", 0, 0.9, 50, "zh-CN").cpm == 0.0
