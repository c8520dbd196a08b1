"""Is a reply said to a caller or a list of keywords (grading/sentence.py)?"""
from __future__ import annotations

import pytest

from grading.sentence import looks_like_sentence


@pytest.mark.parametrize("text", [
    "理解 抱歉 宽带账号 是多少",
    "非常抱歉、理解您的心情、感谢您的耐心、一定尽力、高级工程师、换机申请、主管核定、两个工作日、电话通知。",
])
def test_keywords_and_a_read_out_checklist_are_not_sentences(text):
    assert not looks_like_sentence(text, "zh-CN")


@pytest.mark.parametrize("text", [
    "您记一下：W、X、2024、1105、208。后天上午九点到十二点师傅到，不会让您白等。",
    "我先把地板泡坏的事、工单号、前面转了三次的经过都写清楚报给主管。",
    "冻卡、补新卡、提调查，这三件我现在就能给您办完。",
])
def test_an_enumeration_inside_speech_is_still_a_sentence(text):
    assert looks_like_sentence(text, "zh-CN")
