from datetime import datetime, timezone
from pathlib import Path

from flask import (Blueprint, abort, current_app, flash, has_request_context, jsonify, redirect, render_template, request,
                   send_file, session, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from ..core.access import AUTHENTICATED, Role, allow
from ..core.clock import utcnow
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
    return render_template("courses/dashboard.html", board=board, assigned=_assigned_work(),
                           quiz_pending=services.quiz_pending, quiz_url=_quiz_url)


def register_assigned_work(app, source) -> None:
    """The assignments domain lists a learner's assigned work here (source(user, language) → rows
    for assignments/_assigned_to_me.html), so courses never imports the domain that builds on it."""
    app.extensions["courses_assigned_work"] = source


def _assigned_work() -> list:
    # Every kind of assigned work (courses, exams, drills) with status and due date; nothing is
    # listed when no domain assigns work.
    source = current_app.extensions.get("courses_assigned_work")
    return source(current_user, content_language()) if source else []


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
                           quiz_url=_quiz_url(detail.card.course.quiz_slug),
                           quiz_pending=services.quiz_pending(detail.card))


@bp.route("/courses/<slug>/lessons/<lesson_slug>")
@allow(Role.LEARNER)
def lesson(slug: str, lesson_slug: str):
    lesson, locked = _open_lesson(slug, lesson_slug)
    if locked:
        return locked
    _note_served(lesson)
    page = services.lesson_page(current_user.id, lesson, content_language())
    return render_template("courses/lesson.html", page=page, form=MarkDoneForm(),
                           quiz_url=_quiz_url(lesson.course.quiz_slug))


# When each lesson page was first sent in this session (lesson id → UTC epoch seconds). A GET stores
# nothing in the database: the visit is recorded by the page's first time report (static/js/courses.js)
# or by "mark as done", and this time, signed with the session cookie so the browser cannot move it,
# starts the reading clock for both.
SERVED_KEY = "lessons_served"
SERVED_MAX = 40  # lessons remembered per session: the cookie stays small


def _note_served(lesson) -> None:
    served = session.get(SERVED_KEY) or {}
    key = str(lesson.id)
    if key in served:
        return
    if len(served) >= SERVED_MAX:
        served.pop(min(served, key=served.get))
    served[key] = int(utcnow().replace(tzinfo=timezone.utc).timestamp())
    session[SERVED_KEY] = served


def _served_at(lesson) -> datetime | None:
    """When this session was first sent the lesson page (naive UTC, like the stored times), or None."""
    stamp = (session.get(SERVED_KEY) or {}).get(str(lesson.id))
    if not isinstance(stamp, int):
        return None
    return datetime.fromtimestamp(stamp, timezone.utc).replace(tzinfo=None)


@bp.route("/courses/<slug>/lessons/<lesson_slug>/done", methods=["POST"])
@allow(Role.LEARNER)
def mark_done(slug: str, lesson_slug: str):
    lesson, locked = _open_lesson(slug, lesson_slug)
    if locked:
        return locked
    # The CSRF token was checked by CSRFProtect before this view ran.
    try:
        completed = services.complete_lesson(current_user.id, lesson, _served_at(lesson))
    except services.LessonTooSoon as exc:
        flash(str(exc), "error")
        return redirect(url_for("courses.lesson", slug=slug, lesson_slug=lesson_slug))
    # A completed course is announced by announce_completion (with the courses it unlocked).
    if not request.form.get("continue"):
        if not completed:
            flash(_("Lesson marked as done."), "success")
        return redirect(url_for("courses.lesson", slug=slug, lesson_slug=lesson_slug))
    return redirect(_after(lesson, completed))


def _after(lesson, completed: bool) -> str:
    """Where "complete and continue" leads: the next lesson, else the course quiz while it is not
    passed, else the course page."""
    lessons = lesson.course.active_lessons
    index = lessons.index(lesson)
    if index + 1 < len(lessons):
        return url_for("courses.lesson", slug=lesson.course.slug, lesson_slug=lessons[index + 1].slug)
    quiz = _quiz_url(lesson.course.quiz_slug)
    if quiz and not completed and not services.quiz_passed(current_user.id, lesson.course):
        flash(_("Every lesson is done. Pass the course quiz to complete the course."), "success")
        return quiz
    return url_for("courses.course", slug=lesson.course.slug)


def announce_completion(user_id, *, course_slug, **_details) -> None:
    """A course the person in this request just completed (the last lesson, or its quiz passed):
    say so, with links to the courses that completing it unlocked. Not in a request (a content
    sync, the command line) or for someone else: nothing to say."""
    if not has_request_context() or not current_user.is_authenticated or current_user.id != user_id:
        return
    course = services.find_course(course_slug)
    if course is None:
        return
    language = content_language()
    message = Markup(escape(_("Course completed. Well done!")))
    unlocked = services.unlocked_by(course_slug, user_id, language)
    if unlocked:
        links = Markup("、" if language == "zh-CN" else ", ").join(
            Markup('<a href="{}">{}</a>').format(url_for("courses.course", slug=item.slug), title.text)
            for item, title in unlocked)
        message += Markup(" ") + Markup(escape(_("Now open to you:"))) + Markup(" ") + links
    flash(message, "success")


def continue_panel(user) -> str:
    """The learner's home panel: carry on with the last lesson, a pending quiz, or the next lesson."""
    return render_template("courses/_home_continue.html",
                           steps=services.next_steps(user.id, content_language()), quiz_url=_quiz_url)


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
    credited, total = services.report_time(current_user.id, lesson, seconds, _served_at(lesson))
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
