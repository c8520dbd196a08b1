"""Grading a reply, ``grade_turn(turn_id)``, then moving the call on and scoring it when it ends.

grade_turn works inside or outside a web request (a queue worker, ``flask roleplay regrade``) and is
idempotent: the turn is claimed with a status-guarded UPDATE, committed at once, and the grade is
written only while that claim still holds (a fenced UPDATE in the transaction that writes the grade),
so it is graded exactly once however often it is called.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, replace
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update

from grading.call import ENDINGS, CallState, closing_rule
from grading.localize import pick
from grading.pipeline import TurnContext, TurnGrade, grade_turn as grade_reply_turn, score_items
from grading.rubric import ItemResult, Phrasebook as GradingPhrasebook
from grading.scoring import is_passed, percent
from speech.metrics import compute_metrics, speaking_rate_from_words
from speech.presence import detect_speech

from ..core import events
from ..core.clock import utcnow
from ..extensions import db
from ..speechops import services as speech
from .errors import GradingFailed, RoleplayError
from .models import ENDED, GRADED, GRADING, IN_CALL, PENDING, RECEIVED, TURN_PENDING, Attempt, Turn
from .queries import current_phrasebook, doc_of, voice_available
from .recordings import discard, recordings_dir
from .scenario import ScenarioDoc

UI_LANGUAGES = ("zh-CN", "en")
STALE_GRADING_AFTER = timedelta(minutes=10)  # a "grading" claim older than this died with its worker
PROVOKED_ANGER = 60  # customer lines at or above this anger count as provocation for delivery


def item_json(result: ItemResult) -> dict:
    return asdict(result)


MAX_CLAIMS = 5  # a turn whose grading was interrupted this often is left pending (flask roleplay regrade)


def claim_timeout() -> timedelta:
    """How long a "grading" claim may last before it counts as dead (GRADING_CLAIM_TIMEOUT seconds)."""
    seconds = current_app.config.get("GRADING_CLAIM_TIMEOUT")
    return timedelta(seconds=float(seconds)) if seconds else STALE_GRADING_AFTER


def _claim_turn(turn_id: int) -> str | None:
    """Take the turn for grading and return the claim's token; None when it is graded, being
    graded (a live claim), or unknown.

    A claim older than claim_timeout() died with its worker and is taken over; the guarded
    UPDATE lets exactly one caller take it (on PostgreSQL a concurrent UPDATE waits for the row
    and then no longer matches; SQLite serialises writers).
    """
    now = utcnow()
    claimed_since = func.coalesce(Turn.claimed_at, Turn.grading_started_at)
    claimable = or_(Turn.status.in_((RECEIVED, TURN_PENDING)),
                    and_(Turn.status == GRADING, claimed_since < now - claim_timeout(), Turn.claims < MAX_CLAIMS))
    token = uuid.uuid4().hex
    claimed = db.session.execute(
        update(Turn).where(Turn.id == turn_id, claimable)
        .values(status=GRADING, grading_started_at=now, claimed_at=now, claim_token=token,
                claims=Turn.claims + 1, error=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if claimed.rowcount == 1 else None


def grade_turn(turn_id: int, *, recognized=None) -> Turn | None:
    """Recognise (voice) and grade one reply, then move the call on; idempotent.

    Grading an already graded (or currently grading) turn does nothing and returns it.
    When recognition or grading raises, the turn is left ``pending`` with the error noted
    and GradingFailed is raised; ``regrade_attempt`` picks it up later. The grade is written
    only while this call still holds its claim (the token), so a turn taken over after the
    claim timeout is graded once, by whoever holds the claim.

    ``recognized``: the Transcript a live recogniser already made of exactly this recording while it
    was streamed (roleplays.streaming); the recording is then not recognised again.
    """
    token = _claim_turn(turn_id)
    if token is None:
        return db.session.get(Turn, turn_id)
    turn = db.session.get(Turn, turn_id)
    try:
        graded = _grade(turn) if recognized is None else _grade(turn, recognized)
        # Fence: lock the row and check the claim is still ours, in the transaction that writes the grade.
        held = db.session.execute(
            update(Turn).where(Turn.id == turn_id, Turn.status == GRADING, Turn.claim_token == token)
            .values(graded_count=Turn.graded_count + 1).execution_options(synchronize_session=False))
        if held.rowcount != 1:
            db.session.rollback()
            current_app.logger.warning("grading turn %s: the claim was taken over; this grade is dropped", turn_id)
            return db.session.get(Turn, turn_id)
        ended_attempt = _apply(turn, graded)
        db.session.commit()
    except Exception as exc:  # recognition, model loading, a broken recording... all kept for later
        db.session.rollback()
        current_app.logger.warning("grading turn %s failed, kept as pending: %s", turn_id, exc, exc_info=True)
        message = f"{type(exc).__name__}: {exc}"
        db.session.execute(update(Turn).where(Turn.id == turn_id, Turn.status == GRADING, Turn.claim_token == token)
                           .values(status=TURN_PENDING, error=message[:2000]))
        db.session.commit()
        raise GradingFailed(message, turn_id) from exc
    if ended_attempt is not None:
        announce_graded(ended_attempt)
    return turn


def announce_graded(attempt: Attempt) -> None:
    """Tell the other domains a call has its grade (certification re-evaluates, notices are made),
    then commit what their receivers recorded: they flush and never commit in our flow. A trainer's
    practice call is nobody's evidence: nothing is told."""
    if attempt.practice:
        return
    events.roleplay_attempt_graded.send(attempt.user_id, attempt_id=attempt.id, scenario_slug=attempt.version.slug,
                                        passed=bool(attempt.passed), score=attempt.score)
    db.session.commit()


# Why a voice reply scored 0 without being graded on its words (metrics["no_speech"]).
NO_SPEECH_MESSAGES = {
    "silence": _l("No speech was heard in this recording (it is silent), so this reply scores 0. "
                  "Answer the caller in your own voice."),
    "tone": _l("No speech was heard in this recording (only a steady tone or hum), so this reply scores 0. "
               "Answer the caller in your own voice."),
    "noise": _l("No speech was heard in this recording (only noise), so this reply scores 0. "
                "Answer the caller in your own voice."),
    "no_words": _l("No words could be recognised in this recording, so this reply scores 0. "
                   "Speak clearly, close to the microphone."),
}


def no_speech_reason(turn: Turn) -> str | None:
    """silence | tone | noise | no_words when the voice reply held no speech (it scores 0), else None."""
    return (turn.metrics or {}).get("no_speech") if turn.mode == "voice" else None


def _no_speech_grade(context: TurnContext, reason: str, first_turn: bool) -> TurnGrade:
    """Nothing was said: every judgement fails and the reply earns nothing (a grammar recogniser
    would have heard the sound as the expected phrases, and saying nothing breaks no rule)."""
    from flask_babel import force_locale
    context.text, context.metrics = "", None
    grade = grade_reply_turn(context, first_turn=first_turn)
    messages = {}
    for ui, locale in (("zh-CN", "zh_CN"), ("en", "en")):
        with force_locale(locale):
            messages[ui] = str(NO_SPEECH_MESSAGES[reason])
    judgements = {name: replace(j, held=False) for name, j in grade.judgements.items()}
    return replace(grade, judgements=judgements, passed=False, earned=0.0, fraction=0.0, outcome="escalate",
                   tips={ui: [messages[ui]] + list(grade.tips.get(ui, [])) for ui in messages})


def recognition_grammar(doc: ScenarioDoc, node_id: str) -> list[str] | None:
    """The phrases recognition is limited to at this node (VOSK_GRAMMAR_LANGUAGES), else None (free)."""
    if not speech.uses_grammar(doc.language):
        return None
    phrasebook = current_phrasebook()
    forms = [form for pair in (phrasebook.pairs if phrasebook else ()) if pair.language == doc.language
             for form in pair.habitual]
    # The closing turn (the call at an ending) listens for the whole scenario's phrases too.
    return doc.grammar(node_id if node_id in doc.nodes else doc.start, phrasebook_forms=forms)


def _grade(turn: Turn, recognized=None) -> tuple[str, dict | None, TurnGrade]:
    """Recognise a voice reply, then grade it with the one grading pipeline.

    A recording without speech (a tone, noise) is not recognised at all, and one in which no
    word was recognised is not graded on words: both score 0 and say why.
    """
    attempt = turn.attempt
    doc = doc_of(attempt)
    language = doc.language
    phrasebook = current_phrasebook()
    metrics = None
    if turn.mode == "voice":
        audio = speech.load_audio(recordings_dir() / turn.recording_path)
        metrics = compute_metrics(audio).to_dict()
        presence = detect_speech(audio)
        reason = presence.reason
        transcript = ""
        if presence.speech:
            # A reply recognised live while it streamed (the same bytes) is not recognised again.
            recognised = recognized if recognized is not None else \
                speech.recognize(language, audio, recognition_grammar(doc, turn.node_id))
            transcript = recognised.text
            # The speaking rate from what was said (chars/min, words/min); the energy estimate stays.
            metrics.update(speaking_rate_from_words(recognised.words, language))
            reason = None if transcript.strip() else "no_words"
        if reason is not None:
            metrics.update(no_speech=reason, presence=presence.to_dict())
            if turn.node_id in ENDINGS:
                return "", metrics, closing_grade(doc, "")
            context = turn_context(doc, turn.node_id, "", phrasebook)
            return "", metrics, _no_speech_grade(context, reason, turn.seq == 1)
    else:
        transcript = turn.transcript or ""
    if turn.node_id in ENDINGS:
        return transcript, metrics, closing_grade(doc, transcript)
    context = turn_context(doc, turn.node_id, transcript, phrasebook)
    if turn.mode == "voice":
        context.metrics, context.baseline = metrics, _baseline_metrics(attempt, turn)
    return transcript, metrics, grade_reply_turn(context, first_turn=turn.seq == 1)


def last_line(doc: ScenarioDoc, ending: str) -> str:
    """What the customer says as the call reaches `ending` (resolved | transferred | hangup)."""
    return doc.last_line(ending)


def has_closing_turn(doc: ScenarioDoc) -> bool:
    """The trainee gets a last reply after the customer's last line (graded for the goodbye), unless the
    scenario does not grade the closing (its points are 0)."""
    return doc.closing is not None and float(doc.closing.points or 0) > 0


def closing_grade(doc: ScenarioDoc, transcript: str) -> TurnGrade:
    """The closing turn is graded for one thing: thanks and a goodbye (the library's closing item)."""
    closing = closing_rule(transcript, doc.closing, doc.language)
    tips = {ui: ([] if closing.matched else [pick(closing.explanation, ui)]) for ui in UI_LANGUAGES}
    fraction = 1.0 if closing.matched else 0.0
    return TurnGrade(items=[closing], delivery=[], judgements={}, passed=closing.matched,
                     earned=closing.points_awarded, possible=closing.points_possible, fraction=fraction,
                     outcome="stay", tips=tips, habitual={ui: [] for ui in UI_LANGUAGES})


MAX_SKIPPED = 1  # the next moment only: the customer still reacts to the reply


def covered_nodes(doc: ScenarioDoc, node_id: str, transcript: str,
                  phrasebook: GradingPhrasebook | None) -> list[str]:
    """Nodes the same reply already answers, from `node_id` (the node the call moves to) on: their
    need is met by these words, judged by the one grading pipeline (the advances judgement holds
    through the node's weightiest way of moving the case on, not a generic next step), and nothing
    forbidden is said. The customer does not ask for what they were already told."""
    covered: list[str] = []
    while node_id in doc.nodes and node_id not in covered and len(covered) < MAX_SKIPPED:
        node = doc.nodes[node_id]
        check = grade_reply_turn(turn_context(doc, node_id, transcript, phrasebook))
        advances = check.judgements.get("advances")
        if advances is None or not advances.applies or not advances.held or not check.judgements["rules"].held:
            break
        mine = [r for r in check.items if r.kind == "intent" and r.judgement == "advances"]
        weight = max((r.points_possible for r in mine), default=0.0)
        if not any(r.matched and r.points_possible >= weight for r in mine):
            break
        if "deescalate" not in node.next:
            break
        covered.append(node_id)
        node_id = node.next["deescalate"]
    return covered


def _demand_met(attempt: Attempt, turn: Turn, grade: TurnGrade) -> bool:
    """The caller's demand was met in this call: a reply (this one or an earlier) moved the case on."""
    if grade.judgements.get("advances") is not None and grade.judgements["advances"].applies \
            and grade.judgements["advances"].held:
        return True
    for earlier in attempt.turns:
        if earlier is turn or earlier.status != GRADED or earlier.node_id in ENDINGS:
            continue
        advances = score_items(earlier.items or [], earlier.delivery or [])[2].get("advances")
        if advances is not None and advances.applies and advances.held:
            return True
    return False


def turn_context(doc: ScenarioDoc, node_id: str, text: str, phrasebook: GradingPhrasebook | None) -> TurnContext:
    node = doc.nodes[node_id]
    return TurnContext(text=text, language=doc.language, items=node.rubric, rules=doc.rules,
                       greeting=doc.greeting, phrasebook=phrasebook, delivery_points=doc.delivery_points,
                       provoked=node.anger >= PROVOKED_ANGER)


def _baseline_metrics(attempt: Attempt, turn: Turn) -> dict | None:
    """The trainee's own first voice reply in this call (None while grading that one)."""
    for earlier in attempt.turns:
        if earlier.seq >= turn.seq:
            break
        if earlier.mode == "voice" and earlier.metrics and not no_speech_reason(earlier):
            return earlier.metrics
    return None


def _apply(turn: Turn, graded: tuple[str, dict | None, TurnGrade]) -> Attempt | None:
    """Write the grade and move the call on. Returns the attempt when this reply ended it."""
    transcript, metrics, grade = graded
    attempt = turn.attempt
    doc = doc_of(attempt)
    turn.transcript = transcript
    turn.metrics = metrics
    turn.delivery = [asdict(d) for d in grade.delivery]
    turn.tips = {ui: list(tips) for ui, tips in grade.tips.items()}
    turn.habitual = grade.habitual
    turn.score_fraction = round(grade.fraction, 4)
    turn.outcome = grade.outcome
    turn.status = GRADED
    turn.graded_at = utcnow()
    turn.error = None
    items = [asdict(r) for r in grade.items]
    earned, possible = grade.earned, grade.possible

    live = attempt.status == PENDING and attempt.node_id == turn.node_id
    if not live:
        # The trainee left while this reply waited: grade it, but the call does not move on.
        turn.items, turn.earned, turn.possible = items, earned, possible
        turn.anger_after, turn.next_node = attempt.anger, None
        return None

    if turn.node_id in ENDINGS:
        # The closing turn: the customer said their last line; the trainee's goodbye ends the call.
        turn.items, turn.earned, turn.possible = items, earned, possible
        turn.anger_after, turn.next_node = attempt.anger, None
        finish_call(attempt, turn.node_id.removeprefix("end:"), doc, turn)
        return attempt

    node = doc.nodes[turn.node_id]
    phrasebook = current_phrasebook()
    anger_step = doc.anger_step
    if grade.judgements["rules"].held and _demand_met(attempt, turn, grade):
        # Once the caller got what they asked for, their anger never rises again (unless the
        # trainee says something forbidden).
        anger_step = {outcome: min(0, step) for outcome, step in anger_step.items()}
    state = CallState(attempt.node_id, attempt.anger, attempt.consecutive_poor).step(
        node.next, grade.outcome, anger_step=anger_step, hangup_after_poor=int(doc.hangup_after_poor))
    skipped: list[str] = []
    if state.node in doc.nodes and grade.outcome != "escalate":
        skipped = covered_nodes(doc, state.node, transcript, phrasebook)
        if skipped:
            state = replace(state, node=doc.nodes[skipped[-1]].next["deescalate"], reason="covered")
    ending = state.node.removeprefix("end:") if state.node in ENDINGS else None
    closing_turn = False
    if ending in ("resolved", "transferred") and doc.closing is not None:
        # A goodbye already said in this reply is credited and the call ends after the customer's
        # last line; otherwise the trainee gets a closing turn to thank the caller and say goodbye.
        # (After a hang-up there is nobody left to say goodbye to: the closing is not judged.)
        closing = closing_rule(transcript, doc.closing, doc.language)
        if closing.matched:
            items.append(asdict(closing))
            earned += closing.points_awarded
            possible += closing.points_possible
        else:
            closing_turn = has_closing_turn(doc)
    turn.items, turn.earned, turn.possible = items, earned, possible
    turn.anger_after, turn.next_node = state.anger, state.node
    turn.skipped = skipped or None
    attempt.node_id, attempt.anger, attempt.consecutive_poor = state.node, state.anger, state.consecutive_poor
    attempt.last_activity_at = utcnow()
    if ending is None or closing_turn:
        attempt.status = IN_CALL  # at an ending: the customer's last line, then the trainee's goodbye
        return None
    finish_call(attempt, ending, doc, turn)
    return attempt


def broke_rules(turn: Turn) -> bool:
    """A forbidden behaviour in this reply (after any trainer's override)."""
    return any(i.get("kind") == "forbidden" and float(i["points_awarded"]) < 0 for i in turn.items or [])


def finish_call(attempt: Attempt, ending: str, doc: ScenarioDoc, last_turn: Turn | None) -> None:
    score_call(attempt, doc, last_turn)
    attempt.ending = ending
    attempt.status = ENDED
    attempt.finished_at = utcnow()
    _report_if_too_fast(attempt, last_turn)


def _report_if_too_fast(attempt: Attempt, last_turn: Turn | None) -> None:
    """A call whose replies came faster than a person can hear a customer's line and answer it is
    reported (certification shows it to HR and trainers); it still counts as graded."""
    if attempt.practice:
        return  # a trainer's practice call is nobody's evidence
    per_reply = float(current_app.config.get("CALL_MIN_SECONDS_PER_REPLY") or 0)
    replies = len([t for t in attempt.turns if t.status == GRADED or t is last_turn])
    if per_reply <= 0 or not replies or attempt.answered_at is None:
        return
    seconds = (attempt.finished_at - attempt.answered_at).total_seconds()
    if seconds < per_reply * replies:
        events.evidence_too_fast.send(attempt.user_id, kind="call", subject=attempt.version.slug, ref_id=attempt.id,
                                      seconds=round(seconds, 1), minimum_seconds=per_reply * replies,
                                      detail={"replies": replies, "mode": attempt.mode})


def score_call(attempt: Attempt, doc: ScenarioDoc, last_turn: Turn | None = None) -> None:
    """The call's points, score and verdict from its graded replies and call rules."""
    attempt.call_items = list(attempt.call_items or [])
    turns = [t for t in attempt.turns if t.status == GRADED or t is last_turn]
    earned = sum(t.earned or 0.0 for t in turns) + sum(i["points_awarded"] for i in attempt.call_items)
    possible = sum(t.possible or 0.0 for t in turns) + sum(i["points_possible"] for i in attempt.call_items)
    attempt.earned, attempt.possible = round(earned, 3), round(possible, 3)
    attempt.score = percent(earned, possible)
    # Staying within the rules is asked of every reply: one forbidden behaviour fails the call.
    attempt.passed = is_passed(attempt.score, float(doc.pass_mark)) and not any(broke_rules(t) for t in turns)


def regrade_attempt(attempt_id: int) -> Attempt | None:
    """Grade every reply of the attempt that is still waiting (received, pending, or a stale claim).

    Safe to call any time: graded turns are left alone. Raises GradingFailed when a reply
    still cannot be graded (it stays pending).
    """
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    stale = utcnow() - claim_timeout()
    db.session.execute(update(Turn).where(Turn.attempt_id == attempt_id, Turn.status == GRADING,
                                          func.coalesce(Turn.claimed_at, Turn.grading_started_at) < stale)
                       .values(status=TURN_PENDING))
    db.session.commit()
    release_unrecognisable(attempt)
    waiting = db.session.scalars(select(Turn.id).where(Turn.attempt_id == attempt_id,
                                                       Turn.status.in_((RECEIVED, TURN_PENDING)))
                                 .order_by(Turn.seq)).all()
    for turn_id in waiting:
        grade_turn(turn_id)
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def release_unrecognisable(attempt: Attempt) -> None:
    """Give back a call held by a recording nobody here can recognise (its language has no speech
    model): the waiting voice reply is dropped with its file and the call waits for a reply again,
    which the trainee can type. Grading it as 0 would blame the trainee for the server."""
    if voice_available(attempt.language):
        return
    stuck = db.session.scalars(select(Turn).where(Turn.attempt_id == attempt.id, Turn.mode == "voice",
                                                  Turn.status.in_((RECEIVED, TURN_PENDING)))).all()
    if not stuck:
        return
    for turn in stuck:
        if turn.recording_path:
            discard(recordings_dir() / turn.recording_path)
        current_app.logger.warning("turn %s: no speech model for %s; the reply was dropped and the call "
                                   "given back to the trainee", turn.id, attempt.language)
        db.session.delete(turn)
    db.session.flush()
    db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.status == PENDING)
                       .values(status=IN_CALL, last_activity_at=utcnow()))
    db.session.commit()
    db.session.expire_all()


def rescore_attempt(attempt_id: int) -> Attempt | None:
    """Grade the finished replies of an attempt again with today's grader, on the scenario version the
    attempt was taken on (past attempts keep their grade until someone asks for this).

    What was said and the path the call took stay as they were (the customer's reactions happened);
    each reply's items, judgements, tips and points are graded again, and the call's score and
    pass/fail recomputed from them. Trainers' overrides stay in the reviews log; re-apply them there.
    """
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    if attempt.status != ENDED:
        raise RoleplayError("Only a finished call can be re-scored.", code="not_ended")
    doc = doc_of(attempt)
    phrasebook = current_phrasebook()
    for turn in attempt.turns:
        if turn.status == GRADED and turn.node_id in ENDINGS and not no_speech_reason(turn):
            grade = closing_grade(doc, turn.transcript or "")  # the closing turn: its goodbye only
            turn.items = [asdict(r) for r in grade.items]
            turn.tips, turn.score_fraction = {ui: list(t) for ui, t in grade.tips.items()}, grade.fraction
            turn.earned, turn.possible = grade.earned, grade.possible
            continue
        if turn.status != GRADED or turn.node_id not in doc.nodes or no_speech_reason(turn):
            continue  # a reply without speech stays at 0: there are no words to grade again
        context = turn_context(doc, turn.node_id, turn.transcript or "", phrasebook)
        if turn.mode == "voice" and turn.metrics:
            context.metrics, context.baseline = turn.metrics, _baseline_metrics(attempt, turn)
        grade = grade_reply_turn(context, first_turn=turn.seq == 1)
        closing = [i for i in turn.items or [] if i.get("rule") == "call:closing"]
        turn.items = [asdict(r) for r in grade.items] + closing
        turn.delivery = [asdict(d) for d in grade.delivery]
        turn.tips, turn.habitual = {ui: list(t) for ui, t in grade.tips.items()}, grade.habitual
        turn.score_fraction = round(grade.fraction, 4)
        turn.earned = grade.earned + sum(i["points_awarded"] for i in closing)
        turn.possible = grade.possible + sum(i["points_possible"] for i in closing)
    score_call(attempt, doc)
    db.session.commit()
    announce_graded(attempt)
    return attempt
