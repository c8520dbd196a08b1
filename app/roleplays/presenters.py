"""Attempts as pages and JSON show them: items and rule names in the reader's language, trainers'
overrides applied, the after-call report and the score trend. Reads only."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from flask import current_app, url_for

from content_schema import ContentValidationError
from grading.call import ENDINGS
from grading.labels import judgement_label, rule_label
from grading.localize import pick
from grading.pipeline import model_reply, score_items

from ..extensions import db
from .grader import last_line, no_speech_reason
from .models import ENDED, GRADED, GRADING, RECEIVED, STREAMING, TURN_PENDING, Attempt, ScenarioVersion, Turn
from .queries import doc_of
from .scenario import ScenarioDoc
from .sync import content_library


def label_of(item: dict | str, ui_language: str) -> str:
    """What people read for a rule: an item's own label, the call and delivery rules' names, the
    library entry's label for `intent:x` / `forbidden:x`, else a readable form of the id."""
    data = {"rule": item} if isinstance(item, str) else item
    rule = str(data.get("rule", ""))
    if not data.get("label") and ":" in rule:
        kind, _, name = rule.partition(":")
        try:
            library = content_library()
        except ContentValidationError:   # a broken library file must not break every report
            library = None
        entries = (library.intents if kind == "intent" else library.forbidden if kind == "forbidden" else {}) \
            if library is not None else {}
        if name in entries and entries[name].label:
            return pick(entries[name].label, ui_language)
        data = {**data, "item_id": data.get("item_id") or name}
    return rule_label(data, ui_language)


def item_view(item: dict, ui_language: str) -> dict:
    """An ItemResult-shaped dict for the API/templates, explanation in the UI language."""
    return {"item_id": item["item_id"], "rule": item["rule"], "kind": item.get("kind", "intent"),
            "label": label_of(item, ui_language), "judgement": item.get("judgement") or "",
            "points_possible": item["points_possible"], "points_awarded": item["points_awarded"],
            "matched": item["matched"], "evidence": [pick(e, ui_language) for e in item.get("evidence") or []],
            "explanation": pick(item.get("explanation"), ui_language)}


ItemOverrides = Callable[[int], dict]


def register_item_overrides(app, source: ItemOverrides) -> None:
    """The domain that keeps trainers' overrides (reviews) registers `source(attempt_id)` →
    {(turn id or None, item id): points}; reports, reviews and the call screen then show every
    item, judgement, reply percentage, tip and verdict as the override left them."""
    app.extensions["roleplay_item_overrides"] = source


def overrides_of(attempt_id: int) -> dict:
    source = current_app.extensions.get("roleplay_item_overrides")
    return dict(source(attempt_id)) if source is not None else {}


def reply_percent(fraction) -> int:
    """A reply's share as a whole percentage: the one rounding every page and the call screen use."""
    return int(float(fraction or 0) * 100 + 0.5)


def _with_points(item: dict, points: float) -> dict:
    matched = points < 0 if item.get("kind") == "forbidden" else points > 0
    return dict(item, points_awarded=float(points), matched=matched)


def effective_items(turn: Turn, overrides: dict) -> tuple[list[dict], list[dict], bool]:
    """The turn's items and delivery with trainers' points applied; and whether any was overridden."""
    changed = False

    def apply(item: dict) -> dict:
        nonlocal changed
        key = (turn.id, item["item_id"])
        if key in overrides and abs(float(overrides[key]) - float(item["points_awarded"])) > 1e-9:
            changed = True
            return _with_points(item, overrides[key])
        return item

    return [apply(i) for i in turn.items or []], [apply(d) for d in turn.delivery or []], changed


def _overridden_tips(turn: Turn, items: list[dict], judgements: dict, ui_language: str) -> list[str]:
    """Tips from the items as a trainer left them (the stored tips were written for the automatic grade)."""
    from grading.rubric import tips_for
    from grading.pipeline import _result
    try:
        doc = doc_of(turn.attempt)
    except Exception:  # noqa: BLE001 - a report must not break on an odd stored version
        return []
    node = doc.nodes.get(turn.node_id)
    known = {item.id: item for item in (node.rubric if node else ())}
    known.update({item.id: item for item in doc.rules if item.id not in known})
    pairs = [(_result(i), known[i["item_id"]]) for i in items
             if i["item_id"] in known and not str(i.get("rule", "")).startswith(("call:", "delivery:"))]
    tips = tips_for([r for r, _ in pairs], [k for _, k in pairs], ui_language, judgements)
    tips += [pick(i.get("explanation"), ui_language) for i in items
             if str(i.get("rule", "")).startswith("call:") and not i["matched"]]
    return [t for t in tips if t]


def turn_view(turn: Turn, ui_language: str, overrides: dict | None = None) -> dict:
    raw_items, raw_delivery, overridden = effective_items(turn, overrides or {})
    closing = turn.node_id in ENDINGS
    judgements = score_items(raw_items, raw_delivery)[2] if turn.status == GRADED and not closing else {}
    no_speech = no_speech_reason(turn)
    if no_speech:
        judgements = {name: replace(j, held=False) for name, j in judgements.items()}
    fraction = turn.score_fraction
    if closing and overridden:
        fraction = 1.0 if all(i["matched"] for i in raw_items) else 0.0
    if overridden and judgements:
        applying = [j for j in judgements.values() if j.applies]
        fraction = sum(1 for j in applying if j.held) / len(applying) if applying else 0.0
    items = [item_view(item, ui_language) for item in raw_items]
    for item in items:
        # Another item of the same judgement was met: this one was an alternative, not a miss.
        held = judgements.get(item["judgement"])
        item["alternative"] = (item["kind"] == "intent" and not item["matched"] and held is not None
                               and held.held)
    return {
        "id": turn.id,
        "seq": turn.seq,
        "node_id": turn.node_id,
        "mode": turn.mode,
        "status": turn.status,
        "transcript": turn.transcript,
        "score_fraction": fraction,
        # The reply's percentage, computed once here: the call screen, report and review show this.
        "percent": reply_percent(fraction) if fraction is not None else None,
        "overridden": overridden,
        "earned": turn.earned,
        "possible": turn.possible,
        "items": items,
        "judgements": [{"name": name, "label": judgement_label(name, ui_language), "applies": j.applies,
                        "held": j.held, "evidence": j.evidence} for name, j in judgements.items()],
        "passed": (all(i["matched"] for i in raw_items) if closing and turn.status == GRADED else
                   bool(judgements) and all(j.held for j in judgements.values() if j.applies)),
        "closing": closing,
        "skipped": list(getattr(turn, "skipped", None) or []),
        "delivery": [item_view(item, ui_language) for item in raw_delivery],
        "metrics": turn.metrics,
        "tips": ([] if closing and overridden and all(i["matched"] for i in raw_items) else
                 _overridden_tips(turn, raw_items, judgements, ui_language) if overridden and judgements else
                 list((turn.tips or {}).get(ui_language) or (turn.tips or {}).get("zh-CN") or [])),
        "habitual": list((turn.habitual or {}).get(ui_language) or (turn.habitual or {}).get("zh-CN") or []),
        "outcome": turn.outcome,
        "no_speech": no_speech,
        "anger_before": turn.anger_before,
        "anger_after": turn.anger_after,
        "next_node": turn.next_node,
    }


def audio_url(version: ScenarioVersion, node_id: str) -> str | None:
    name = (version.audio or {}).get(node_id)
    return url_for("media.audio", name=name) if name else None


def attempt_report(attempt_id: int, ui_language: str = "zh-CN") -> dict | None:
    """Everything the after-call report shows (also for trainers' review pages)."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    version = attempt.version
    doc = ScenarioDoc(version.spec)
    overrides = overrides_of(attempt.id)
    turns = []
    for turn in attempt.turns:
        view = turn_view(turn, ui_language, overrides)
        if turn.node_id in doc.nodes:
            view["customer_line"] = doc.nodes[turn.node_id].line
            view["model_reply"] = model_reply(doc.nodes[turn.node_id].rubric, doc.language)
        else:  # the closing turn answers the customer's last line
            view["customer_line"] = last_line(doc, turn.node_id.removeprefix("end:"))
            view["model_reply"] = (doc.closing.phrases[0] if doc.closing is not None and doc.closing.phrases
                                   else "")
        view["skipped_lines"] = [doc.nodes[n].line for n in view["skipped"] if n in doc.nodes]
        view["customer_audio_url"] = audio_url(version, turn.node_id)
        view["recording_url"] = (url_for("roleplays.recording", turn_id=turn.id)
                                 if turn.recording_path else None)
        turns.append(view)
    return {
        "attempt_id": attempt.id,
        "user_id": attempt.user_id,
        "scenario_slug": version.slug,
        "scenario_version": version.version,
        "title": doc.text("title", ui_language),
        "language": attempt.language,
        "difficulty": attempt.difficulty,
        "mode": attempt.mode,
        "practice": bool(attempt.practice),
        "status": attempt.effective_status(),  # an idle call shows as abandoned
        "ending": attempt.ending,
        # The customer's last words, when no closing turn already shows them.
        "last_line": (doc.last_line(attempt.ending) if attempt.ending and not any(
            t["closing"] for t in turns) else None),
        "score": attempt.score,
        "passed": attempt.passed,
        "pass_mark": version.pass_mark,
        "earned": attempt.earned,
        "possible": attempt.possible,
        "rings": attempt.rings,
        "call_items": [item_view(_with_points(item, overrides[(None, item["item_id"])])
                                 if (None, item["item_id"]) in overrides else item, ui_language)
                       for item in attempt.call_items or []],
        "turns": turns,
        "started_at": attempt.started_at,
        "finished_at": attempt.finished_at,
        "pending_turns": [t["id"] for t in turns if t["status"] in (RECEIVED, TURN_PENDING, GRADING, STREAMING)],
    }


def score_trend(attempts: list[Attempt], *, width: int = 600, height: int = 200, pad: int = 24) -> dict:
    """Ended attempts' scores, oldest first, as SVG polyline points (0..100 on the y axis)."""
    scored = sorted((a for a in attempts if a.status == ENDED and a.score is not None),
                    key=lambda a: (a.finished_at or a.started_at, a.id))
    points = []
    step = (width - 2 * pad) / max(1, len(scored) - 1)
    for index, attempt in enumerate(scored):
        x = pad + (index * step if len(scored) > 1 else (width - 2 * pad) / 2)
        y = pad + (100 - attempt.score) / 100 * (height - 2 * pad)
        points.append({"x": round(x, 1), "y": round(y, 1), "score": attempt.score, "passed": attempt.passed,
                       "slug": attempt.version.slug, "attempt_id": attempt.id,
                       "at": attempt.finished_at or attempt.started_at})
    marks = {a.version.pass_mark for a in scored}
    # One dashed pass-mark line when every charted scenario has the same pass mark.
    pass_y = round(pad + (100 - marks.pop()) / 100 * (height - 2 * pad), 1) if len(marks) == 1 else None
    return {"width": width, "height": height, "pad": pad, "points": points,
            "polyline": " ".join(f"{p['x']},{p['y']}" for p in points), "pass_y": pass_y}
