"""Trainers teach the grader: from a reviewed reply, the trainee's words become an accepted phrasing of
one of the node's intents, or a forbidden phrasing, in a new version of the scenario.

Before anything is stored the trainer sees what else the lesson would change on the grading
development set (grading/devset): every labelled reply of that scenario whose verdict flips, and
whether the flip agrees with its blind label. A lesson is stored as a GraderLesson row and applied to
every version of the scenario stored from then on (a document overlay), so a later content sync keeps it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grading.agreement import Verdict, grade_rows, kappa, load_rows

from ..accounts.models import User

from ..core.clock import utcnow
from ..extensions import db
from ..roleplays import presenters as roleplay_presenters, queries as roleplay_queries, sync as roleplay_sync
from ..roleplays.models import Attempt, Turn
from ..roleplays.scenario import ScenarioDoc
from .models import GraderLesson
from .services import ReviewError, _finished, require_not_own

MAX_PHRASE = 60


@dataclass(frozen=True)
class Target:
    key: str        # "item:<id>" (an item of the node) or "rule:<id>" (a rule of the scenario)
    kind: str       # intent | forbidden
    label: str


@dataclass
class Preview:
    attempt_id: int
    turn_id: int
    node_id: str
    target: Target
    phrase: str
    flips: list[Verdict]            # labelled replies whose verdict the lesson changes (after the lesson)
    better: int                     # flips that now agree with their label
    worse: int
    kappa_before: float
    kappa_after: float
    n: int                          # labelled replies of this scenario in the development set


def targets(doc: ScenarioDoc, node_id: str, language: str) -> list[Target]:
    """What a phrase can be taught as at this node: its items, then the scenario's rules."""
    found = [Target(f"item:{item.id}", item.kind, roleplay_presenters.label_of(
        {"rule": f"{item.kind}:{item.source or item.id}", "item_id": item.id, "label": item.label,
         "explanation": item.explanation}, language)) for item in doc.nodes[node_id].rubric]
    found += [Target(f"rule:{rule.id}", "forbidden", roleplay_presenters.label_of(
        {"rule": f"forbidden:{rule.source or rule.id}", "item_id": rule.id, "label": rule.label,
         "explanation": rule.explanation}, language)) for rule in doc.rules]
    return found


def _reply(attempt_id: int, turn_id: int, reviewer: User) -> tuple[Attempt, Turn]:
    attempt = _finished(attempt_id)
    require_not_own(attempt, reviewer)
    turn = db.session.get(Turn, turn_id)
    if turn is None or turn.attempt_id != attempt.id or not turn.transcript:
        raise ReviewError(_l("There is no such reply in this call."))
    return attempt, turn


def _phrase(turn: Turn, phrase: str) -> str:
    phrase = " ".join((phrase or "").split())
    if not phrase:
        raise ReviewError(_l("Give the trainee's words to teach."))
    if len(phrase) > MAX_PHRASE:
        raise ReviewError(_l("Teach a phrase of at most %(n)s characters, not the whole reply.", n=MAX_PHRASE))
    if phrase not in " ".join(turn.transcript.split()):
        raise ReviewError(_l("The phrase must be the trainee's own words, as they appear in the reply."))
    return phrase


def with_lesson(document: dict, node_id: str, target: str, phrase: str) -> dict:
    """`document` with the phrase added (a copy; the same document when it is there already)."""
    kind, _sep, ident = target.partition(":")
    if kind == "item":
        items = document["nodes"].get(node_id, {}).get("rubric", [])
    elif kind == "rule":
        items = document.get("rules") or []
    else:
        return document
    for index, item in enumerate(items):
        if item["id"] == ident and phrase not in (item.get("phrases") or []):
            changed = copy.deepcopy(document)
            place = (changed["nodes"][node_id]["rubric"] if kind == "item" else changed["rules"])[index]
            place["phrases"] = [*(place.get("phrases") or []), phrase]
            return changed
    return document


def _rubrics(doc: ScenarioDoc) -> dict:
    return {doc.slug: (doc.language, {n: node.rubric for n, node in doc.nodes.items()}, doc.rules)}


def preview(attempt_id: int, turn_id: int, target: str, phrase: str, reviewer: User, language: str) -> Preview:
    attempt, turn = _reply(attempt_id, turn_id, reviewer)
    phrase = _phrase(turn, phrase)
    version = roleplay_queries.get_scenario(attempt.version.slug).current_version
    doc = ScenarioDoc(version.spec)
    if turn.node_id not in doc.nodes:
        raise ReviewError(_l("This scenario no longer has the node of that reply."))
    chosen = next((t for t in targets(doc, turn.node_id, language) if t.key == target), None)
    if chosen is None:
        raise ReviewError(_l("Choose what the phrase should count as."))
    taught = ScenarioDoc(with_lesson(dict(version.spec), turn.node_id, target, phrase))
    rows = [r for r in load_rows("clean") if r["scenario"] == doc.slug]
    before = {v.row["id"]: v for v in grade_rows(rows, _rubrics(doc))}
    after = grade_rows(rows, _rubrics(taught))
    flips = [v for v in after if v.passed != before[v.row["id"]].passed]
    decided = [v for v in flips if v.row["label"] in ("pass", "fail")]
    better = sum(1 for v in decided if v.passed == (v.row["label"] == "pass"))

    def agreement(verdicts) -> float:
        return kappa([(v.row["label"] == "pass", v.passed) for v in verdicts if v.row["label"] in ("pass", "fail")])

    return Preview(attempt.id, turn.id, turn.node_id, chosen, phrase, flips, better, len(decided) - better,
                   agreement(before.values()), agreement(after), len(rows))


def teach(attempt_id: int, turn_id: int, target: str, phrase: str, reviewer: User, language: str) -> GraderLesson:
    """Store the lesson and publish the scenario's next version with it; commits."""
    seen = preview(attempt_id, turn_id, target, phrase, reviewer, language)
    attempt = db.session.get(Attempt, attempt_id)
    lesson = GraderLesson(scenario_slug=attempt.version.slug, node_id=seen.node_id, target=seen.target.key,
                          kind=seen.target.kind, phrase=seen.phrase, attempt_id=attempt_id, turn_id=turn_id,
                          author_id=reviewer.id, created_at=utcnow())
    db.session.add(lesson)
    db.session.flush()
    version = roleplay_sync.republish(lesson.scenario_slug, author_id=reviewer.id)
    lesson.version = version.version if version is not None else None
    db.session.commit()
    return lesson


def lessons_of(slug: str | None = None) -> list[GraderLesson]:
    query = select(GraderLesson).order_by(GraderLesson.created_at.desc(), GraderLesson.id.desc())
    if slug is not None:
        query = query.where(GraderLesson.scenario_slug == slug)
    return list(db.session.scalars(query))


def overlay(slug: str, document: dict) -> dict:
    """Every lesson of the scenario, applied to a document about to be stored (registered in init_app)."""
    for lesson in db.session.scalars(select(GraderLesson).where(GraderLesson.scenario_slug == slug)
                                     .order_by(GraderLesson.id)):
        document = with_lesson(document, lesson.node_id, lesson.target, lesson.phrase)
    return document
