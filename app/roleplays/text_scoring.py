"""How one reply would grade, without a call: `flask roleplay score` and the authoring preview."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from grading.call import CallState
from grading.labels import judgement_label
from grading.pipeline import grade_turn as grade_reply_turn
from grading.rubric import Phrasebook as GradingPhrasebook, load_phrasebook
from grading.scoring import percent

from ..extensions import db
from .errors import RoleplayError
from .grader import item_json, turn_context
from .models import Scenario
from .presenters import item_view
from .queries import current_phrasebook
from .scenario import ScenarioDoc, scenario_document


def scenario_doc_for(slug: str, root: str | None = None) -> tuple[ScenarioDoc, GradingPhrasebook | None, str]:
    """The scenario as synced (current version), else straight from the content files."""
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    if row is not None and row.current_version is not None:
        return ScenarioDoc(row.current_version.spec), current_phrasebook(), f"database (version {row.current_version.version})"
    from ..content.services import load_bundle
    bundle = load_bundle(root)
    if slug not in bundle.scenarios:
        raise RoleplayError(f"unknown scenario {slug!r} (known: {', '.join(sorted(bundle.scenarios))})",
                            code="not_found")
    return ScenarioDoc(scenario_document(bundle.scenarios[slug])), load_phrasebook(bundle.phrasebook), "content files"


def score_text(doc: ScenarioDoc, node_id: str | None, text: str, ui_language: str = "zh-CN",
               phrasebook: GradingPhrasebook | None = None) -> dict:
    """How one reply at one node would grade, and where the call would go next."""
    node_id = node_id or doc.start
    if node_id not in doc.nodes:
        raise RoleplayError(f"unknown node {node_id!r} (nodes: {', '.join(doc.nodes)})", code="not_found")
    node = doc.nodes[node_id]
    grade = grade_reply_turn(turn_context(doc, node_id, text, phrasebook), first_turn=node_id == doc.start)
    score = percent(grade.earned, grade.possible)
    anger = int(doc.starting_anger) if node_id == doc.start else node.anger
    state = CallState(node_id, anger).step(node.next, grade.outcome, anger_step=doc.anger_step,
                                           hangup_after_poor=int(doc.hangup_after_poor))
    rubric = [r for r in grade.items if not r.rule.startswith("call:")]
    result = {
        "scenario": doc.slug, "node": node_id, "language": doc.language, "text": text,
        "score": score, "passed": grade.passed,
        "judgements": {name: {"applies": j.applies, "held": j.held, "evidence": j.evidence,
                              "label": judgement_label(name, ui_language)}
                       for name, j in grade.judgements.items()},
        "earned": grade.earned, "possible": grade.possible, "fraction": round(grade.fraction, 4),
        "items": [item_view(item_json(r), ui_language) for r in rubric],
        "tips": grade.tips[ui_language],
        "habitual": grade.habitual[ui_language],
        "transition": {"outcome": grade.outcome, "next": state.node, "anger_before": anger,
                       "anger_after": state.anger, "ended": state.ended},
    }
    for rule in grade.items:
        if rule.rule == "call:greeting":
            result["greeting"] = item_view(item_json(rule), ui_language)
    # One result for the summary and the list: each item says how it counted in its judgement
    # (a reply scores by judgements, so an unmet item of a held judgement was "not needed").
    for item in result["items"] + ([result["greeting"]] if "greeting" in result else []):
        item["status"] = item_status(item, grade.judgements)
    return result


def item_status(item: dict, judgements: dict) -> str:
    """met | not_needed | missed (intents), avoided | said (forbidden)."""
    if item.get("kind") == "forbidden":
        return "said" if item["matched"] else "avoided"
    if item["matched"]:
        return "met"
    held = judgements.get(item.get("judgement") or "")
    return "not_needed" if held is not None and held.held else "missed"


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
