"""The one way a role-play reply is graded: rubric, rules, call rules, delivery, outcome.

Live calls, ``flask roleplay score``, authoring's "try a reply", review re-scoring and the
grading benchmark all call ``grade_turn`` (and re-scoring calls ``score_items``), so they can
never disagree. Pure: plain data in, dataclasses out.

How a QA lead judges a reply, and so how this does (../shared/seeds/002, 003):
- responds: the caller is answered as a person (empathy or an apology where the moment calls
  for it, thanks at a calm close): any one of the node's "responds" items;
- advances: the case moves forward truthfully: any one of the node's "advances" items (an
  action the case facts allow, a concrete time or next step, the one detail needed);
- rules: nothing forbidden is said: the node's own forbidden items, the library's whole
  forbidden catalogue and the scenario's forbidden promises, on every reply.
The reply passes when all three hold. Each judgement is worth one point, so the score keeps
partial credit; the caller's mood follows the verdict (``outcome_of``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from grading.call import Outcome, greeting_rule
from grading.delivery import judge_delivery
from grading.localize import pick
from grading.rubric import (
    RESPONDS_SOURCES,
    ItemResult,
    JudgementResult,
    Phrasebook,
    RubricItem,
    example_of,
    grade_reply,
    judge,
    judgement_of,
    tips_for,
)

UI_LANGUAGES = ("zh-CN", "en")
JUDGEMENT_POINTS = 1.0


@dataclass
class TurnContext:
    text: str                               # what the trainee said (typed or recognised)
    language: str                           # the call's language
    items: Sequence[RubricItem]             # the node's rubric
    rules: Sequence[RubricItem] = ()        # forbidden on every reply of the scenario
    greeting: RubricItem | None = None      # asked for in the first reply only
    phrasebook: Phrasebook | None = None
    metrics: Mapping | None = None          # voice replies: delivery measurements
    baseline: Mapping | None = None         # the trainee's first voice reply of the call
    delivery_points: float = 0.0
    provoked: bool = False                  # the caller is angry enough to provoke


@dataclass
class TurnGrade:
    items: list[ItemResult]                 # rubric items, rules broken, call rules
    delivery: list[ItemResult]
    judgements: dict[str, JudgementResult]
    passed: bool
    earned: float
    possible: float
    fraction: float                         # the reply's share of its judgements, 0..1
    outcome: Outcome
    tips: dict[str, list[str]]              # per UI language
    habitual: dict[str, list[dict]] = field(default_factory=dict)
    is_sentence: bool = True


def outcome_of(judgements: Mapping[str, JudgementResult]) -> Outcome:
    """How the caller takes the reply: a broken rule inflames; both other judgements calm;
    one of them keeps the temperature; neither inflames."""
    if not judgements["rules"].held:
        return "escalate"
    held = sum(1 for name in ("responds", "advances") if judgements[name].held or not judgements[name].applies)
    return ("escalate", "stay", "deescalate")[held]


def score_items(items: Sequence[Mapping], delivery: Sequence[Mapping] = (), *,
                is_sentence: bool = True) -> tuple[float, float, dict[str, JudgementResult]]:
    """(earned, possible, judgements) of a graded turn's stored items, with any trainer's
    points already written into them: the judgements are re-derived, so everything that
    depends on an item follows an override."""
    results = [_result(i) for i in items]
    judgements = judge([r for r in results if not r.rule.startswith("call:")], is_sentence=is_sentence)
    applying = [j for j in judgements.values() if j.applies]
    earned = JUDGEMENT_POINTS * sum(1 for j in applying if j.held)
    possible = JUDGEMENT_POINTS * len(applying)
    for extra in [r for r in results if r.rule.startswith("call:")] + [_result(d) for d in delivery]:
        earned += extra.points_awarded
        possible += extra.points_possible
    return earned, possible, judgements


def grade_turn(ctx: TurnContext, *, first_turn: bool = False) -> TurnGrade:
    # Graded once; only the words of the feedback differ per UI language.
    grade = grade_reply(ctx.text, ctx.items, ctx.language, rules=ctx.rules, ui_language=UI_LANGUAGES[0],
                        scheme="judgements")
    items = list(grade.items)
    call_rules: list[ItemResult] = []
    if first_turn and ctx.greeting is not None:
        call_rules.append(greeting_rule(ctx.text, ctx.greeting, ctx.language))
    delivery: list[ItemResult] = []
    if ctx.metrics is not None and ctx.delivery_points > 0:
        delivery = judge_delivery(ctx.metrics, ctx.baseline, points=ctx.delivery_points, provoked=ctx.provoked,
                                  transcript=ctx.text, language=ctx.language)
    earned, possible, judgements = score_items([asdict(r) for r in items + call_rules],
                                               [asdict(d) for d in delivery], is_sentence=grade.is_sentence)
    tips = {ui: tips_for(grade.items, grade.graded_items, ui, grade.judgements)
            + [_miss(r, ui) for r in call_rules + delivery if not r.matched]
            for ui in UI_LANGUAGES}
    return TurnGrade(
        items=items + call_rules, delivery=delivery, judgements=judgements,
        passed=all(j.held for j in judgements.values() if j.applies),
        earned=earned, possible=possible, fraction=grade.judged_fraction, outcome=outcome_of(judgements),
        tips={ui: [t for t in tips[ui] if t] for ui in UI_LANGUAGES},
        habitual={ui: [hit._asdict() for hit in ctx.phrasebook.find_habitual(ctx.text, ctx.language, ui)]
                  for ui in UI_LANGUAGES} if ctx.phrasebook else {ui: [] for ui in UI_LANGUAGES},
        is_sentence=grade.is_sentence,
    )


def model_reply(items: Sequence[RubricItem], language: str) -> str:
    """A reply that would pass at a node: its first way to respond, then its first way to
    move the case on (each item's first accepted phrasing)."""
    parts = []
    for name in ("responds", "advances"):
        example = next((example_of(i) for i in items if i.kind == "intent" and judgement_of(i) == name
                        and i.phrases), "")
        if example:
            parts.append(example.rstrip("。.!！?？"))
    joiner = ". " if language.startswith("en") else "。"
    end = "." if language.startswith("en") else "。"
    return joiner.join(parts) + end if parts else ""


def _miss(result: ItemResult, ui: str) -> str:
    return pick(result.explanation, ui)


def _result(data: Mapping) -> ItemResult:
    rule = str(data.get("rule", ""))
    judgement = data.get("judgement") or _judgement_of_rule(rule, data.get("kind", "intent"))
    return ItemResult(data["item_id"], data.get("kind", "intent"), float(data["points_possible"]),
                      float(data["points_awarded"]), bool(data["matched"]), list(data.get("evidence") or []),
                      rule, dict(data.get("explanation") or {}), judgement, dict(data.get("label") or {}))


def _judgement_of_rule(rule: str, kind: str) -> str:
    """Items stored before judgements existed carry only their rule name."""
    if rule.startswith(("call:", "delivery:")):
        return ""
    if kind == "forbidden":
        return "rules"
    return "responds" if rule.partition(":")[2] in RESPONDS_SOURCES else "advances"
