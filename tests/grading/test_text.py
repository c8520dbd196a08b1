from grading.text import family, normalise, tokenize

import pytest


def test_full_width_and_spaces_fold_away_in_chinese():
    assert normalise("您好，　请问 有 什么 可以 帮 您？ＯＫ", "zh-CN") == "您好请问有什么可以帮您ok"


def test_english_normalise_lowercases_and_strips_punctuation():
    assert normalise("  Hello,   World!  ", "en-US") == "hello world"


def test_chinese_units_carry_toneless_pinyin_and_original_offsets():
    text = "我 理 姐"
    units = tokenize(text, "zh-CN")
    assert [u.text for u in units] == ["我", "理", "姐"]
    assert [u.sound for u in units] == ["wo", "li", "jie"]
    assert [text[u.start:u.end] for u in units] == ["我", "理", "姐"]


def test_punctuation_starts_a_new_clause():
    units = tokenize("不，我理解", "zh-CN")
    assert units[0].clause != units[1].clause


@pytest.mark.parametrize(
    ("said", "words"),
    [
        ("I don't understand", ["i", "do", "not", "understand"]),
        ("I’m sorry", ["i", "am", "sorry"]),
        ("We can't help", ["we", "can", "not", "help"]),
        ("I cannot", ["i", "can", "not"]),
        ("that's the company's policy", ["that", "is", "the", "company", "policy"]),
        ("dont worry", ["do", "not", "worry"]),
    ],
)
def test_english_contractions_expand(said, words):
    assert [u.text for u in tokenize(said, "en-US")] == words


def test_expanded_words_point_back_at_the_contraction():
    text = "I don't know"
    units = tokenize(text, "en-US")
    assert [text[u.start:u.end] for u in units] == ["I", "don't", "don't", "know"]


def test_unknown_language_is_rejected():
    with pytest.raises(ValueError):
        family("fr-FR")
