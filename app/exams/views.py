from typing import NamedTuple

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import User
from ..accounts.permissions import Role, allow, has_role
from ..core.i18n import content_language
from ..extensions import db
from . import paper, services
from .forms import AnswerSheetForm, StartForm
from .models import CLOSED_EXPIRED
from .stats import FLAG_EASY, FLAG_HARD, FLAG_NOT_DISCRIMINATING, MIN_ATTEMPTS

bp = Blueprint("exams", __name__, template_folder="templates", url_prefix="/exams")


class Localized(NamedTuple):
    text: str
    fallback: bool  # shown in Chinese because the English version is missing


def localize(value) -> Localized:
    """Content text in the page's content language; zh-CN when the English is missing."""
    if not value:
        return Localized("", False)
    if isinstance(value, str):
        value = {"zh-CN": value}
    language = content_language()
    if value.get(language):
        return Localized(value[language], False)
    return Localized(value.get("zh-CN", ""), language != "zh-CN")


@bp.context_processor
def _template_helpers():
    flag_labels = {FLAG_EASY: _("Too easy"), FLAG_HARD: _("Too hard"),
                   FLAG_NOT_DISCRIMINATING: _("Does not discriminate")}
    return {"ltext": localize, "shown_choices": paper.shown_choices, "is_answered": paper.is_answered,
            "correct_options": paper.correct_options, "flag_labels": flag_labels}


def _own_attempt(attempt_id: int):
    try:
        return services.get_attempt(attempt_id, current_user.id)
    except services.AttemptNotFound:
        abort(404)


@bp.route("")
@allow(Role.LEARNER)
def index():
    statuses = [services.exam_status(current_user.id, exam) for exam in services.active_exams()]
    return render_template("exams/index.html",
                           certifications=[s for s in statuses if s.exam.kind == "certification"],
                           quizzes=[s for s in statuses if s.exam.kind == "quiz"])


@bp.route("/<slug>", methods=["GET", "POST"])
@allow(Role.LEARNER)
def start(slug: str):
    try:
        exam = services.get_exam(slug)
    except services.ExamNotFound:
        abort(404)
    form = StartForm()
    if form.validate_on_submit():
        try:
            attempt = services.start_attempt(current_user.id, slug)
        except services.ExamUnavailable as exc:
            flash(str(exc), "error")
            return redirect(url_for(".start", slug=slug))
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    status = services.exam_status(current_user.id, exam)
    question_count = paper.paper_size(len(exam.active_questions), exam.draw)
    return render_template("exams/start.html", exam=exam, status=status, form=form,
                           question_count=question_count)


@bp.route("/attempts/<int:attempt_id>")
@allow(Role.LEARNER)
def attempt(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    services.close_if_expired(attempt)
    if not attempt.is_open:
        return redirect(url_for(".result", attempt_id=attempt.id))
    services.mark_shown(attempt)
    return render_template("exams/attempt.html", attempt=attempt, exam=attempt.exam, form=AnswerSheetForm(),
                           items=list(services.iter_paper(attempt)), seconds_left=services.seconds_left(attempt),
                           unanswered=services.unanswered(attempt))


@bp.route("/attempts/<int:attempt_id>/save", methods=["GET", "POST"])
@allow(Role.LEARNER)
def save(attempt_id: int):
    """Saving without JavaScript: the whole answer sheet, and the ordering move buttons."""
    attempt = _own_attempt(attempt_id)
    if request.method == "GET":  # e.g. the login page's ?next= after a lost session
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    responses = services.responses_from_form(attempt, request.form)
    moved = services.apply_move(attempt, responses, request.form["move"]) if "move" in request.form else None
    try:
        services.save_answers(attempt, responses)
    except services.AttemptClosed as exc:
        flash(str(exc), "error")
        return redirect(url_for(".result", attempt_id=attempt.id))
    except paper.InvalidResponse:
        abort(400)
    except services.TypingRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    if moved:
        return redirect(url_for(".attempt", attempt_id=attempt.id, _anchor=f"q-{moved}"))
    flash(_("Your answers are saved."), "success")
    return redirect(url_for(".attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/answers/<question_id>", methods=["PUT"])
@allow(Role.LEARNER)
def autosave(attempt_id: int, question_id: str):
    attempt = _own_attempt(attempt_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or "response" not in payload:
        return jsonify(error="bad_request", message=_("Expected JSON with a response.")), 400
    try:
        answer = services.save_answer(attempt, question_id, payload["response"])
    except services.AttemptNotFound:
        abort(404)
    except paper.InvalidResponse:
        return jsonify(error="invalid", message=_("This answer does not fit the question.")), 400
    except services.TypingRefused as exc:
        return jsonify(error="too_fast", message=str(exc)), 422
    except services.AttemptClosed as exc:
        return jsonify(error="time_up" if exc.expired else "closed", message=str(exc),
                       result_url=url_for(".result", attempt_id=attempt.id)), 409
    return jsonify(saved=True, question_id=question_id, saved_at=answer.answered_at.isoformat() + "Z"
                   if answer.answered_at else None, seconds_left=services.seconds_left(attempt),
                   unanswered=services.unanswered(attempt))


@bp.route("/attempts/<int:attempt_id>/audio/<question_id>")
@allow(Role.LEARNER)
def listen_audio(attempt_id: int, question_id: str):
    """A listen-and-type recording, sent per attempt: the first time it is sent starts that
    question's typing clock on the server (the browser is not asked when play was pressed)."""
    attempt = _own_attempt(attempt_id)
    try:
        path = services.listen_audio(attempt, question_id)
    except services.AttemptNotFound:
        abort(404)
    # conditional=True keeps HTTP Range (browsers seek audio with it); no-store so each new
    # page asks the server again rather than a cache shared with another attempt.
    response = send_file(path, mimetype="audio/wav", conditional=True)
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


@bp.route("/attempts/<int:attempt_id>/submit", methods=["GET", "POST"])
@allow(Role.LEARNER)
def submit(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if request.method == "GET":  # the login page's ?next= after a lost session: back to the paper
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    # Only the answer sheet carries answers; a bare submit button must not blank them.
    responses = services.responses_from_form(attempt, request.form) if request.form.get("paper") else None
    try:
        services.submit_attempt(attempt, responses)
    except paper.InvalidResponse:
        abort(400)
    except services.TypingRefused as exc:
        flash(str(exc), "error")  # not submitted: the learner can listen and type again
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    return redirect(url_for(".result", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/result")
@allow(Role.LEARNER, Role.TRAINER)
def result(attempt_id: int):
    if has_role(current_user, Role.TRAINER):
        try:
            attempt = services.get_attempt(attempt_id)
        except services.AttemptNotFound:
            abort(404)
    else:
        attempt = _own_attempt(attempt_id)
    services.close_if_expired(attempt)
    if attempt.is_open and attempt.user_id == current_user.id:
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    learner = db.session.get(User, attempt.user_id)
    status = services.exam_status(attempt.user_id, attempt.exam) if attempt.user_id == current_user.id else None
    return render_template("exams/result.html", attempt=attempt, exam=attempt.exam, learner=learner,
                           items=list(services.iter_paper(attempt)), status=status,
                           expired=attempt.closed_reason == CLOSED_EXPIRED)


@bp.route("/statistics")
@allow(Role.TRAINER)
def stats():
    return render_template("exams/stats.html", overview=services.exams_overview())


@bp.route("/statistics/<slug>")
@allow(Role.TRAINER)
def exam_stats(slug: str):
    try:
        exam = services.get_exam(slug)
    except services.ExamNotFound:
        abort(404)
    return render_template("exams/stats_exam.html", exam=exam, rows=services.question_statistics(exam),
                           min_attempts=MIN_ATTEMPTS)
