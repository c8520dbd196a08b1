"""Grading one reply against rubric items, and the habitual → professional phrasebook."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from grading.localize import as_ltext, pick
from grading.matching import Match, find_all, find_any


@dataclass
class RubricItem:
    id: str
    kind: Literal["intent", "forbidden"]
    points: float
    phrases: tuple[str, ...] = ()
    elements: tuple[tuple[str, ...], ...] = ()   # every group must match (any alternative in a group)
    explanation: dict[str, str] = field(default_factory=dict)   # {"zh-CN": ..., "en": ...}
    source: str | None = None   # library key when it came from `use:`


@dataclass
class ItemResult:
    item_id: str
    kind: Literal["intent", "forbidden"]
    points_possible: float      # intent: its points; forbidden: 0 (it can only take away)
    points_awarded: float       # negative when a forbidden item was triggered
    matched: bool               # intent satisfied / forbidden phrase said
    # The reply's own words behind the verdict (str), or, for measured and call rules, what was
    # measured in each UI language ({"zh-CN": ..., "en": ...}; grading.localize.pick shows one).
    evidence: list[str | dict[str, str]]
    rule: str                   # e.g. "intent:acknowledge_feeling", "forbidden:cite_policy"
    explanation: dict[str, str] = field(default_factory=dict)


class HabitualHit(NamedTuple):
    habitual: str       # the words of the reply that are a habitual phrasing
    professional: str   # how a professional would say it
    note: str           # why, in the UI language


@dataclass
class ReplyGrade:
    items: list[ItemResult]
    earned: float       # intent points minus forbidden deductions, never below 0
    possible: float     # sum of intent points
    fraction: float     # earned / possible, 0..1
    habitual_found: list[HabitualHit]
    tips: list[str]     # one per missed intent / triggered forbidden item, in the UI language


def rule_name(item: RubricItem) -> str:
    return f"{item.kind}:{item.source or item.id}"


def evaluate_item(text: str, item: RubricItem, language: str) -> ItemResult:
    """Judge one rubric item against one reply."""
    if item.kind == "forbidden":
        found = find_all(text, item.phrases, language)
        return ItemResult(
            item.id, "forbidden", 0.0, -float(item.points) if found else 0.0, bool(found),
            [m.matched_text for m in found], rule_name(item), dict(item.explanation),
        )
    evidence = _intent_evidence(text, item, language)
    matched = evidence is not None
    return ItemResult(
        item.id, "intent", float(item.points), float(item.points) if matched else 0.0, matched,
        evidence or [], rule_name(item), dict(item.explanation),
    )


def _intent_evidence(text: str, item: RubricItem, language: str) -> list[str] | None:
    """The words that satisfy the intent: one phrase, or one match per element group."""
    match = find_any(text, item.phrases, language)
    if match is not None:
        return [match.matched_text]
    if not item.elements:
        return None
    group_matches: list[Match] = []
    for group in item.elements:
        group_match = find_any(text, group, language)
        if group_match is None:
            return None
        group_matches.append(group_match)
    return [m.matched_text for m in sorted(group_matches, key=lambda m: m.start)]


def grade_reply(
    text: str,
    items: Sequence[RubricItem],
    language: str,
    *,
    phrasebook: Phrasebook | None = None,
    ui_language: str = "zh-CN",
) -> ReplyGrade:
    """Grade one reply: every point won or lost names its rule and the words behind it."""
    results = [evaluate_item(text, item, language) for item in items]
    possible = sum(r.points_possible for r in results)
    earned = max(0.0, sum(r.points_awarded for r in results))
    if possible > 0:
        fraction = min(1.0, earned / possible)
    else:
        # Only forbidden items: a clean reply is a full success.
        fraction = 0.0 if any(r.matched for r in results) else 1.0
    tips = [
        _tip(result, item, ui_language)
        for result, item in zip(results, items)
        if result.matched == (result.kind == "forbidden")
    ]
    habitual = phrasebook.find_habitual(text, language, ui_language) if phrasebook else []
    return ReplyGrade(results, earned, possible, fraction, habitual, tips)


def _example(item: RubricItem) -> str:
    if item.phrases:
        return item.phrases[0]
    return " + ".join(group[0] for group in item.elements if group)


def _tip(result: ItemResult, item: RubricItem, ui_language: str) -> str:
    english = ui_language == "en"
    explanation = pick(item.explanation, ui_language)
    if result.kind == "forbidden":
        said = "…".join(result.evidence)
        if english:
            return f'You said "{said}". {explanation or "This wording costs points."}'
        return f"你说了“{said}”。{explanation or '这种说法会扣分。'}"
    example = _example(item)
    if english:
        text = explanation or "This point was missed."
        return f'{text} (e.g. "{example}")' if example else text
    text = explanation or "这一点没有做到。"
    return f"{text}（例如：“{example}”）" if example else text


# --- phrasebook ----------------------------------------------------------------------

@dataclass(frozen=True)
class PhrasePair:
    id: str
    language: str
    habitual: tuple[str, ...]
    professional: str
    note: dict[str, str]


@dataclass(frozen=True)
class Phrasebook:
    pairs: tuple[PhrasePair, ...]

    def find_habitual(self, text: str, language: str, ui_language: str = "zh-CN") -> list[HabitualHit]:
        """Habitual phrasings in `text`, in reply order; overlapping finds keep the longest."""
        found: list[tuple[Match, PhrasePair]] = []
        for pair in self.pairs:
            if pair.language == language:
                found.extend((m, pair) for m in find_all(text, pair.habitual, language))
        found.sort(key=lambda f: (-(f[0].end - f[0].start), -f[0].score, f[0].start))
        kept: list[tuple[Match, PhrasePair]] = []
        for match, pair in found:
            if not any(match.start < k.end and k.start < match.end for k, _ in kept):
                kept.append((match, pair))
        kept.sort(key=lambda f: f[0].start)
        return [HabitualHit(m.matched_text, p.professional, pick(p.note, ui_language)) for m, p in kept]


def load_phrasebook(data: Mapping[str, Any]) -> Phrasebook:
    """Build a Phrasebook from the parsed content of roleplays/_phrasebook.yaml."""
    raw_pairs = data.get("pairs") if isinstance(data, Mapping) else None
    if not isinstance(raw_pairs, list):
        raise ValueError("phrasebook: 'pairs' must be a list")
    pairs: list[PhrasePair] = []
    for index, raw in enumerate(raw_pairs):
        if not isinstance(raw, Mapping):
            raise ValueError(f"phrasebook: pair #{index + 1} must be a mapping")
        habitual = raw.get("habitual")
        forms = (habitual,) if isinstance(habitual, str) else tuple(habitual or ())
        if not raw.get("id") or not raw.get("language") or not forms or not raw.get("professional"):
            raise ValueError(f"phrasebook: pair #{index + 1} needs id, language, habitual and professional")
        pairs.append(PhrasePair(
            str(raw["id"]), str(raw["language"]), tuple(str(f) for f in forms),
            str(raw["professional"]), as_ltext(raw.get("note")),
        ))
    return Phrasebook(tuple(pairs))
