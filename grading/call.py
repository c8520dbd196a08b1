"""How a role-play call moves on after each reply, and the call-level rules."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from grading.localize import both
from grading.rubric import ItemResult, RubricItem, evaluate_item

Outcome = Literal["deescalate", "stay", "escalate"]

DEFAULT_THRESHOLDS: Mapping[str, float] = {"good": 0.7, "poor": 0.4}
DEFAULT_ANGER_STEP: Mapping[str, int] = {"deescalate": -15, "stay": 5, "escalate": 20}
MAX_ANGER = 100
END_RESOLVED, END_TRANSFERRED, END_HANGUP = "end:resolved", "end:transferred", "end:hangup"
ENDINGS = frozenset({END_RESOLVED, END_TRANSFERRED, END_HANGUP})


def choose_outcome(fraction: float, thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS) -> Outcome:
    """>= good de-escalates, < poor escalates, anything between keeps the temperature."""
    if fraction >= thresholds["good"]:
        return "deescalate"
    if fraction < thresholds["poor"]:
        return "escalate"
    return "stay"


def next_anger(anger: int, outcome: Outcome, anger_step: Mapping[str, int] = DEFAULT_ANGER_STEP) -> int:
    return max(0, min(MAX_ANGER, anger + anger_step[outcome]))


@dataclass(frozen=True)
class CallState:
    node: str                   # current node id, or an ending once the call is over
    anger: int
    consecutive_poor: int = 0   # escalating replies in a row
    reason: str = ""            # why the last step went where it did

    @property
    def ended(self) -> bool:
        return self.node in ENDINGS

    def step(
        self,
        transitions: Mapping[str, str],
        outcome: Outcome,
        *,
        anger_step: Mapping[str, int] = DEFAULT_ANGER_STEP,
        hangup_after_poor: int = 2,
    ) -> CallState:
        """The state after the trainee's reply to the current node scored `outcome`.

        The customer hangs up when anger reaches 100 or after `hangup_after_poor`
        escalating replies in a row, whatever the node's transition says.
        """
        if self.ended:
            raise ValueError(f"the call already ended ({self.node})")
        anger = next_anger(self.anger, outcome, anger_step)
        poor = self.consecutive_poor + 1 if outcome == "escalate" else 0
        if anger >= MAX_ANGER:
            return CallState(END_HANGUP, anger, poor, "anger reached 100")
        if hangup_after_poor > 0 and poor >= hangup_after_poor:
            return CallState(END_HANGUP, anger, poor, f"{poor} poor replies in a row")
        if outcome not in transitions:
            raise ValueError(f"node {self.node!r} has no transition for {outcome!r}")
        return replace(self, node=transitions[outcome], anger=anger, consecutive_poor=poor,
                       reason=f"transition:{outcome}")


# --- call-level rules ----------------------------------------------------------------

_RINGS_EXPLANATION = {
    "zh-CN": "来电要在响铃三声之内接起，让客户感到被重视。",
    "en": "Pick up within three rings so the caller feels taken seriously.",
}
_CLOSING_FALLBACK = {
    "zh-CN": "结束通话前感谢客户并礼貌道别。",
    "en": "Thank the caller and say goodbye before ending the call.",
}
_GREETING_FALLBACK = {
    "zh-CN": "接通后先用标准问候语开场。",
    "en": "Open the call with the standard greeting.",
}


def _phrase_rule(
    rule: str, text: str, items: RubricItem | Sequence[RubricItem], language: str,
    points: float | None, fallback: dict[str, str],
) -> ItemResult:
    """Satisfied when any of the (library) items is satisfied by `text`.

    `points` defaults to the first item's points (content_schema's library_intent sets them).
    """
    items = [items] if isinstance(items, RubricItem) else list(items)
    worth = float(points if points is not None else (items[0].points if items else 0.0))
    explanation = dict(items[0].explanation) if items and items[0].explanation else dict(fallback)
    for item in items:
        result = evaluate_item(text, item, language)
        if result.matched:
            return ItemResult(rule, "intent", worth, worth, True, result.evidence, f"call:{rule}", explanation)
    return ItemResult(rule, "intent", worth, 0.0, False, [], f"call:{rule}", explanation)


def greeting_rule(first_reply: str, greeting_items: RubricItem | Sequence[RubricItem], language: str,
                  points: float | None = None) -> ItemResult:
    """The standard greeting in the trainee's first reply (library intent `greeting`)."""
    return _phrase_rule("greeting", first_reply, greeting_items, language, points, _GREETING_FALLBACK)


def closing_rule(last_reply: str, closing_items: RubricItem | Sequence[RubricItem], language: str,
                 points: float | None = None) -> ItemResult:
    """Thanks and goodbye in the trainee's last reply (library intent `closing`)."""
    return _phrase_rule("closing", last_reply, closing_items, language, points, _CLOSING_FALLBACK)


def answer_within_rings_rule(answered_at_ring: int, rings: int = 3, points: float = 1) -> ItemResult:
    """The call was picked up by ring number `rings` at the latest."""
    ok = answered_at_ring <= rings
    evidence = [both(f"第 {answered_at_ring} 声铃响时接起（上限 {rings} 声）",
                     f"answered at ring {answered_at_ring} (limit {rings})")]
    return ItemResult("answer_within_rings", "intent", float(points), float(points) if ok else 0.0,
                      ok, evidence, "call:answer_within_rings", dict(_RINGS_EXPLANATION))
