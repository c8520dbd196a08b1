from typing import NamedTuple

from flask import Blueprint, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.models import User
from ..core.access import Role, allow, has_role
from ..core.i18n import content_language
from ..extensions import db
from . import paper, services
from .forms import AnswerSheetForm, StartForm
from .models import CLOSED_EXPIRED
from .stats import FLAG_EASY, FLAG_HARD, FLAG_NOT_DISCRIMINATING, MIN_ATTEMPTS

# The same words the question-bank editor uses for each type.
TYPE_LABELS = {"single": _l("Single choice"), "multiple": _l("Multiple choice"), "true_false": _l("True or false"),
               "ordering": _l("Put in order"), "phrase_rewrite": _l("Rewrite the phrase"),
               "listen_type": _l("Listen and type")}

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
            "typing_comparison": paper.typing_comparison, "type_labels": TYPE_LABELS,
            "correct_options": paper.correct_options, "flag_labels": flag_labels}


def _own_attempt(attempt_id: int):
    return services.get_attempt(attempt_id, current_user.id)  # AttemptNotFound (404) for anyone else's


@bp.route("")
@allow(Role.LEARNER, Role.TRAINER)
def index():
    statuses = [services.exam_status(current_user.id, exam) for exam in services.active_exams()]
    return render_template("exams/index.html",
                           certifications=[s for s in statuses if s.exam.kind == "certification"],
                           quizzes=[s for s in statuses if s.exam.kind == "quiz"])


@bp.route("/<slug>", methods=["GET", "POST"])
@allow(Role.LEARNER, Role.TRAINER)
def start(slug: str):
    exam = services.get_exam(slug)
    form = StartForm()
    practice = _practice_choice()
    if form.validate_on_submit():
        try:
            attempt = services.start_attempt(
                current_user.id, slug,
                practice=practice == "always" or (practice == "optional" and bool(form.practice.data)))
        except services.ExamUnavailable as exc:
            flash(str(exc), "error")
            return redirect(url_for(".start", slug=slug))
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    status = services.exam_status(current_user.id, exam)
    question_count = paper.paper_size(len(exam.active_questions), exam.draw)
    breakdown = paper.draw_breakdown([(q.question_id, q.tags, q.type) for q in exam.active_questions], exam.draw)
    return render_template("exams/start.html", exam=exam, status=status, form=form,
                           question_count=question_count, breakdown=breakdown, practice=practice)


def _practice_choice() -> str | None:
    """Trainers practise: "always" (a trainer who is not a learner), "optional" (both), None (learners)."""
    if not has_role(current_user, Role.TRAINER):
        return None
    return "optional" if has_role(current_user, Role.LEARNER) else "always"


@bp.route("/attempts/<int:attempt_id>")
@allow(Role.LEARNER, Role.TRAINER)
def attempt(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if not attempt.is_open or services.time_is_up(attempt):
        return redirect(url_for(".result", attempt_id=attempt.id))
    return render_template("exams/attempt.html", attempt=attempt, exam=attempt.exam, form=AnswerSheetForm(),
                           items=list(services.iter_paper(attempt)), seconds_left=services.seconds_left(attempt),
                           unanswered=services.unanswered(attempt))


@bp.route("/attempts/<int:attempt_id>/save", methods=["GET", "POST"])
@allow(Role.LEARNER, Role.TRAINER)
def save(attempt_id: int):
    """Saving without JavaScript: the whole answer sheet, and the ordering move buttons."""
    attempt = _own_attempt(attempt_id)
    if request.method == "GET":  # e.g. the login page's ?next= after a lost session
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    responses = services.responses_from_form(attempt, request.form)
    moved = services.apply_move(attempt, responses, request.form["move"]) if "move" in request.form else None
    try:
        services.save_answers(attempt, responses, services.flags_from_form(attempt, request.form))
    except services.AttemptClosed as exc:
        flash(str(exc), "error")
        return redirect(url_for(".result", attempt_id=attempt.id))
    except services.TypingRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    if moved:
        return redirect(url_for(".attempt", attempt_id=attempt.id, _anchor=f"q-{moved}"))
    flash(_("Your answers are saved."), "success")
    return redirect(url_for(".attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/answers/<question_id>", methods=["PUT"])
@allow(Role.LEARNER, Role.TRAINER)
def autosave(attempt_id: int, question_id: str):
    attempt = _own_attempt(attempt_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not ("response" in payload or "flagged" in payload) \
            or not isinstance(payload.get("flagged", False), bool):
        return jsonify(error="bad_request", message=_("Expected JSON with a response.")), 400
    # Refusals reach the core handler as JSON: AttemptNotFound 404, InvalidAnswer 400 "invalid",
    # TypingRefused 422 "too_fast", AttemptClosed 409 "time_up"/"closed" with result_url (exams.js).
    answer = services.save_answer(attempt, question_id, payload.get("response"), flagged=payload.get("flagged"),
                                  has_response="response" in payload)
    return jsonify(saved=True, question_id=question_id, saved_at=answer.answered_at.isoformat() + "Z"
                   if answer.answered_at else None, seconds_left=services.seconds_left(attempt),
                   unanswered=services.unanswered(attempt), answered=paper.is_answered(
                       services.paper_entry(attempt, question_id), answer.response), flagged=answer.flagged)


@bp.route("/attempts/<int:attempt_id>/audio/<question_id>")
@allow(Role.LEARNER, Role.TRAINER)
def listen_audio(attempt_id: int, question_id: str):
    """A listen-and-type recording, sent per attempt: the first time it is sent starts that
    question's typing clock on the server (the browser is not asked when play was pressed)."""
    attempt = _own_attempt(attempt_id)
    path = services.listen_audio(attempt, question_id)
    # conditional=True keeps HTTP Range (browsers seek audio with it); no-store so each new
    # page asks the server again rather than a cache shared with another attempt.
    response = send_file(path, mimetype="audio/wav", conditional=True)
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


@bp.route("/attempts/<int:attempt_id>/submit", methods=["GET", "POST"])
@allow(Role.LEARNER, Role.TRAINER)
def submit(attempt_id: int):
    """Submitting the answer sheet saves it; while questions are unanswered or flagged it then shows
    the summary first, whose Submit button (a bare, confirmed form) grades. The clock running out
    submits the sheet with confirmed=1, at once."""
    attempt = _own_attempt(attempt_id)
    if request.method == "GET":  # the login page's ?next= after a lost session: back to the paper
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    # Only the answer sheet carries answers; a bare submit button must not blank them.
    sheet = bool(request.form.get("paper"))
    responses = services.responses_from_form(attempt, request.form) if sheet else None
    flags = services.flags_from_form(attempt, request.form) if sheet else None
    try:
        if sheet and request.form.get("confirmed") != "1" and attempt.is_open:
            try:
                services.save_answers(attempt, responses or {}, flags)
            except services.AttemptClosed:
                return redirect(url_for(".result", attempt_id=attempt.id))
            if services.needs_review(attempt):
                return redirect(url_for(".summary", attempt_id=attempt.id))
            responses = flags = None  # saved just now
        services.submit_attempt(attempt, responses, flags)
    except services.TypingRefused as exc:
        flash(str(exc), "error")  # not submitted: the learner can listen and type again
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    return redirect(url_for(".result", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/summary")
@allow(Role.LEARNER, Role.TRAINER)
def summary(attempt_id: int):
    """Before submitting: every question answered or not and flagged or not, with links back."""
    attempt = _own_attempt(attempt_id)
    if not attempt.is_open or services.seconds_left(attempt) <= 0:
        # Closed, or its time is up (the result page offers to grade it): nothing left to review.
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    rows = services.attempt_summary(attempt)
    return render_template("exams/summary.html", attempt=attempt, exam=attempt.exam, rows=rows,
                           unanswered=sum(1 for row in rows if not row.answered),
                           flagged=sum(1 for row in rows if row.flagged),
                           seconds_left=services.seconds_left(attempt), form=AnswerSheetForm())


@bp.route("/attempts/<int:attempt_id>/result")
@allow(Role.LEARNER, Role.TRAINER)
def result(attempt_id: int):
    if has_role(current_user, Role.TRAINER):
        attempt = services.get_attempt(attempt_id)
    else:
        attempt = _own_attempt(attempt_id)
    # A GET grades nothing: an attempt whose time ran out is graded by the POST this page offers
    # (the learner's "see my result", the attempt page's own submit at 0:00) or `flask exams close-expired`.
    time_is_up = services.time_is_up(attempt)
    if attempt.is_open and not time_is_up and attempt.user_id == current_user.id:
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    learner = db.session.get(User, attempt.user_id)
    status = services.exam_status(attempt.user_id, attempt.exam) if attempt.user_id == current_user.id else None
    return render_template("exams/result.html", attempt=attempt, exam=attempt.exam, learner=learner,
                           items=list(services.iter_paper(attempt)), status=status,
                           expired=attempt.closed_reason == CLOSED_EXPIRED, time_is_up=time_is_up,
                           form=AnswerSheetForm())


@bp.route("/statistics")
@allow(Role.TRAINER)
def stats():
    return render_template("exams/stats.html", overview=services.exams_overview())


@bp.route("/statistics/<slug>")
@allow(Role.TRAINER)
def exam_stats(slug: str):
    exam = services.get_exam(slug)
    return render_template("exams/stats_exam.html", exam=exam, rows=services.question_statistics(exam),
                           min_attempts=MIN_ATTEMPTS)
