"""Trainers' assignment pages, and the learner's assignment-aware drill start."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..core.access import Role, allow
from ..core.i18n import content_language
from . import services
from .forms import ActionForm, AssignmentForm
from .models import DRILL

bp = Blueprint("assignments", __name__, template_folder="templates")


def _assignment_or_404(assignment_id: int):
    assignment = services.get_assignment(assignment_id)
    if assignment is None:
        abort(404)
    return assignment


@bp.route("/assignments")
@allow(Role.TRAINER)
def index():
    summaries = services.overview(content_language())
    return render_template("assignments/index.html", summaries=summaries, today=services.today())


@bp.route("/assignments/new", methods=["GET", "POST"])
@allow(Role.TRAINER)
def new():
    form = AssignmentForm()
    form.work.choices = [SelectChoice(value, label, optgroup=group)
                         for group, options in services.work_choices(content_language()).items()
                         for value, label in options]
    form.cohort.choices = [SelectChoice("", _("— no cohort —"))] + [SelectChoice(c, c) for c in services.cohorts()]
    form.learners.choices = [SelectChoice(u.id, f"{u.name} ({u.username})" + (f" · {u.cohort}" if u.cohort else ""))
                             for u in services.learners()]
    if request.method == "GET" and request.args.get("work"):
        form.work.data = request.args["work"]
    no_voice = None
    if form.validate_on_submit():
        kind, _sep, slug = form.work.data.partition(":")
        no_voice = services.voice_ungradable_language(kind, slug) if form.require_voice.data else None
    if no_voice and not form.confirm_no_voice.data:
        # A confirmation step: nothing is stored until the trainer confirms (or unticks "voice required").
        return render_template("assignments/new.html", form=form, no_voice=no_voice), 200
    if form.validate_on_submit():
        kind, _sep, slug = form.work.data.partition(":")
        try:
            assignment = services.create_assignment(
                kind=kind, slug=slug, due_date=form.due_date.data, cohort=form.cohort.data or None,
                user_ids=form.learners.data or [], require_voice=form.require_voice.data,
                note=form.note.data, created_by=current_user)
        except services.AssignmentError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Assigned."), "success")
            return redirect(url_for(".detail", assignment_id=assignment.id))
    return render_template("assignments/new.html", form=form, no_voice=None)


@bp.route("/assignments/<int:assignment_id>")
@allow(Role.TRAINER)
def detail(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    cohort = request.args.get("cohort")
    rows = services.people_status(assignment, cohort)
    return render_template("assignments/detail.html", assignment=assignment, rows=rows, cohort=cohort,
                           title=services.work_title(assignment.kind, assignment.slug, content_language()),
                           kind_label=services.KIND_LABELS[assignment.kind],
                           counts=services.counts_by_state(rows), form=ActionForm())


@bp.route("/assignments/<int:assignment_id>/withdraw", methods=["POST"])
@allow(Role.TRAINER)
def withdraw(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    if ActionForm().validate_on_submit():
        services.withdraw(assignment, current_user)
        flash(_("The assignment was withdrawn: learners no longer see it."), "success")
    return redirect(url_for(".index"))


@bp.route("/assignments/<int:assignment_id>/start", methods=["POST"])
@allow(Role.LEARNER)
def start_drill(assignment_id: int):
    """Start an assigned drill as the assignment says (voice only when it requires voice)."""
    from ..roleplays.errors import RoleplayError
    assignment = _assignment_or_404(assignment_id)
    if not services.reaches(assignment, current_user) or assignment.kind != DRILL:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        attempt = services.start_drill(assignment, current_user)
    except RoleplayError as exc:
        if exc.code == "voice_required":
            flash(_("This drill must be answered by voice, and voice grading is not available for its language "
                    "on this server. Ask your trainer."), "error")
        else:
            flash(_("This drill cannot be started right now."), "error")
        return redirect(url_for("courses.dashboard"))
    if attempt.mode != "voice":
        flash(_("Voice grading is not available for this call's language on this server, so you will reply by "
                "typing. Typed replies are marked as typed in your record."), "info")
    return redirect(url_for("roleplays.call", attempt_id=attempt.id))


# --- home panels (registered in __init__; read-only) ----------------------------------------------

HOME_ASSIGNED_SHOWN = 5


def assigned_panel(user) -> str:
    """The learner's open assigned work, overdue first, then by due date."""
    open_items = [item for item in services.my_assignments(user, content_language()) if not item.status.done]
    return render_template("assignments/_home_assigned.html", assigned=open_items[:HOME_ASSIGNED_SHOWN],
                           more=max(0, len(open_items) - HOME_ASSIGNED_SHOWN))


def overdue_panel(user) -> str:
    """The trainer's overdue assignments, per cohort."""
    return render_template("assignments/_home_overdue.html", cohorts=services.overdue_by_cohort(content_language()),
                           NO_COHORT=services.NO_COHORT)
