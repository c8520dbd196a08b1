"""What a rubric is made of and what grading one of its items gives: plain data, shared by the
matchers, the item kinds and the reply grader (the lowest layer of grading's rubric code)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


JUDGEMENTS = ("responds", "advances", "rules")
Judgement = Literal["responds", "advances", "rules"]

# Scenario documents written before judgements existed name only the library entry an item
# came from; these entries answer the caller as a person, every other intent moves the case.
RESPONDS_SOURCES = frozenset({"acknowledge_feeling", "apologise", "thank_patience", "thanks", "reassure",
                              "greeting", "closing"})


@dataclass
class RubricItem:
    id: str
    kind: str                   # a key of grading.kinds.ITEM_KINDS: "intent" or "forbidden"
    points: float
    phrases: tuple[str, ...] = ()
    elements: tuple[tuple[str, ...], ...] = ()   # every group must match (any alternative in a group)
    explanation: dict[str, str] = field(default_factory=dict)   # {"zh-CN": ..., "en": ...}
    source: str | None = None   # library key when it came from `use:`
    patterns: tuple[str, ...] = ()   # constructions with slots (grading.patterns)
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    judgement: str | None = None     # which of JUDGEMENTS it counts towards; None: derived
    label: dict[str, str] = field(default_factory=dict)   # what the rule is called, per UI language


def item_from_dict(data: Mapping[str, Any]) -> RubricItem:
    """A RubricItem from its stored form (dataclasses.asdict), older forms included."""
    return RubricItem(
        id=data["id"], kind=data["kind"], points=float(data["points"]),
        phrases=tuple(data.get("phrases") or ()),
        elements=tuple(tuple(group) for group in data.get("elements") or ()),
        explanation=dict(data.get("explanation") or {}), source=data.get("source"),
        patterns=tuple(data.get("patterns") or ()),
        slots={name: tuple(values) for name, values in (data.get("slots") or {}).items()},
        judgement=data.get("judgement"), label=dict(data.get("label") or {}),
    )


def judgement_of(item: RubricItem) -> Judgement:
    if item.judgement in JUDGEMENTS:
        return item.judgement   # type: ignore[return-value]
    if item.kind == "forbidden":
        return "rules"
    return "responds" if item.source in RESPONDS_SOURCES else "advances"


@dataclass
class ItemResult:
    item_id: str
    kind: str                   # "intent", "forbidden", or "judgement" (a summary of the three)
    points_possible: float      # intent: its points; forbidden: 0 (it can only take away)
    points_awarded: float       # negative when a forbidden item was triggered
    matched: bool               # intent satisfied / forbidden phrase said
    # The reply's own words behind the verdict (str), or, for measured and call rules, what was
    # measured in each UI language ({"zh-CN": ..., "en": ...}; grading.localize.pick shows one).
    evidence: list[str | dict[str, str]]
    rule: str                   # e.g. "intent:acknowledge_feeling", "forbidden:cite_policy"
    explanation: dict[str, str] = field(default_factory=dict)
    judgement: str = ""         # responds / advances / rules; "" for call and delivery rules
    label: dict[str, str] = field(default_factory=dict)


def rule_name(item: RubricItem) -> str:
    return f"{item.kind}:{item.source or item.id}"
