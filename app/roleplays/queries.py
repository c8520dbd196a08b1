"""What pages and other domains read about scenarios and calls. Nothing here writes.

A call left ringing or in progress past IDLE_ABANDON_AFTER is shown as abandoned
(Attempt.effective_status) without being written here: `flask roleplay expire-idle` and the next
write on the call persist it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from grading.call import ENDINGS
from grading.localize import pick
from grading.pipeline import score_items
from grading.rubric import Phrasebook as GradingPhrasebook, load_phrasebook

from ..core.clock import utcnow
from ..extensions import db
from ..speechops import services as speech
from .models import ENDED, GRADED, Attempt, Phrasebook, Scenario, ScenarioVersion, Turn
from .scenario import ScenarioDoc

RINGS_ALLOWED = 3
RING_SECONDS = 3.0        # one ring of the call screen (drill/main.js rings every 3 s, the first at once)
RING_GRACE_SECONDS = 1.0  # the call page loading after "start": not held against the trainee


def web_scenarios(*, include_retired: bool = False) -> list[Scenario]:
    """Scenarios authored in the browser that have a published version, by slug."""
    query = select(Scenario).where(Scenario.source == "web", Scenario.current_version_id.is_not(None))
    if not include_retired:
        query = query.where(Scenario.retired.is_(False))
    return list(db.session.scalars(query.order_by(Scenario.slug)))


def versions_of(slug: str) -> list[ScenarioVersion]:
    """Every version of a scenario, newest first."""
    return list(db.session.scalars(select(ScenarioVersion).where(ScenarioVersion.slug == slug)
                                   .order_by(ScenarioVersion.version.desc())))


_compiled_phrasebooks: dict[str, GradingPhrasebook] = {}


def current_phrasebook() -> GradingPhrasebook | None:
    row = db.session.scalar(select(Phrasebook).order_by(Phrasebook.id).limit(1))
    if row is None:
        return None
    if row.checksum not in _compiled_phrasebooks:
        _compiled_phrasebooks[row.checksum] = load_phrasebook(row.data)
    return _compiled_phrasebooks[row.checksum]


def library() -> list[Scenario]:
    """Current (not retired) scenarios, easiest first."""
    rows = db.session.scalars(select(Scenario).where(Scenario.retired.is_(False))).all()
    rows = [row for row in rows if row.current_version is not None]
    return sorted(rows, key=lambda row: (row.current_version.difficulty, row.slug))


def register_assigned_drills(app, source: Callable[[Any], dict]) -> None:
    """The domain that assigns drills (assignments) registers `source(user)` → {slug: due date}."""
    app.extensions["roleplay_assigned_drills"] = source


def assigned_drills(user) -> dict:
    source = current_app.extensions.get("roleplay_assigned_drills")
    return dict(source(user)) if source is not None else {}


MAX_SEARCH = 100


@dataclass(frozen=True)
class LibraryFilter:
    text: str = ""
    difficulty: int | None = None
    language: str = ""
    mine: bool = False      # only the scenarios assigned to me

    @property
    def active(self) -> bool:
        return bool(self.text or self.difficulty or self.language or self.mine)


def attempt_counts(user_id: int) -> dict[int, int]:
    """{scenario id: how many calls this person started on it} (trainers' practice calls not counted)."""
    rows = db.session.execute(select(Attempt.scenario_id, func.count()).where(
        Attempt.user_id == user_id, Attempt.practice.is_(False)).group_by(Attempt.scenario_id)).all()
    return {scenario_id: count for scenario_id, count in rows}


def get_scenario(slug: str) -> Scenario | None:
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    if row is None or row.retired or row.current_version is None:
        return None
    return row


def doc_of(attempt_or_version: Attempt | ScenarioVersion) -> ScenarioDoc:
    version = attempt_or_version.version if isinstance(attempt_or_version, Attempt) else attempt_or_version
    return ScenarioDoc(version.spec)


def voice_available(language: str) -> bool:
    return language in speech.voice_languages()


def ring_seconds(document: dict) -> float:
    """How long one ring lasts in this scenario (call_rules.answer_within_rings.ring_seconds, else 3 s)."""
    try:
        seconds = float(document["call_rules"]["answer_within_rings"].get("ring_seconds") or RING_SECONDS)
    except (KeyError, TypeError, ValueError, AttributeError):
        return RING_SECONDS
    return seconds if seconds > 0 else RING_SECONDS


def rings_heard(attempt: Attempt, now: datetime | None = None) -> int:
    """The ring the phone is on, by the server's clock: ring 1 as the call starts, one more every
    ring_seconds (after a short grace for the call page to load)."""
    elapsed = ((now or utcnow()) - attempt.started_at).total_seconds() - RING_GRACE_SECONDS
    return max(1, min(99, 1 + int(max(0.0, elapsed) // ring_seconds(attempt.version.spec))))


def attempt_for_user(attempt_id: int, user) -> Attempt | None:
    """The attempt when `user` may see it: its owner, or a trainer (reviews)."""
    from ..core.access import Role, has_role
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    if attempt.user_id == user.id or has_role(user, Role.TRAINER):
        return attempt
    return None


def user_attempts(user_id: int, *, include_practice: bool = False) -> list[Attempt]:
    """The person's calls, newest first; trainers' practice calls only when asked for (they are no record).
    An idle call is not written here: pages show attempt.effective_status()."""
    query = select(Attempt).where(Attempt.user_id == user_id)
    if not include_practice:
        query = query.where(Attempt.practice.is_(False))
    return db.session.scalars(query.order_by(Attempt.started_at.desc(), Attempt.id.desc())).all()


def weakest_items(user_id: int, ui_language: str = "zh-CN", limit: int = 5) -> list[dict]:
    """What the trainee most often falls short on over their graded replies, weakest first: the
    three judgements (how often each held), and call and delivery rules (share of points).

    Judgements, not rubric items: an apology not given because the trainee acknowledged the
    feeling instead is an alternative, not a weakness.
    """
    turns = db.session.scalars(select(Turn).join(Attempt).where(Attempt.user_id == user_id,
                                                                Attempt.practice.is_(False),
                                                                Turn.status == GRADED)).all()
    totals: dict[str, dict] = {}

    def add(rule: str, earned: float, possible: float, explanation) -> None:
        entry = totals.setdefault(rule, {"rule": rule, "earned": 0.0, "possible": 0.0, "count": 0,
                                         "explanation": explanation or {}})
        entry["count"] += 1
        entry["earned"] += earned
        entry["possible"] += possible

    for turn in turns:
        judgements = score_items(turn.items or [], turn.delivery or [])[2] if turn.node_id not in ENDINGS else {}
        for name, judgement in judgements.items():
            if judgement.applies:
                add(f"judgement:{name}", 1.0 if judgement.held else 0.0, 1.0, None)
        for item in list(turn.items or []) + list(turn.delivery or []):
            if str(item["rule"]).startswith(("call:", "delivery:")):
                add(item["rule"], item["points_awarded"], item["points_possible"], item.get("explanation"))
    rows = []
    for entry in totals.values():
        if entry["possible"] <= 0:
            continue
        share = entry["earned"] / entry["possible"]
        if share >= 1:
            continue
        rows.append({"rule": entry["rule"], "share": round(share, 3), "count": entry["count"],
                     "explanation": pick(entry["explanation"], ui_language)})
    rows.sort(key=lambda row: (row["share"], -row["count"], row["rule"]))
    return rows[:limit]


def call_facts(attempt_id: int) -> dict | None:
    """What certification needs to know to sign one call off (no Attempt object leaves the domain)."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    return {"attempt_id": attempt.id, "user_id": attempt.user_id, "status": attempt.effective_status(),
            "mode": attempt.mode, "passed": bool(attempt.passed), "score": attempt.score, "language": attempt.language,
            "difficulty": attempt.difficulty, "scenario_slug": attempt.version.slug,
            "finished_at": attempt.finished_at, "practice": bool(attempt.practice), "ended": attempt.status == ENDED}


def library_languages() -> list[str]:
    """The languages of the scenarios trainees can take, sorted."""
    return sorted({row.current_version.language for row in library() if row.current_version is not None})
