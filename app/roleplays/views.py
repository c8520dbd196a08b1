"""Role-play pages and the JSON API the call screen (static/js/drill/main.js) talks to."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from grading.call import ENDINGS

from ..core.access import Role, allow, has_role
from ..core.clock import utcnow
from ..core.i18n import content_language
from ..core.inputs import db_bigint, db_int
from ..extensions import db
from ..speechops import services as speech
from . import errors, grader, operations, presenters, queries, recordings, replies, streaming
from .dispatch import grading_queue
from .forms import StartForm
from .models import ABANDONED, ENDED, GRADED, LIVE_STATUSES, PENDING, RINGING, Attempt, Turn
from .scenario import ScenarioDoc

bp = Blueprint("roleplays", __name__, template_folder="templates")

# Translated messages for speech's AudioError codes and the refusals of the call flow.
ERROR_MESSAGES = {
    "not_audio": _l("The upload is not a WAV recording."),
    "unsupported": _l("This recording format is not supported. Please record again."),
    "truncated": _l("The recording was cut off. Please record your reply again."),
    "empty": _l("The recording contains no audio. Please record your reply again."),
    "silence": _l("The recording is silent: check that the microphone is on and not muted, then try again."),
    "too_long": _l("The recording is too long. Keep each reply under %(seconds)s seconds."),
    "too_large": _l("The recording is larger than the upload limit."),
    "not_in_call": _l("The call is not waiting for a reply right now."),
    "voice_required": _l("This drill must be answered by voice; typed replies are not accepted."),
    "empty_text": _l("Type a reply first."),
    "text_too_long": _l("The reply is too long."),
    "no_audio": _l("No recording was sent."),
    "bad_request": _l("The request could not be understood."),
    "not_found": _l("There is nothing at this address."),
    "bad_mode": _l("Choose voice or typed replies."),
    "voice_unavailable": _l("Replies to this call cannot be recognised by voice on this server. "
                            "Please type your reply."),
    "pending_full": _l("You have too many recordings waiting to be graded (limit %(mb)s MB). "
                       "Wait until they are graded, then record again."),
    # Streamed replies (roleplays.streaming): a refused chunk is not stored; the recording so far is kept.
    "chunk_format": _l("This piece of the recording is not 16 kHz mono 16-bit audio; it was not stored."),
    "chunk_too_long": _l("This piece of the recording is too long; send at most one second at a time."),
    "too_many_chunks": _l("The recording was sent in too many pieces."),
    "out_of_order": _l("A piece of the recording arrived out of order; it was not stored."),
    "stream_ended": _l("This reply has already ended; nothing more can be added to it."),
}
ENDING_LABELS = {
    "resolved": _l("Resolved"),
    "transferred": _l("Transferred"),
    "hangup": _l("The customer hung up"),
}
STATUS_LABELS = {
    "ringing": _l("Not answered"),
    "in_call": _l("In progress"),
    "pending": _l("Waiting for grading"),
    "ended": _l("Finished"),
    "abandoned": _l("Abandoned"),
}
LANGUAGE_LABELS = {"zh-CN": _l("Mandarin"), "en-US": _l("English"), "ko-KR": _l("Korean")}


def _message(code: str) -> str:
    if code == "too_long":
        return _("The recording is too long. Keep each reply under %(seconds)s seconds.",
                 seconds=int(current_app.config["MAX_AUDIO_SECONDS"]))
    if code == "pending_full":
        limit_mb = "%g" % (recordings.pending_limit_bytes() / 1024 / 1024)
        return _("You have too many recordings waiting to be graded (limit %(mb)s MB). "
                 "Wait until they are graded, then record again.", mb=limit_mb)
    return str(ERROR_MESSAGES.get(code, ERROR_MESSAGES["bad_request"]))


def _error(code: str, status: int):
    return jsonify(error=code, message=_message(code)), status


def _refusal(exc: errors.RoleplayError):
    code = exc.code
    if isinstance(exc, errors.RoleplayError) and not isinstance(exc, errors.BadAudio):
        code = {"empty": "empty_text", "too_long": "text_too_long"}.get(code, code)
    return _error(code, exc.status)


@bp.app_context_processor
def _labels():
    return {"roleplay_endings": ENDING_LABELS, "roleplay_statuses": STATUS_LABELS,
            "roleplay_languages": LANGUAGE_LABELS}


def _own_attempt(attempt_id: int) -> Attempt:
    """The current learner's attempt; anyone else's is simply not found."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


# --- pages -------------------------------------------------------------------------------

@bp.route("/roleplays/")
@allow(Role.LEARNER, Role.TRAINER)
def index():
    ui = content_language()
    attempts = queries.user_attempts(current_user.id, include_practice=True)
    best: dict[int, float] = {}
    live: dict[int, Attempt] = {}
    now = utcnow()
    for attempt in attempts:
        if attempt.status == ENDED and attempt.score is not None and not attempt.practice:
            best[attempt.scenario_id] = max(best.get(attempt.scenario_id, 0.0), attempt.score)
        if attempt.effective_status(now) in (*LIVE_STATUSES, PENDING) and attempt.scenario_id not in live:
            live[attempt.scenario_id] = attempt
    voice = speech.voice_languages()
    rows = queries.library()
    languages = sorted({row.current_version.language for row in rows})
    wanted = _library_filter(languages)
    counts = queries.attempt_counts(current_user.id)
    assigned = queries.assigned_drills(current_user) if has_role(current_user, Role.LEARNER) else {}
    scenarios = []
    for row in rows:
        doc = ScenarioDoc(row.current_version.spec)
        title = doc.text("title", ui)
        if wanted.text and wanted.text.casefold() not in " ".join(
                (title, doc.text("case_facts", ui), row.slug)).casefold():
            continue
        if (wanted.difficulty and row.current_version.difficulty != wanted.difficulty) or \
                (wanted.language and row.current_version.language != wanted.language) or \
                (wanted.mine and row.slug not in assigned):
            continue
        scenarios.append({"slug": row.slug, "title": title,
                          "title_fallback": doc.is_fallback("title", ui),
                          "difficulty": row.current_version.difficulty, "language": row.current_version.language,
                          "voice": row.current_version.language in voice, "best": best.get(row.id),
                          "live": live.get(row.id), "attempts": counts.get(row.id, 0),
                          "due": assigned.get(row.slug)})
    return render_template("roleplays/index.html", scenarios=scenarios, total=len(rows), wanted=wanted,
                           scenario_languages=languages, is_learner=has_role(current_user, Role.LEARNER))


def _library_filter(languages: list[str]) -> queries.LibraryFilter:
    """The library's search and filters from the query string (unknown values are ignored)."""
    text = " ".join((request.args.get("q") or "").split())[:queries.MAX_SEARCH]
    difficulty = request.args.get("difficulty", type=db_int)
    language = request.args.get("language") or ""
    return queries.LibraryFilter(text=text, difficulty=difficulty if difficulty in (1, 2, 3) else None,
                                 language=language if language in languages else "",
                                 mine=request.args.get("mine") == "1")


@bp.route("/roleplays/history")
@allow(Role.LEARNER)
def history():
    ui = content_language()
    attempts = queries.user_attempts(current_user.id)
    titles: dict[str, str] = {}
    for a in attempts:
        titles.setdefault(a.version.slug, ScenarioDoc(a.version.spec).text("title", ui))
    scenario = request.args.get("scenario") or ""
    if scenario not in titles:
        scenario = ""  # an unknown or foreign slug shows every call
    shown = [a for a in attempts if not scenario or a.version.slug == scenario]
    rows = [{"attempt": a, "title": titles[a.version.slug]} for a in shown]
    return render_template("roleplays/history.html", rows=rows, trend=presenters.score_trend(shown),
                           weakest=queries.weakest_items(current_user.id, ui), scenario=scenario,
                           scenario_titles=sorted(titles.items(), key=lambda pair: pair[1]))


@bp.route("/roleplays/<slug>")
@allow(Role.LEARNER, Role.TRAINER)
def briefing(slug: str):
    scenario = queries.get_scenario(slug)
    if scenario is None:
        abort(404)
    ui = content_language()
    version = scenario.current_version
    doc = ScenarioDoc(version.spec)
    voice_ok = queries.voice_available(version.language)
    form = StartForm()
    if not voice_ok:
        form.mode.data = "typed"
    return render_template("roleplays/briefing.html", scenario=scenario, version=version, doc=doc, ui=ui,
                           voice_ok=voice_ok, form=form, practice=_practice_choice())


def _practice_choice() -> str | None:
    """Trainers practise: "always" (a trainer who is not a learner), "optional" (both), None (learners)."""
    if not has_role(current_user, Role.TRAINER):
        return None
    return "optional" if has_role(current_user, Role.LEARNER) else "always"


@bp.route("/roleplays/<slug>/start", methods=["POST"])
@allow(Role.LEARNER, Role.TRAINER)
def start(slug: str):
    scenario = queries.get_scenario(slug)
    if scenario is None:
        abort(404)
    form = StartForm()
    if not form.validate_on_submit():
        flash(_("Choose voice or typed replies."), "error")
        return redirect(url_for("roleplays.briefing", slug=slug))
    wanted = form.mode.data
    choice = _practice_choice()
    practice = choice == "always" or (choice == "optional" and form.practice.data)
    try:
        attempt = operations.start_attempt(current_user.id, slug, wanted, practice=practice)
    except errors.RoleplayError as exc:
        flash(_message(exc.code), "error")
        return redirect(url_for("roleplays.briefing", slug=slug))
    if wanted == "voice" and attempt.mode == "typed":
        flash(_("Voice grading is not available for this call's language on this server, so you will reply by "
                "typing. Typed replies are marked as typed in your record."), "info")
    return redirect(url_for("roleplays.call", attempt_id=attempt.id))


@bp.route("/roleplays/attempts/<int:attempt_id>/call")
@allow(Role.LEARNER, Role.TRAINER)
def call(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    doc = ScenarioDoc(attempt.version.spec)
    ui = content_language()
    return render_template(
        "roleplays/call.html", attempt=attempt, scenario_title=doc.text("title", ui),
        # The agent's customer record stays on screen for the whole call.
        caller_name=doc.persona.get("name"), case_facts=doc.text("case_facts", ui),
        case_facts_fallback=doc.is_fallback("case_facts", ui),
        state_url=url_for("roleplays.api_state", attempt_id=attempt.id),
        answer_url=url_for("roleplays.api_answer", attempt_id=attempt.id),
        turns_url=url_for("roleplays.api_turns", attempt_id=attempt.id),
        abandon_url=url_for("roleplays.api_abandon", attempt_id=attempt.id),
        stream_url=url_for("roleplays.api_stream", attempt_id=attempt.id),
        report_url=url_for("roleplays.report", attempt_id=attempt.id),
        mode=attempt.mode, language=attempt.language, difficulty=attempt.difficulty)


@bp.route("/roleplays/attempts/<int:attempt_id>/report")
@allow(Role.LEARNER, Role.TRAINER)
def report(attempt_id: int):
    attempt = queries.attempt_for_user(attempt_id, current_user)
    if attempt is None:
        abort(404)
    data = presenters.attempt_report(attempt_id, content_language())
    return render_template("roleplays/report.html", report=data,
                           own=attempt.user_id == current_user.id)


@bp.route("/roleplays/turns/<int:turn_id>/recording")
@allow(Role.LEARNER, Role.TRAINER)
def recording(turn_id: int):
    turn = db.session.get(Turn, turn_id)
    if turn is None or not turn.recording_path or queries.attempt_for_user(turn.attempt_id, current_user) is None:
        abort(404)
    root = recordings.recordings_dir().resolve()
    path = (root / turn.recording_path).resolve()
    if root not in path.parents or not path.is_file():
        abort(404)
    response = send_file(Path(path), mimetype="audio/wav", conditional=True, max_age=0)
    response.cache_control.private = True
    return response


# --- JSON API ----------------------------------------------------------------------------

def _state(attempt: Attempt) -> dict:
    version = attempt.version
    doc = ScenarioDoc(version.spec)
    show_caption = attempt.difficulty == 1
    status = attempt.effective_status()  # an idle call shows as abandoned; only a write persists that
    over = status in (ENDED, ABANDONED)
    if not over and attempt.node_id in doc.nodes:
        node = {"id": attempt.node_id, "line": doc.nodes[attempt.node_id].line if show_caption else None,
                "audio_url": presenters.audio_url(version, attempt.node_id)}
    elif not over and attempt.node_id in ENDINGS:
        # The customer's last line (always shown: it has no recording), then the trainee's goodbye.
        node = {"id": attempt.node_id, "line": grader.last_line(doc, attempt.node_id.removeprefix("end:")),
                "audio_url": None, "closing": True}
    else:
        node = {"id": None, "line": None, "audio_url": None}
    return {
        "attempt_id": attempt.id,
        "status": status,
        "mode": attempt.mode,
        "language": attempt.language,
        "difficulty": attempt.difficulty,
        "show_caption": show_caption,
        "anger": attempt.anger,
        "node": node,
        "turns": [{"id": t.id, "node_id": t.node_id, "transcript": t.transcript, "score_fraction": t.score_fraction,
                   "percent": presenters.reply_percent(t.score_fraction) if t.score_fraction is not None else None,
                   "status": t.status} for t in attempt.turns],
        "ended": over,
        "ending": attempt.ending,
        # The customer's last words once the call reached an ending (shown as the call ends).
        "last_line": doc.last_line(attempt.ending) if attempt.status == ENDED and attempt.ending else None,
        "report_url": url_for("roleplays.report", attempt_id=attempt.id),
        "rings_allowed": int(doc.rings_rule.get("rings", queries.RINGS_ALLOWED)),
        # The server counts the rings (answer_call); the call screen shows the same count.
        "ring_period_ms": int(queries.ring_seconds(version.spec) * 1000),
        "ring": queries.rings_heard(attempt) if status == RINGING else attempt.rings,
    }


def _fresh(attempt_id: int) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


@bp.route("/api/roleplays/attempts/<int:attempt_id>/state")
@allow(Role.LEARNER, Role.TRAINER)
def api_state(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    # ?turn=ID: how a reply queued for grading is doing (drill/poll.js polls after a 202 "queued");
    # once graded, turn_result is exactly the 200 answer of the turns endpoint. The turn is read
    # BEFORE the call: its grade and the call's next step are one commit, so a graded turn always
    # comes with the state after it (read the other way round, a grade committed in between
    # would pair "graded" with the call still waiting).
    turn_id = request.args.get("turn", type=db_int)
    turn_status = None
    if turn_id is not None:
        turn_status = db.session.scalar(select(Turn.status).where(Turn.id == turn_id, Turn.attempt_id == attempt_id))
    attempt = _fresh(attempt_id)
    data = _state(attempt)
    # After logging in again mid-call the page's CSRF token is stale; drill/main.js takes this one.
    data["csrf_token"] = generate_csrf()
    if turn_status is not None:
        data["turn_status"] = turn_status
        if turn_status == GRADED:
            data["turn_result"] = _turn_result(db.session.get(Turn, turn_id), attempt, dict(data))
    return jsonify(data)


@bp.route("/api/roleplays/attempts/<int:attempt_id>/answer", methods=["POST"])
@allow(Role.LEARNER, Role.TRAINER)
def api_answer(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    # The ring is measured on the server; a "rings" the browser sends is not trusted.
    operations.answer_call(attempt)
    return jsonify(_state(_fresh(attempt_id)))


@bp.route("/api/roleplays/attempts/<int:attempt_id>/turns", methods=["POST"])
@allow(Role.LEARNER, Role.TRAINER)
def api_turns(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    try:
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("audio")
            if upload is None:
                return _error("no_audio", 400)
            ended_ms = request.form.get("speech_ended_ms", type=db_bigint)
            turn = replies.submit_voice(attempt, upload.read(), ended_ms)
        elif request.is_json:
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not isinstance(body.get("text"), str):
                return _error("bad_request", 400)
            turn = operations.submit_typed(attempt, body["text"])
        else:
            return _error("bad_request", 400)
    except errors.RoleplayError as exc:
        return _refusal(exc)
    turn_id = turn.id
    queue = grading_queue() if turn.mode == "voice" else None
    if queue is not None:
        # Production mode: a queue worker recognises and grades it; the client polls state_url.
        queue.enqueue(turn_id)
        return jsonify(status="queued", turn_id=turn_id,
                       state_url=url_for("roleplays.api_state", attempt_id=attempt_id, turn=turn_id)), 202
    try:
        grader.grade_turn(turn_id)
    except errors.GradingFailed:
        return jsonify(status="pending", turn_id=turn_id,
                       message=_("Your reply was saved, but it could not be graded right now. "
                                 "It will be graded later; nothing you said is lost.")), 202
    attempt = _fresh(attempt_id)
    turn = db.session.get(Turn, turn_id)
    return jsonify(_turn_result(turn, attempt, _state(attempt)))


@bp.route("/api/roleplays/attempts/<int:attempt_id>/stream", methods=["POST"])
@allow(Role.LEARNER, Role.TRAINER)
def api_stream(attempt_id: int):
    """One chunk of a voice reply while it is spoken: ?seq=N (0 opens the reply), &final=1 ends it
    (with &speech_ended_ms=), body raw 16 kHz mono PCM16 (audio/l16 or application/octet-stream).
    The answer to a chunk: {"seq", "received_ms", "partial"} (partial words only where captions are
    shown); to the final chunk: exactly what the turns endpoint answers for an uploaded recording."""
    attempt = _own_attempt(attempt_id)
    seq = request.args.get("seq", type=db_int)
    final = request.args.get("final") == "1"
    if seq is None or seq < 0:
        return _error("bad_request", 400)
    if request.mimetype not in ("audio/l16", "application/octet-stream") or \
            request.mimetype_params.get("rate", "16000") != "16000" or \
            request.mimetype_params.get("channels", "1") != "1":
        return _error("chunk_format", 415)
    if (request.content_length or 0) > streaming.settings()["STREAM_CHUNK_MAX_MS"] / 1000 * streaming.BYTES_PER_SECOND:
        return _error("chunk_too_long", 413)
    data = request.get_data(cache=False)
    try:
        chunk = streaming.accept_chunk(attempt, seq, data, final=final)
        if not final:
            return jsonify(seq=chunk.seq, received_ms=chunk.received_ms, duplicate=chunk.duplicate,
                           partial=chunk.partial if attempt.difficulty == 1 else None)
        turn, transcript = streaming.finish(chunk.turn.id, speech_ended_ms=request.args.get(
            "speech_ended_ms", type=db_bigint))
    except errors.RoleplayError as exc:
        return _refusal(exc)
    if turn is None:
        return _error("stream_ended", 409)
    return _graded_answer(attempt_id, turn, transcript, streamed=True)


def _graded_answer(attempt_id: int, turn: Turn, transcript=None, *, streamed: bool = False):
    """Grade a saved voice reply here (embedded) or queue it (production), and answer as api_turns does.
    ``streamed``: the final chunk just ended it; in production the worker holding its live recogniser
    may grade it instead of a queued job."""
    turn_id = turn.id
    queue = grading_queue()
    if queue is not None:
        if not (streamed and streaming.live_owner_grades(turn_id)):
            queue.enqueue(turn_id, reason="streamed")
        return jsonify(status="queued", turn_id=turn_id,
                       state_url=url_for("roleplays.api_state", attempt_id=attempt_id, turn=turn_id)), 202
    try:
        grader.grade_turn(turn_id, recognized=transcript)
    except errors.GradingFailed:
        return jsonify(status="pending", turn_id=turn_id,
                       message=_("Your reply was saved, but it could not be graded right now. "
                                 "It will be graded later; nothing you said is lost.")), 202
    attempt = _fresh(attempt_id)
    return jsonify(_turn_result(db.session.get(Turn, turn_id), attempt, _state(attempt)))


def _turn_result(turn: Turn, attempt: Attempt, state: dict) -> dict:
    """A graded reply's feedback and the call's state after it."""
    view = presenters.turn_view(turn, content_language())
    payload = {key: view[key] for key in ("id", "transcript", "score_fraction", "percent", "items", "judgements",
                                          "passed", "tips", "habitual", "delivery", "mode", "status",
                                          "no_speech", "closing", "skipped")}
    return {"turn": payload, "outcome": turn.outcome, "anger": attempt.anger, "state": state}


@bp.route("/api/roleplays/attempts/<int:attempt_id>/abandon", methods=["POST"])
@allow(Role.LEARNER, Role.TRAINER)
def api_abandon(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    operations.abandon(attempt)
    return jsonify(_state(_fresh(attempt_id)))
