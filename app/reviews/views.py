"""Trainers' review pages (queue, one attempt, agreement), and flagging an attempt for review."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.access import Role, allow, has_role
from ..core.i18n import content_language
from ..core.inputs import db_int, parse_db_int
from ..extensions import db
from ..roleplays.models import Attempt
from . import services
from . import lessons
from .forms import ActionForm, FlagForm, LessonForm, OverrideForm, ReviewedForm
from .models import ReviewFlag

bp = Blueprint("reviews", __name__, template_folder="templates")


@bp.app_context_processor
def _report_helpers():
    # The learner's call report (app/roleplays) shows trainers' comments through this.
    return {"review_notes": services.notes_for_report, "review_open_flag": services.open_flag_of,
            "review_summary": services.review_summary}


def _attempt_or_404(attempt_id: int) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        abort(404)
    return attempt


def _page_arg() -> int:
    return max(1, request.args.get("page", 1, type=db_int) or 1)


@bp.route("/reviews")
@allow(Role.TRAINER)
def queue():
    page = services.queue(request.args.get("filter", services.NEWEST), _page_arg(), content_language())
    return render_template("reviews/queue.html", queue=page, filters=services.FILTERS,
                           filter_labels=services.FILTER_LABELS, form=ActionForm())


@bp.route("/reviews/attempts/<int:attempt_id>")
@allow(Role.TRAINER)
def attempt(attempt_id: int):
    attempt = _attempt_or_404(attempt_id)
    report = services.review_page(attempt_id, content_language())
    doc = services.roleplay_queries.doc_of(attempt)
    current = services.roleplay_queries.get_scenario(attempt.version.slug)
    teachable = current is not None and current.current_version is not None and attempt.user_id != current_user.id
    current_doc = services.roleplay_queries.ScenarioDoc(current.current_version.spec) if teachable else doc
    lesson_targets = {turn["id"]: lessons.targets(current_doc, turn["node_id"], content_language())
                      for turn in report["turns"] if teachable and turn["node_id"] in current_doc.nodes}
    return render_template("reviews/attempt.html", report=report, form=ActionForm(), reviewed_form=ReviewedForm(),
                           lesson_targets=lesson_targets, own=attempt.user_id == current_user.id)


@bp.route("/reviews/attempts/<int:attempt_id>/override", methods=["POST"])
@allow(Role.TRAINER)
def override(attempt_id: int):
    _attempt_or_404(attempt_id)
    form = OverrideForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for(".attempt", attempt_id=attempt_id))
    turn_id = parse_db_int(form.turn_id.data)
    try:
        services.override_item(attempt_id, turn_id, form.item_id.data, form.points.data, form.comment.data,
                               current_user)
    except services.ReviewError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The item's points were changed and the call was re-scored."), "success")
    return redirect(url_for(".attempt", attempt_id=attempt_id))


def _lesson_form_or_back(attempt_id: int) -> LessonForm | None:
    form = LessonForm()
    if form.validate_on_submit() and parse_db_int(form.turn_id.data) is not None:
        return form
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")
    return None


@bp.route("/reviews/attempts/<int:attempt_id>/lesson/preview", methods=["POST"])
@allow(Role.TRAINER)
def lesson_preview(attempt_id: int):
    """What a lesson would change on the development set; nothing is stored until it is confirmed."""
    _attempt_or_404(attempt_id)
    form = _lesson_form_or_back(attempt_id)
    if form is None:
        return redirect(url_for(".attempt", attempt_id=attempt_id))
    try:
        seen = lessons.preview(attempt_id, int(form.turn_id.data), form.target.data, form.phrase.data,
                               current_user, content_language())
    except services.ReviewError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".attempt", attempt_id=attempt_id))
    return render_template("reviews/lesson_preview.html", preview=seen, form=LessonForm(
        turn_id=str(seen.turn_id), target=seen.target.key, phrase=seen.phrase))


@bp.route("/reviews/attempts/<int:attempt_id>/lesson", methods=["POST"])
@allow(Role.TRAINER)
def lesson(attempt_id: int):
    _attempt_or_404(attempt_id)
    form = _lesson_form_or_back(attempt_id)
    if form is not None:
        try:
            taught = lessons.teach(attempt_id, int(form.turn_id.data), form.target.data, form.phrase.data,
                                   current_user, content_language())
        except services.ReviewError as exc:
            flash(str(exc), "error")
        else:
            flash(_("The grader learned the phrase: version %(n)s of the scenario is now in use.",
                    n=taught.version), "success")
    return redirect(url_for(".attempt", attempt_id=attempt_id))


@bp.route("/reviews/attempts/<int:attempt_id>/reviewed", methods=["POST"])
@allow(Role.TRAINER)
def reviewed(attempt_id: int):
    _attempt_or_404(attempt_id)
    form = ReviewedForm()
    if form.validate_on_submit():
        try:
            services.mark_reviewed(attempt_id, current_user, form.comment.data)
        except services.ReviewError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Marked as reviewed."), "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
    return redirect(url_for(".attempt", attempt_id=attempt_id))


@bp.route("/reviews/attempts/<int:attempt_id>/regrade", methods=["POST"])
@allow(Role.TRAINER)
def regrade(attempt_id: int):
    from ..roleplays.errors import GradingFailed
    _attempt_or_404(attempt_id)
    if ActionForm().validate_on_submit():
        try:
            services.grade_now(attempt_id)
        except GradingFailed:
            flash(_("A reply still could not be graded; it stays pending. Try again later."), "error")
        else:
            flash(_("The waiting replies were graded."), "success")
    back = request.form.get("back")
    if back in services.FILTERS:
        return redirect(url_for(".queue", filter=back))
    return redirect(url_for(".attempt", attempt_id=attempt_id))


@bp.route("/reviews/attempts/<int:attempt_id>/flag", methods=["POST"])
@allow(Role.LEARNER, Role.TRAINER)
def flag(attempt_id: int):
    attempt = _attempt_or_404(attempt_id)
    trainer = has_role(current_user, Role.TRAINER)
    if attempt.user_id != current_user.id and not trainer:
        abort(404)  # someone else's call is simply not found
    form = FlagForm()
    if form.validate_on_submit():
        if services.flag(attempt, current_user, form.reason.data) is None:
            flash(_("You already flagged this call; a trainer will look at it."), "info")
        else:
            flash(_("The call was flagged for a trainer's review."), "success")
    if attempt.user_id == current_user.id:
        return redirect(url_for("roleplays.report", attempt_id=attempt_id))
    return redirect(url_for(".attempt", attempt_id=attempt_id))


@bp.route("/reviews/flags/<int:flag_id>/resolve", methods=["POST"])
@allow(Role.TRAINER)
def resolve_flag(flag_id: int):
    row = db.session.get(ReviewFlag, flag_id)
    if row is None:
        abort(404)
    if ActionForm().validate_on_submit():
        services.resolve_flag(row, current_user)
        flash(_("The flag was resolved."), "success")
    return redirect(url_for(".attempt", attempt_id=row.attempt_id))


@bp.route("/reviews/agreement")
@allow(Role.TRAINER)
def agreement():
    rules, calls = services.agreement(content_language())
    return render_template("reviews/agreement.html", rules=rules, calls=calls)
