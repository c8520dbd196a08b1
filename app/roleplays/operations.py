"""The call flow (start, answer, reply, hang up) and trainers' re-scoring: what changes an attempt
besides grading a reply (grader.py); a voice reply sent whole is replies.py.

Each operation commits where the call needs it: a refused reply leaves the call as it was. A call left
ringing or in progress past IDLE_ABANDON_AFTER is written as abandoned here, by the first write that
acts on it (which is then refused as before), and by `flask roleplay expire-idle`; reads only derive it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from grading.call import ENDINGS, answer_within_rings_rule, closing_rule
from grading.pipeline import score_items
from grading.scoring import is_passed, percent

from ..core.clock import utcnow
from ..extensions import db
from .errors import NotInCall, RoleplayError, VoiceRequired
from .grader import announce_graded, finish_call, item_json, no_speech_reason
from .models import (ABANDONED, ENDED, GRADED, IN_CALL, PENDING, RECEIVED, RINGING, Attempt, Turn)
from .queries import doc_of, get_scenario, rings_heard, voice_available

MAX_TYPED_CHARS = 2000


def start_attempt(user_id: int, slug: str, mode: str, *, require_voice: bool = False,
                  practice: bool = False) -> Attempt:
    """A new attempt on the scenario's current version, ringing. practice: a trainer trying the drill;
    the call works as any other but is kept out of statistics, reviews, certification and flags."""
    scenario = get_scenario(slug)
    if scenario is None:
        raise RoleplayError("No such scenario.", code="not_found")
    if mode not in ("voice", "typed"):
        raise RoleplayError("The mode must be voice or typed.", code="bad_mode")
    version = scenario.current_version
    if mode == "typed" and require_voice:
        raise VoiceRequired("This drill must be answered by voice.")
    if mode == "voice" and not voice_available(version.language):
        if require_voice:
            raise VoiceRequired("Voice grading is not available for this language on this server.")
        mode = "typed"
    document = version.spec
    now = utcnow()
    attempt = Attempt(user_id=user_id, scenario_id=scenario.id, version_id=version.id, mode=mode,
                      require_voice=require_voice, practice=bool(practice), status=RINGING, language=version.language,
                      difficulty=version.difficulty, node_id=document["start"],
                      anger=int(document["starting_anger"]), consecutive_poor=0, call_items=[],
                      started_at=now, last_activity_at=now)
    db.session.add(attempt)
    db.session.commit()
    return attempt


def expire_idle(*, now: datetime | None = None) -> int:
    """Write every idle call (ringing or in progress, untouched for IDLE_ABANDON_AFTER) as abandoned;
    how many. Idempotent: `flask roleplay expire-idle` runs it from cron. Commits."""
    now = now or utcnow()
    expired = db.session.execute(update(Attempt).where(Attempt.idle_condition(now))
                                 .values(status=ABANDONED, finished_at=now)
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return expired


def expire_if_idle(attempt: Attempt) -> bool:
    """Before a write acts on the call: an idle call is written as abandoned (and committed, so the
    refusal that follows keeps it). Guarded, so a call that moved on meanwhile is left alone."""
    now = utcnow()
    if not attempt.is_idle(now):
        return False
    expired = db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.idle_condition(now))
                                 .values(status=ABANDONED, finished_at=now)
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    db.session.refresh(attempt)
    return expired == 1


def answer_call(attempt: Attempt, rings: int | None = None) -> Attempt:
    """The trainee picked up. Repeating it changes nothing.

    The ring it was picked up on is measured here, from when the call started to this request;
    the count the browser sends (`rings`) is ignored, so it cannot be claimed.
    """
    expire_if_idle(attempt)
    if attempt.status != RINGING:
        return attempt
    rings = rings_heard(attempt)
    document = attempt.version.spec
    rule = document["call_rules"]["answer_within_rings"]
    items = []
    if float(rule["points"]) > 0:
        items.append(item_json(answer_within_rings_rule(rings, int(rule["rings"]), float(rule["points"]))))
    # Guarded: two concurrent answers set the rings once.
    db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.status == RINGING)
                              .values(status=IN_CALL, rings=rings, call_items=items, answered_at=utcnow(),
                                      last_activity_at=utcnow()))
    db.session.commit()
    db.session.refresh(attempt)
    return attempt


def abandon(attempt: Attempt) -> Attempt:
    """The trainee hung up. A call already idle too long stays abandoned (not graded at its ending)."""
    expire_if_idle(attempt)
    if attempt.status == IN_CALL and attempt.node_id in ENDINGS:
        # Hanging up instead of the closing turn: the call is over and keeps its grade, the goodbye missed.
        doc = doc_of(attempt)
        if doc.closing is not None:
            attempt.call_items = list(attempt.call_items or []) + [
                item_json(closing_rule("", doc.closing, doc.language))]
        finish_call(attempt, attempt.node_id.removeprefix("end:"), doc, None)
        db.session.commit()
        announce_graded(attempt)
        return attempt
    if attempt.status in (RINGING, IN_CALL, PENDING):
        attempt.status = ABANDONED
        attempt.finished_at = utcnow()
        db.session.commit()
    return attempt


def claim_call(attempt: Attempt, mode: str) -> None:
    """Check the call is waiting for a reply (add_turn then moves it to pending), or refuse; an idle
    call is written as abandoned first, then refused."""
    expire_if_idle(attempt)
    if mode == "typed" and attempt.require_voice:
        raise VoiceRequired("This drill must be answered by voice; typed replies are not accepted.")
    if attempt.status != IN_CALL:
        raise NotInCall(f"The call is not waiting for a reply (status: {attempt.status}).")


def add_turn(attempt: Attempt, mode: str, *, status: str = RECEIVED, **fields) -> Turn:
    claimed = db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.status == IN_CALL)
                                 .values(status=PENDING, last_activity_at=utcnow()))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise NotInCall("The call is not waiting for a reply.")
    seq = len(attempt.turns) + 1
    turn = Turn(attempt_id=attempt.id, seq=seq, node_id=attempt.node_id, anger_before=attempt.anger, mode=mode,
                status=status, created_at=utcnow(), **fields)
    db.session.add(turn)
    if mode == "typed" and attempt.mode != "typed":
        db.session.execute(update(Attempt).where(Attempt.id == attempt.id).values(mode="typed"))
    db.session.commit()
    return turn


def submit_typed(attempt: Attempt, text: str) -> Turn:
    """Save a typed reply (status received); grade it with grade_turn."""
    claim_call(attempt, "typed")
    text = (text or "").strip()
    if not text:
        raise RoleplayError("The reply is empty.", code="empty")
    if len(text) > MAX_TYPED_CHARS:
        raise RoleplayError(f"The reply is longer than {MAX_TYPED_CHARS} characters.", code="too_long")
    return add_turn(attempt, "typed", transcript=text)


def apply_overrides(attempt_id: int, overrides: dict[tuple[int | None, str], float]) -> Attempt:
    """Re-score a finished attempt with trainers' points for some items (app/reviews).

    ``overrides`` is the complete set in effect: (turn id, item id) → points, turn id None for the
    attempt's call-level items (answer within rings); ``{}`` restores the automatic result. Points
    stay within the item's range: an intent 0..its points, a forbidden item -its points..0. The
    automatic items on the turns are left exactly as graded; only the attempt's earned, score and
    pass/fail change, computed as ``finish_call`` does (a reply's rubric points never below 0) with
    grading.scoring. Commits, then announces roleplay_attempt_graded so certification re-evaluates.
    """
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise RoleplayError("No such attempt.", code="not_found")
    if attempt.status != ENDED:
        raise RoleplayError("Only a finished call can be re-scored.", code="not_ended")
    doc = doc_of(attempt)
    wanted = {key: float(points) for key, points in overrides.items()}
    used: set[tuple[int | None, str]] = set()

    def points(turn: Turn | None, item: dict) -> float:
        key = (turn.id if turn is not None else None, item["item_id"])
        if key not in wanted:
            return float(item["points_awarded"])
        if key in used:
            raise RoleplayError(f"Item {key} is ambiguous.", code="bad_override")
        used.add(key)
        if item.get("kind") == "forbidden":
            rubric = doc.nodes[turn.node_id].rubric if turn is not None and turn.node_id in doc.nodes else ()
            worth = next((float(r.points) for r in rubric if r.id == item["item_id"] and r.kind == "forbidden"),
                         abs(float(item["points_awarded"])))
            low, high = -worth, 0.0
        else:
            low, high = 0.0, float(item["points_possible"])
        if not low - 1e-9 <= wanted[key] <= high + 1e-9:
            raise RoleplayError(f"Points for {key} must be within {low:g}..{high:g}.", code="bad_override")
        return wanted[key]

    earned = 0.0
    possible = 0.0
    rules_broken = False
    for turn in attempt.turns:
        if turn.status != GRADED:
            continue
        # The judgements are re-derived from the items with the trainer's points, so a
        # judgement, the reply's score and the call's verdict all follow an override.
        items = [dict(i, points_awarded=points(turn, i)) for i in turn.items or []]
        for item in items:
            item["matched"] = item["points_awarded"] < 0 if item.get("kind") == "forbidden" else item["points_awarded"] > 0
        delivery = [dict(d, points_awarded=points(turn, d)) for d in turn.delivery or []]
        if turn.node_id in ENDINGS:  # the closing turn: only its goodbye counts
            earned += sum(float(i["points_awarded"]) for i in items)
            possible += sum(float(i["points_possible"]) for i in items)
            continue
        turn_earned, turn_possible, judgements = score_items(items, delivery)
        if no_speech_reason(turn) and not any(key[0] == turn.id for key in wanted):
            turn_earned = 0.0  # nothing was said, and no trainer heard otherwise
        earned += turn_earned
        possible += turn_possible
        rules_broken = rules_broken or not judgements["rules"].held
    for item in attempt.call_items or []:
        earned += points(None, item)
        possible += float(item["points_possible"])
    unknown = set(wanted) - used
    if unknown:
        raise RoleplayError(f"No such item: {sorted(unknown, key=str)}.", code="bad_override")
    attempt.earned, attempt.possible = round(earned, 3), round(possible, 3)
    attempt.score = percent(earned, possible)
    attempt.passed = is_passed(attempt.score, float(doc.pass_mark)) and not rules_broken
    db.session.commit()
    announce_graded(attempt)
    return attempt
