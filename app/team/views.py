from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import User
from ..core.access import AUTHENTICATED, PUBLIC, Role, access_of, allow, has_role
from ..extensions import db
from . import services

bp = Blueprint("team", __name__, template_folder="templates")


def _filters() -> dict:
    sort = request.args.get("sort", "name")
    return {
        "q": request.args.get("q", "").strip()[:services.MAX_QUERY],
        "cohort": request.args.get("cohort", "").strip()[:64],
        "sort": sort if sort in services.SORTS else "name",
        "dir": "desc" if request.args.get("dir") == "desc" else "asc",
    }


def _rows(filters: dict):
    return services.gradebook(current_user, cohort=filters["cohort"], query=filters["q"], sort=filters["sort"],
                              descending=filters["dir"] == "desc")


def may_open(endpoint: str) -> bool:
    """Whether this viewer may open the endpoint (cells never link to a page that answers 403)."""
    access = access_of(current_app, endpoint)
    if access is None:
        return False
    if access in (PUBLIC, AUTHENTICATED):
        return True
    return has_role(current_user, *access)


class EvidenceLinks:
    """Where each cell of a row leads: the attempt itself where the viewer may open it, else the
    learner's evidence page at the matching section. Permissions are looked up once per page."""

    def __init__(self):
        self.exams = may_open("exams.result")
        self.calls = may_open("roleplays.report")
        self.record = may_open("certification.person")

    def __call__(self, row) -> dict:
        page = url_for("team.learner", user_id=row.user.id)
        links = {"name": page, "courses": page + "#courses", "activity": page, "voice": page + "#drills"}
        links["quiz"] = (url_for("exams.result", attempt_id=row.quiz.attempt_id)
                         if row.quiz and self.exams else page + "#exams")
        links["exam"] = (url_for("exams.result", attempt_id=row.exam.attempt_id)
                         if row.exam and self.exams else page + "#exams")
        links["drill"] = (url_for("roleplays.report", attempt_id=row.drill.attempt_id)
                          if row.drill and self.calls else page + "#drills")
        links["level"] = (url_for("certification.person", user_id=row.user.id)
                          if self.record else page + "#certification")
        return links


def _words() -> dict:
    """Words every row repeats, translated once per page (1,000 rows would otherwise translate 10,000 times)."""
    return {
        "levels": {level: services.level_label(level) for level in services.LEVELS},
        "toward": {level: _("Toward %(level)s", level=services.level_label(level)) for level in services.LEVELS},
        "of": _("%(met)s of %(total)s"),  # filled with |format(met=, total=)
        "typed": _("(+%(count)s typed)"),
        "not_started": _("not started"),
    }


@bp.route("/team")
@allow(Role.TRAINER, Role.HR)
def gradebook():
    filters = _filters()
    rows = _rows(filters)
    export = {k: v for k, v in filters.items() if v and not (k, v) in (("sort", "name"), ("dir", "asc"))}
    return render_template("team/gradebook.html", rows=rows, filters=filters, cohorts=services.cohorts(current_user),
                           sees_everyone=services.sees_everyone(current_user),
                           own_cohorts=services.own_cohorts(current_user), links=EvidenceLinks(),
                           words=_words(), max_query=services.MAX_QUERY, export=export)


@bp.route("/team.csv")
@allow(Role.TRAINER, Role.HR)
def gradebook_export():
    filters = _filters()
    machine = request.args.get("format") == "machine"
    data = services.gradebook_csv(_rows(filters), machine=machine)
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="team-gradebook.csv"', "Content-Type": "text/csv; charset=utf-8",
        "Cache-Control": "private, no-store"})


@bp.route("/team/learners/<int:user_id>")
@allow(Role.TRAINER, Role.HR)
def learner(user_id: int):
    person = db.session.get(User, user_id)
    if person is None or not services.may_see(current_user, person):
        abort(404)  # someone outside the viewer's cohorts: as if there were no such learner
    row = services.rows_for([person])[0]
    return render_template("team/learner.html", row=row, person=person, may_open=may_open,
                           links=EvidenceLinks()(row))
