"""Grading one reply against rubric items, and the habitual → professional phrasebook."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from grading.items import (  # noqa: F401  (the rubric's data types, re-exported for callers)
    JUDGEMENTS,
    RESPONDS_SOURCES,
    ItemResult,
    Judgement,
    RubricItem,
    item_from_dict,
    judgement_of,
    rule_name,
)
from grading.kinds import ITEM_KINDS
from grading.localize import as_ltext, pick
from grading.matchers import Reply
from grading.matching import Match, find_all
from grading.sentence import looks_like_sentence


class HabitualHit(NamedTuple):
    habitual: str       # the words of the reply that are a habitual phrasing
    professional: str   # how a professional would say it
    note: str           # why, in the UI language


@dataclass
class ReplyGrade:
    items: list[ItemResult]
    earned: float       # intent points minus forbidden deductions, never below 0
    possible: float     # sum of intent points
    fraction: float     # earned / possible, 0..1 (exam rewrites are scored on points)
    habitual_found: list[HabitualHit]
    tips: list[str]     # one per missed intent / triggered forbidden item, in the UI language
    judgements: dict[str, "JudgementResult"] = field(default_factory=dict)
    is_sentence: bool = True
    graded_items: list[RubricItem] = field(default_factory=list)   # the item behind each result

    @property
    def passed(self) -> bool:
        """A QA lead's verdict on the reply: every judgement that applies holds."""
        return all(j.held for j in self.judgements.values() if j.applies)

    @property
    def judged_fraction(self) -> float:
        applying = [j for j in self.judgements.values() if j.applies]
        return sum(1 for j in applying if j.held) / len(applying) if applying else 0.0


@dataclass
class JudgementResult:
    name: str
    applies: bool               # responds/advances apply when the node lists an item for them
    held: bool
    evidence: list[str]         # the reply's words that satisfied it (or broke the rules)
    items: list[str]            # the item ids that decided it


def evaluate_item(text: str, item: RubricItem, language: str, reply: Reply | None = None) -> ItemResult:
    """Judge one rubric item against one reply (the item's kind decides how)."""
    return ITEM_KINDS[item.kind].evaluate(reply or Reply(text, language), item)


def judge(results: Sequence[ItemResult], *, is_sentence: bool = True) -> dict[str, JudgementResult]:
    """The three judgements of a reply from its item results (overrides included).

    responds / advances hold when ANY item of theirs is satisfied (a node lists the several
    acceptable ways; one is enough) and apply only when the node lists at least one; rules
    always apply and hold when no forbidden item was said. A list of keywords is not a sentence
    spoken to a caller: it responds to nobody and moves nothing.
    """
    out: dict[str, JudgementResult] = {}
    for name in ("responds", "advances"):
        mine = [r for r in results if r.judgement == name and r.kind == "intent"]
        hits = [r for r in mine if r.matched and r.points_awarded > 0]
        held = bool(hits) and is_sentence
        out[name] = JudgementResult(name, bool(mine), held,
                                    [str(e) for r in hits for e in r.evidence], [r.item_id for r in hits or mine])
    broken = [r for r in results if r.judgement == "rules" and r.points_awarded < 0]
    out["rules"] = JudgementResult("rules", True, not broken, [str(e) for r in broken for e in r.evidence],
                                   [r.item_id for r in broken])
    return out


def grade_reply(
    text: str,
    items: Sequence[RubricItem],
    language: str,
    *,
    rules: Sequence[RubricItem] = (),
    phrasebook: Phrasebook | None = None,
    ui_language: str = "zh-CN",
    scheme: Literal["points", "judgements"] = "points",
) -> ReplyGrade:
    """Grade one reply: every point won or lost names its rule and the words behind it.

    Tips follow the scheme the caller scores with: "points" (exam rewrites, where every item is
    asked for) has one tip per missed item; "judgements" (role-play replies, where any one of a
    judgement's items is enough) has one tip per judgement that does not hold.

    `rules` are the forbidden behaviours checked on every reply (the library's whole forbidden
    catalogue and the scenario's own forbidden promises); those the node lists itself are not
    checked twice, and only the ones the reply broke are reported.
    """
    reply = Reply(text, language)
    results = [evaluate_item(text, item, language, reply) for item in items]
    graded_items = list(items)
    own = {(item.source or item.id) for item in items if item.kind == "forbidden"}
    for rule in rules:
        if (rule.source or rule.id) in own:
            continue
        result = evaluate_item(text, rule, language, reply)
        if result.matched:
            results.append(result)
            graded_items.append(rule)
    possible = sum(r.points_possible for r in results)
    earned = max(0.0, sum(r.points_awarded for r in results))
    if possible > 0:
        fraction = min(1.0, earned / possible)
    else:
        # Only forbidden items: a clean reply is a full success.
        fraction = 0.0 if any(r.matched for r in results) else 1.0
    sentence = looks_like_sentence(text, language)
    judgements = judge(results, is_sentence=sentence)
    tips = tips_for(results, graded_items, ui_language, judgements if scheme == "judgements" else None)
    habitual = phrasebook.find_habitual(text, language, ui_language) if phrasebook else []
    return ReplyGrade(results, earned, possible, fraction, habitual, tips, judgements, sentence, graded_items)


_NOT_A_SENTENCE = {
    "zh-CN": "这像是一串关键词，不是对客户说的话。用完整的句子回应客户、说明你要做什么。",
    "en": "This reads as a list of keywords, not something said to a caller. Answer in full sentences: "
          "respond to the caller and say what you will do.",
}


def tips_for(results: Sequence[ItemResult], items: Sequence[RubricItem], ui_language: str,
             judgements: Mapping[str, JudgementResult] | None = None) -> list[str]:
    """Feedback in `ui_language`: per missed item, or (with `judgements`) per missed judgement."""
    if judgements is None:
        return [_tip(r, item, ui_language) for r, item in zip(results, items) if r.matched == (r.kind == "forbidden")]
    tips: list[str] = []
    for name in ("responds", "advances"):
        judgement = judgements[name]
        if not judgement.applies or judgement.held:
            continue
        mine = [(r, item) for r, item in zip(results, items) if r.judgement == name and r.kind == "intent"]
        if any(r.matched for r, _ in mine):
            tips.append(pick(_NOT_A_SENTENCE, ui_language))
            continue
        if mine:
            tips.append(_tip(*mine[0], ui_language))
    tips.extend(_tip(r, item, ui_language) for r, item in zip(results, items) if r.kind == "forbidden" and r.matched)
    return list(dict.fromkeys(tips))


def example_of(item: RubricItem) -> str:
    if item.phrases:
        return item.phrases[0]
    return " + ".join(group[0] for group in item.elements if group)


def _tip(result: ItemResult, item: RubricItem, ui_language: str) -> str:
    english = ui_language == "en"
    explanation = pick(result.explanation, ui_language)
    if result.kind == "forbidden":
        said = "…".join(str(e) for e in result.evidence)
        if english:
            return f'You said "{said}". {explanation or "This wording costs points."}'
        return f"你说了“{said}”。{explanation or '这种说法会扣分。'}"
    example = example_of(item)
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
