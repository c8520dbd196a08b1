import pytest

from grading.call import (
    CallState,
    answer_within_rings_rule,
    choose_outcome,
    closing_rule,
    greeting_rule,
    next_anger,
)
from grading.rubric import RubricItem

NEXT = {"deescalate": "check-ticket", "stay": "opening-again", "escalate": "demand-refund"}


@pytest.mark.parametrize(
    ("fraction", "outcome"),
    [(1.0, "deescalate"), (0.7, "deescalate"), (0.69, "stay"), (0.4, "stay"), (0.39, "escalate"), (0.0, "escalate")],
)
def test_choose_outcome_thresholds(fraction, outcome):
    assert choose_outcome(fraction) == outcome


def test_choose_outcome_custom_thresholds():
    assert choose_outcome(0.6, {"good": 0.5, "poor": 0.2}) == "deescalate"


def test_next_anger_clamps():
    assert next_anger(60, "deescalate") == 45
    assert next_anger(10, "deescalate") == 0
    assert next_anger(90, "escalate") == 100
    assert next_anger(50, "stay", {"deescalate": -10, "stay": 0, "escalate": 30}) == 50


def test_step_follows_the_transition():
    state = CallState("opening", 60).step(NEXT, "deescalate")
    assert state.node == "check-ticket" and state.anger == 45 and not state.ended


def test_hangup_after_repeated_poor_replies():
    first = CallState("opening", 20).step(NEXT, "escalate", hangup_after_poor=2)
    assert first.node == "demand-refund" and first.consecutive_poor == 1
    second = first.step({"escalate": "x", "stay": "y", "deescalate": "z"}, "escalate", hangup_after_poor=2)
    assert second.node == "end:hangup" and second.ended and second.consecutive_poor == 2


def test_a_better_reply_resets_the_poor_streak():
    state = CallState("opening", 20).step(NEXT, "escalate").step(NEXT, "stay").step(NEXT, "escalate")
    assert state.node == "demand-refund" and state.consecutive_poor == 1


def test_hangup_at_anger_100_whatever_the_transition():
    state = CallState("opening", 85).step(NEXT, "escalate", hangup_after_poor=5)
    assert state.anger == 100 and state.node == "end:hangup" and "anger" in state.reason


def test_transition_to_an_ending():
    state = CallState("wrap-up", 20).step({"deescalate": "end:resolved", "stay": "end:transferred",
                                           "escalate": "end:hangup"}, "stay")
    assert state.node == "end:transferred" and state.ended


def test_ended_call_cannot_step():
    with pytest.raises(ValueError):
        CallState("end:resolved", 10).step(NEXT, "stay")


GREETING = RubricItem("greeting", "intent", 2, phrases=("您好，很高兴为您服务",),
                      elements=(("您好", "你好"), ("有什么可以帮", "客服中心")), source="greeting")
CLOSING = RubricItem("closing", "intent", 2, elements=(("谢谢", "感谢"), ("再见", "生活愉快")), source="closing")


def test_greeting_rule_on_first_reply():
    ok = greeting_rule("您 好 很 高 兴 为 您 服 务", [GREETING], "zh-CN")
    assert ok.matched and ok.points_awarded == 2 and ok.rule == "call:greeting"
    assert ok.evidence == ["您 好 很 高 兴 为 您 服 务"]
    missed = greeting_rule("喂，什么事", GREETING, "zh-CN", points=3)
    assert not missed.matched and missed.points_possible == 3 and missed.points_awarded == 0


def test_closing_needs_thanks_and_goodbye():
    ok = closing_rule("感谢您的来电，再见", [CLOSING], "zh-CN")
    assert ok.matched and ok.evidence == ["感谢", "再见"]
    assert not closing_rule("再见", [CLOSING], "zh-CN").matched


@pytest.mark.parametrize(("ring", "ok"), [(1, True), (3, True), (4, False)])
def test_answer_within_rings(ring, ok):
    result = answer_within_rings_rule(ring, rings=3, points=1)
    assert result.matched is ok and result.points_awarded == (1 if ok else 0)
    assert result.rule == "call:answer_within_rings" and f"ring {ring}" in result.evidence[0]["en"]
    assert f"第 {ring} 声" in result.evidence[0]["zh-CN"]
