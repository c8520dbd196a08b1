"""Constructions (grading/patterns.py): negations keep their polarity, and a rule phrase the agent
says they will NOT say is not said."""
from __future__ import annotations

import pytest

from grading.patterns import find_pattern, key_text


def found(text: str, pattern: str, language: str = "zh-CN") -> str | None:
    match = find_pattern(key_text(text, language), pattern)
    return match.matched_text if match else None


def test_a_homophone_still_matches_an_ordinary_character():
    assert found("我理解您的心情", "里解") == "理解"


def test_a_negation_is_never_heard_as_its_homophone():
    # 不 and 补 share the syllable "bu", 是 and 十 "shi", 钱 and 千 "qian": by sound alone
    # "心疼的不光是钱" names a compensation amount ("补…十千").
    assert found("心疼的不光是钱，还有那份心思", "(赔|补偿|补|给)(您|你)?~{num}(块|元|百|千)") is None
    assert found("这部分我们补您十千", "(赔|补偿|补|给)(您|你)?~{num}(块|元|百|千)") == "补您十千"


def test_a_negation_in_the_pattern_matches_only_itself():
    assert found("我没办法", "(没|没有)办法") == "没办法"
    assert found("我梅办法", "(没|没有)办法") is None


@pytest.mark.parametrize("said", ["我不会跟您说这是规定", "我不是跟您说这是规定", "也不想跟您讲这是规定",
                                  "我不跟您提这是规定"])
def test_a_rule_phrase_the_agent_says_they_will_not_say_is_not_said(said):
    assert found(said, "这是规定") is None


def test_the_same_rule_phrase_said_outright_is_found():
    assert found("不好意思，这是规定", "这是规定") == "这是规定"
    assert found("我跟您说这是规定", "这是规定") == "这是规定"


@pytest.mark.parametrize("said", ["I'm not going to tell you there's nothing I can do",
                                  "i am not going too tell you there is nothing i can do",
                                  "I won't tell you there's nothing I can do"])
def test_english_negated_telling_is_not_saying(said):
    assert found(said, "(there is|there''s) nothing (i|we) can do", "en-US") is None


def test_english_rule_phrase_said_outright_is_found():
    assert found("Sorry, there's nothing I can do", "(there is|there''s) nothing (i|we) can do", "en-US")


@pytest.mark.parametrize("said", ["我不得不说这是规定", "我不能不跟您说这是规定", "不用说这是规定", "我不是跟你说这是规定吗？"])
def test_saying_it_anyway_or_asking_it_back_is_saying_it(said):
    # 不得不/不能不 say it; 不用说 is "needless to say"; a question repeats it.
    assert found(said, "这是规定") == "这是规定"
