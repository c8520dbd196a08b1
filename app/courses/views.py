from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import AUTHENTICATED, Role, allow
from ..core.i18n import content_language
from . import services
from .forms import MarkDoneForm

bp = Blueprint("courses", __name__, template_folder="templates")

ASSET_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "webp", "mp3", "wav", "ogg"}


def _course_or_404(slug: str):
    course = services.find_course(slug)
    if course is None:
        abort(404)
    return course


def _open_lesson(slug: str, lesson_slug: str):
    """The lesson, or a redirect to its course page when the course is still locked."""
    course = _course_or_404(slug)
    lesson = services.find_lesson(course, lesson_slug)
    if lesson is None:
        abort(404)
    if services.is_locked(current_user.id, course):
        flash(_("This course is locked: complete the courses listed on this page first."), "info")
        return None, redirect(url_for("courses.course", slug=slug))
    return lesson, None


def _quiz_url(quiz_slug: str) -> str | None:
    # The exams domain may not be installed; then the quiz is named without a link.
    if "exams.start" in current_app.view_functions:
        return url_for("exams.start", slug=quiz_slug)
    return None


@bp.route("/learning")
@allow(Role.LEARNER)
def dashboard():
    board = services.dashboard(current_user.id, content_language())
    return render_template("courses/dashboard.html", board=board, assigned=_assigned_work())


def _assigned_work() -> list:
    # Every kind of assigned work (courses, exams, drills) with status and due date; the
    # assignments domain may not be installed, then nothing is listed.
    if "assignments" not in current_app.blueprints:
        return []
    from ..assignments.services import my_assignments
    return my_assignments(current_user, content_language())


@bp.route("/courses")
@allow(Role.LEARNER)
def catalog():
    cards = services.catalog(current_user.id, content_language())
    return render_template("courses/catalog.html", cards=cards)


@bp.route("/courses/<slug>")
@allow(Role.LEARNER)
def course(slug: str):
    detail = services.course_detail(current_user.id, _course_or_404(slug), content_language())
    return render_template("courses/course.html", detail=detail, card=detail.card,
                           quiz_url=_quiz_url(detail.card.course.quiz_slug))


@bp.route("/courses/<slug>/lessons/<lesson_slug>")
@allow(Role.LEARNER)
def lesson(slug: str, lesson_slug: str):
    lesson, locked = _open_lesson(slug, lesson_slug)
    if locked:
        return locked
    services.record_visit(current_user.id, lesson)
    page = services.lesson_page(current_user.id, lesson, content_language())
    return render_template("courses/lesson.html", page=page, form=MarkDoneForm())


@bp.route("/courses/<slug>/lessons/<lesson_slug>/done", methods=["POST"])
@allow(Role.LEARNER)
def mark_done(slug: str, lesson_slug: str):
    lesson, locked = _open_lesson(slug, lesson_slug)
    if locked:
        return locked
    # The CSRF token was checked by CSRFProtect before this view ran.
    try:
        completed = services.complete_lesson(current_user.id, lesson)
    except services.LessonTooSoon as exc:
        flash(str(exc), "error")
        return redirect(url_for("courses.lesson", slug=slug, lesson_slug=lesson_slug))
    if completed:
        flash(_("Course completed. Well done!"), "success")
    else:
        flash(_("Lesson marked as done."), "success")
    return redirect(url_for("courses.lesson", slug=slug, lesson_slug=lesson_slug))


@bp.route("/courses/<slug>/lessons/<lesson_slug>/time", methods=["POST"])
@allow(Role.LEARNER)
def report_time(slug: str, lesson_slug: str):
    course = _course_or_404(slug)
    lesson = services.find_lesson(course, lesson_slug)
    if lesson is None:
        abort(404)
    if services.is_locked(current_user.id, course):
        return jsonify(error=_("This course is locked.")), 409
    payload = request.get_json(silent=True) or {}
    seconds = payload.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        return jsonify(error=_("Expected a number of seconds.")), 400
    credited, total = services.report_time(current_user.id, lesson, seconds)
    return jsonify(credited=credited, seconds_spent=total)


@bp.route("/courses/<slug>/assets/<path:filename>")
@allow(AUTHENTICATED)
def asset(slug: str, filename: str):
    course = _course_or_404(slug)
    # Only files the content validator accepted at sync time are served; the path checks
    # below guard against a content tree that changed on disk since.
    if filename not in course.assets or filename.rsplit(".", 1)[-1].lower() not in ASSET_EXTENSIONS:
        abort(404)
    folder = (Path(current_app.config["CONTENT_ROOT"]) / "courses" / slug / "assets").resolve()
    path = (folder / filename).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        abort(404)
    return send_file(path, conditional=True, max_age=3600)
