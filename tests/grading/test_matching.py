from hypothesis import given, settings
from hypothesis import strategies as st

from grading.matching import find_all, find_any, find_phrase

import pytest

ZH, EN, KO = "zh-CN", "en-US", "ko-KR"


# --- speech-recognition noise (zh) ----------------------------------------------------

def test_homophone_still_matches_and_reports_the_transcript_words():
    match = find_phrase("我 理 姐 您 的 心 情", "理解", ZH)
    assert match is not None
    assert match.matched_text == "理 姐"
    assert (match.start, match.end) == (2, 5)
    assert match.score == 100.0


def test_spaces_between_characters_and_full_width_punctuation_do_not_matter():
    match = find_phrase("王先生，您 好 ！我 非 常 理 解 您 的 心 情。", "理解您的心情", ZH)
    assert match is not None and match.matched_text == "理 解 您 的 心 情"


def test_dropped_character_in_a_longer_phrase_still_matches():
    match = find_phrase("这是公司政策", "这是公司的政策", ZH)
    assert match is not None and match.matched_text == "这是公司政策"
    assert match.score < 100.0


def test_substituted_character_in_a_longer_phrase_still_matches():
    assert find_phrase("我马上帮您查一查", "我马上帮您查一下", ZH) is not None


def test_two_errors_in_a_seven_character_phrase_are_too_many():
    assert find_phrase("这公司政策", "这是公司的政策", ZH) is None


def test_short_phrase_needs_exact_pinyin():
    assert find_phrase("我了解", "理解", ZH) is None           # liao jie ≠ li jie
    assert find_phrase("请您稍等", "稍等", ZH) is not None


def test_single_character_phrase_needs_that_character_not_a_homophone():
    assert find_phrase("我理解您的心情", "请", ZH) is None     # 情 sounds like 请
    assert find_phrase("请稍等", "请", ZH) is not None


def test_polite_and_plain_you_are_the_same_person():
    assert find_phrase("请你稍等一下", "请您稍等一下", ZH) is not None


def test_pronouns_cannot_be_swapped():
    assert find_phrase("我们必须先核实您的身份", "你们必须", ZH) is None
    assert find_phrase("你们必须先交费", "你们必须", ZH) is not None


# --- negation -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "said",
    ["我不理解", "我不太理解", "我没理解", "我没有理解", "我不是很理解", "我无法理解", "我理解不了", "我 不 理 解"],
)
def test_negated_chinese_does_not_match(said):
    assert find_phrase(said, "理解", ZH) is None


def test_negated_longer_phrase_does_not_match_even_through_a_shifted_span():
    assert find_phrase("我不理解您的心情", "我理解您的心情", ZH) is None
    assert find_phrase("我不理解您现在的心情啊", "理解您现在的心情", ZH) is None


def test_words_that_merely_contain_a_negation_character_do_not_negate():
    assert find_phrase("非常理解您的心情", "理解您的心情", ZH) is not None
    assert find_phrase("不好意思，我理解您", "我理解您", ZH) is not None


def test_negation_in_another_clause_does_not_negate():
    assert find_phrase("不，我理解", "我理解", ZH) is not None


def test_phrase_that_contains_a_negation_matches_when_said():
    assert find_phrase("这个问题我没办法", "我没办法", ZH) is not None
    assert find_phrase("我 没 办 法", "我没办法", ZH) is not None


def test_negation_inside_a_phrase_cannot_be_dropped_or_replaced():
    assert find_phrase("我有办法", "我没办法", ZH) is None
    assert find_phrase("我有办法的", "我没有办法的", ZH) is None


@pytest.mark.parametrize(
    "said",
    ["I don't understand", "I do not understand", "I never understood", "I really don't understand"],
)
def test_negated_english_does_not_match(said):
    assert find_phrase(said, "I understand", EN) is None


def test_negation_before_a_longer_english_match_is_refused():
    assert find_phrase("I do not understand how frustrating this is", "I understand how frustrating", EN) is None
    assert find_phrase("I don't really understand", "understand", EN) is None


def test_english_phrase_with_its_own_negation_matches_in_any_spelling():
    for said in ("Sorry, I can't help you", "I cannot help", "I can not help", "I can’t help"):
        assert find_phrase(said, "I can't help", EN) is not None, said
    assert find_phrase("I can help you with that", "I can't help", EN) is None


# --- English and Korean ---------------------------------------------------------------

def test_english_match_reports_the_original_span():
    text = "Well, that's company policy, sir."
    match = find_phrase(text, "that is company policy", EN)
    assert match is not None
    assert match.matched_text == "that's company policy"
    assert text[match.start:match.end] == match.matched_text


def test_english_misspelt_word_still_matches_but_a_different_word_does_not():
    assert find_phrase("I apologize", "I apologise", EN) is not None
    assert find_phrase("sorry for the inconvenience", "sorry for the wait", EN) is None


def test_korean_tolerates_spacing_and_one_wrong_syllable():
    assert find_phrase("기다려주셔서 감사함니다", "기다려 주셔서 감사합니다", KO) is not None
    assert find_phrase("안녕하세요 고객센터입니다", "고객센터입니다", KO) is not None


def test_korean_negation_word_before_the_match_is_refused():
    assert find_phrase("안 감사합니다", "감사합니다", KO) is None


# --- find_any / find_all --------------------------------------------------------------

def test_find_any_returns_the_best_phrase():
    match = find_any("您好，请问有什么可以帮您", ["再见", "有什么可以帮您"], ZH)
    assert match is not None and match.phrase == "有什么可以帮您"


def test_find_any_with_nothing_to_find():
    assert find_any("", ["您好"], ZH) is None
    assert find_any("您好", [], ZH) is None


def test_find_all_lists_each_occurrence_once_in_reply_order():
    found = find_all("你必须交费，你必须今天交", ["你必须", "您必须"], ZH)
    assert [m.matched_text for m in found] == ["你必须", "你必须"]
    assert found[0].start < found[1].start


def test_hollow_listening_double_is_found_but_the_adverb_is_not():
    assert find_phrase("好，好，您说", "好，好", ZH) is not None
    assert find_phrase("好 好 好 您 别 着 急", "好，好", ZH) is not None
    assert find_phrase("我们一定好好处理", "好，好", ZH) is None


# --- properties -------------------------------------------------------------------------

PHRASES = ["我理解您的心情", "非常感谢您的耐心等待", "这是公司的政策", "请问您的账号是多少"]


@settings(max_examples=60, deadline=None)
@given(
    phrase=st.sampled_from(PHRASES),
    spaces=st.lists(st.sampled_from(["", " ", "　"]), min_size=12, max_size=12),
    prefix=st.sampled_from(["", "王先生，", "嗯 ", "您好！"]),
)
def test_spacing_never_changes_a_match(phrase, spaces, prefix):
    spaced = "".join(char + gap for char, gap in zip(phrase, spaces))
    match = find_phrase(prefix + spaced + "。", phrase, ZH)
    assert match is not None
    assert match.matched_text.replace(" ", "").replace("　", "") == phrase


@settings(max_examples=40, deadline=None)
@given(phrase=st.sampled_from(["理解您的心情", "明白您的意思", "理解"]), marker=st.sampled_from(["不", "没", "没有", "不太", "无法"]))
def test_a_negation_marker_before_an_intent_always_blocks_it(phrase, marker):
    assert find_phrase("我" + marker + phrase, phrase, ZH) is None
