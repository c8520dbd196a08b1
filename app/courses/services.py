"""Course operations: loading authored courses, learners' progress, locking and completion.

Other domains call ``completed_courses``, ``course_progress`` and ``assigned_courses``;
course completion is announced with ``app.core.events.course_completed``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from content_schema import ContentBundle
from content_schema import Course as CourseContent

from ..core.clock import utcnow
from ..accounts.services import find_user
from ..content.services import SyncReport
from ..core import events
from ..core.errors import UserError
from ..core.rows import insert_if_missing
from ..extensions import db
from .models import Course, CourseProgress, Lesson, LessonProgress

LEVEL_LABELS = {"agent": _l("Agent"), "senior": _l("Senior agent"), "expert": _l("Expert agent")}
# A time report is credited at most this much, and never more than the time since the previous one.
MAX_SECONDS_PER_REPORT = 60


# --- localized content ---------------------------------------------------


@dataclass(frozen=True)
class Localized:
    text: str
    language: str  # the language the text is actually in
    fallback: bool  # the wanted language is missing, so this is the zh-CN original


def localize(texts: Mapping[str, str], language: str) -> Localized:
    if language in texts:
        return Localized(texts[language], language, False)
    return Localized(texts["zh-CN"], "zh-CN", True)


# --- sync ----------------------------------------------------------------


@dataclass
class _Changes:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"{what} {', '.join(slugs)}" for what, slugs in
                 (("added", self.added), ("updated", self.updated), ("retired", self.retired),
                  ("restored", self.restored)) if slugs]
        return "; ".join(parts)


def _apply(row, values: Mapping) -> bool:
    """Set the attributes that differ; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _stripped(texts: Mapping[str, str]) -> dict[str, str]:
    return {language: text.strip() for language, text in texts.items()}


def _unwrapped(texts: Mapping[str, str]) -> dict[str, str]:
    """Join the lines of YAML block text; Chinese has no spaces between words, so none is added."""
    return {language: ("" if language == "zh-CN" else " ").join(line.strip() for line in text.strip().splitlines())
            for language, text in texts.items()}


def sync_courses(bundle: ContentBundle, report: SyncReport) -> None:
    """Load bundle.courses: upsert by slug, retire what disappeared, restore what came back.

    Registered with app.content.services; runs inside the sync's single transaction.
    """
    now = utcnow()
    existing = {course.slug: course for course in db.session.scalars(select(Course))}
    courses = _Changes()
    unchanged = 0
    for content in bundle.courses.values():
        spec = content.spec
        values = {
            "order": spec.order,
            "level": spec.level,
            "title": _stripped(spec.title),
            "summary": _unwrapped(spec.summary),
            "estimated_minutes": spec.estimated_minutes,
            "prerequisites": list(spec.prerequisites),
            "quiz_slug": spec.quiz,
            "quiz_title": _stripped(bundle.exams[spec.quiz].spec.title),  # the validator checked it exists
            "assets": list(content.assets),
            "source_file": content.source_file,
            "checksum": content.checksum,
        }
        course = existing.get(content.slug)
        if course is None:
            course = Course(slug=content.slug, retired=False, created_at=now, updated_at=now, **values)
            db.session.add(course)
            courses.added.append(content.slug)
        elif course.retired:
            _apply(course, values)
            course.retired, course.retired_at, course.updated_at = False, None, now
            courses.restored.append(content.slug)
        elif _apply(course, values):
            course.updated_at = now
            courses.updated.append(content.slug)
        else:
            unchanged += 1
        # Any lesson change also changes the course checksum, so such a course counts as updated.
        lessons = _sync_lessons(course, content, now)
        if content.slug in courses.added:
            report.note(f"course {content.slug}: added with {len(content.lessons)} lessons")
        elif lessons.describe():
            report.note(f"course {content.slug} lessons: {lessons.describe()}")
    for slug, course in existing.items():
        if slug not in bundle.courses and not course.retired:
            course.retired, course.retired_at = True, now
            courses.retired.append(slug)
    db.session.flush()
    # Retiring a lesson can leave a learner with every remaining lesson done and the quiz passed.
    for slug in courses.updated + courses.restored:
        pending = db.session.scalars(select(CourseProgress).where(
            CourseProgress.course_id == existing[slug].id, CourseProgress.completed_at.is_(None),
            CourseProgress.quiz_passed_at.is_not(None))).all()
        for progress in pending:
            _complete_if_earned(progress)
    report.note(f"courses: {courses.describe() or 'no changes'} ({unchanged} unchanged)")


def _sync_lessons(course: Course, content: CourseContent, now: datetime) -> _Changes:
    changes = _Changes()
    existing = {lesson.slug: lesson for lesson in course.lessons}
    for lesson_content in content.lessons:
        values = {
            "order": lesson_content.order,
            "estimated_minutes": lesson_content.estimated_minutes,
            "title": dict(lesson_content.title),
            "html": {language: text.html for language, text in lesson_content.texts.items()},
            "checksums": {language: text.checksum for language, text in lesson_content.texts.items()},
        }
        lesson = existing.get(lesson_content.slug)
        if lesson is None:
            course.lessons.append(Lesson(slug=lesson_content.slug, retired=False, created_at=now, updated_at=now,
                                         **values))
            changes.added.append(lesson_content.slug)
        elif lesson.retired:
            _apply(lesson, values)
            lesson.retired, lesson.retired_at, lesson.updated_at = False, None, now
            changes.restored.append(lesson_content.slug)
        elif _apply(lesson, values):
            lesson.updated_at = now
            changes.updated.append(lesson_content.slug)
    wanted = {lesson.slug for lesson in content.lessons}
    for slug, lesson in existing.items():
        if slug not in wanted and not lesson.retired:
            lesson.retired, lesson.retired_at = True, now
            changes.retired.append(slug)
    return changes


# --- queries other domains use ------------------------------------------


def completed_courses(user_id: int) -> dict[str, datetime]:
    """Course slug → completion time, retired courses included (completions are history)."""
    rows = db.session.execute(
        select(Course.slug, CourseProgress.completed_at).join(CourseProgress.course)
        .where(CourseProgress.user_id == user_id, CourseProgress.completed_at.is_not(None)))
    return {slug: completed_at for slug, completed_at in rows}


def course_progress(user_id: int, slug: str) -> tuple[int, int]:
    """(lessons done, lessons in the course), counting current lessons only; (0, 0) for an unknown course."""
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        return 0, 0
    lesson_ids = {lesson.id for lesson in course.active_lessons}
    return len(lesson_ids & _done_lesson_ids(user_id)), len(lesson_ids)


def assigned_courses(user_id: int) -> list[Course]:
    """Courses a trainer assigned to this learner, with due dates.

    Superseded: the dashboard lists every kind of assigned work (courses, exams, drills) from
    app.assignments.services.my_assignments (see views._assigned_work); this stays empty.
    """
    return []


# --- learner views -------------------------------------------------------


def _done_lesson_ids(user_id: int) -> set[int]:
    return set(db.session.scalars(select(LessonProgress.lesson_id).where(
        LessonProgress.user_id == user_id, LessonProgress.completed_at.is_not(None))))


def active_courses() -> list[Course]:
    return list(db.session.scalars(select(Course).where(Course.retired.is_(False))
                                   .order_by(Course.order, Course.slug)))


def find_course(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug, Course.retired.is_(False)))


def find_lesson(course: Course, lesson_slug: str) -> Lesson | None:
    return next((lesson for lesson in course.active_lessons if lesson.slug == lesson_slug), None)


def missing_prerequisites(course: Course, completed: Iterable[str]) -> list[Course]:
    """Current prerequisite courses not completed yet; a retired prerequisite no longer blocks."""
    completed = set(completed)
    wanted = [slug for slug in course.prerequisites if slug not in completed]
    if not wanted:
        return []
    found = {c.slug: c for c in db.session.scalars(
        select(Course).where(Course.slug.in_(wanted), Course.retired.is_(False)))}
    return [found[slug] for slug in wanted if slug in found]


def is_locked(user_id: int, course: Course) -> bool:
    return bool(missing_prerequisites(course, completed_courses(user_id)))


@dataclass
class CourseCard:
    course: Course
    title: Localized
    summary: Localized
    level_label: str
    done: int
    total: int
    locked_by: list[Localized]  # titles of the prerequisite courses still to complete
    started: bool
    quiz_passed: bool
    completed_at: datetime | None

    @property
    def locked(self) -> bool:
        return bool(self.locked_by)


def _cards(user_id: int, courses: list[Course], language: str) -> list[CourseCard]:
    done_ids = _done_lesson_ids(user_id)
    visited_ids = set(db.session.scalars(select(LessonProgress.lesson_id).where(LessonProgress.user_id == user_id)))
    standing = {p.course_id: p for p in db.session.scalars(
        select(CourseProgress).where(CourseProgress.user_id == user_id))}
    completed = completed_courses(user_id)
    cards = []
    for course in courses:
        lesson_ids = {lesson.id for lesson in course.active_lessons}
        progress = standing.get(course.id)
        cards.append(CourseCard(
            course=course,
            title=localize(course.title, language),
            summary=localize(course.summary, language),
            level_label=str(LEVEL_LABELS.get(course.level, course.level)),
            done=len(lesson_ids & done_ids),
            total=len(lesson_ids),
            locked_by=[localize(c.title, language) for c in missing_prerequisites(course, completed)],
            started=bool(lesson_ids & visited_ids) or progress is not None,
            quiz_passed=progress is not None and progress.quiz_passed_at is not None,
            completed_at=progress.completed_at if progress else None,
        ))
    return cards


def catalog(user_id: int, language: str) -> list[CourseCard]:
    return _cards(user_id, active_courses(), language)


@dataclass
class Resume:
    course: Course
    lesson: Lesson
    course_title: Localized
    lesson_title: Localized


@dataclass
class CompletedCourse:
    slug: str
    title: Localized
    completed_at: datetime
    retired: bool


@dataclass
class Dashboard:
    in_progress: list[CourseCard]
    completed: list[CompletedCourse]
    assigned: list[Course]
    resume: Resume | None


def dashboard(user_id: int, language: str) -> Dashboard:
    cards = catalog(user_id, language)
    completed = [
        CompletedCourse(p.course.slug, localize(p.course.title, language), p.completed_at, p.course.retired)
        for p in db.session.scalars(
            select(CourseProgress).where(CourseProgress.user_id == user_id, CourseProgress.completed_at.is_not(None))
            .order_by(CourseProgress.completed_at.desc()))
    ]
    return Dashboard(
        in_progress=[card for card in cards if card.started and card.completed_at is None],
        completed=completed,
        assigned=assigned_courses(user_id),
        resume=_resume(user_id, language),
    )


def _resume(user_id: int, language: str) -> Resume | None:
    """The last lesson visited and not done, in a current course the learner can open."""
    candidates = db.session.scalars(
        select(LessonProgress).join(LessonProgress.lesson).join(Lesson.course)
        .where(LessonProgress.user_id == user_id, LessonProgress.completed_at.is_(None),
               Lesson.retired.is_(False), Course.retired.is_(False))
        .order_by(LessonProgress.last_visited_at.desc(), LessonProgress.id.desc()))
    completed = completed_courses(user_id)
    for progress in candidates:
        course = progress.lesson.course
        if not missing_prerequisites(course, completed):
            return Resume(course, progress.lesson, localize(course.title, language),
                          localize(progress.lesson.title, language))
    return None


@dataclass
class LessonRow:
    lesson: Lesson
    title: Localized
    done: bool


@dataclass
class CourseDetail:
    card: CourseCard
    lessons: list[LessonRow]
    quiz_title: Localized


def course_detail(user_id: int, course: Course, language: str) -> CourseDetail:
    card = _cards(user_id, [course], language)[0]
    done_ids = _done_lesson_ids(user_id)
    return CourseDetail(
        card=card,
        lessons=[LessonRow(lesson, localize(lesson.title, language), lesson.id in done_ids)
                 for lesson in course.active_lessons],
        quiz_title=localize(course.quiz_title, language),
    )


@dataclass
class LessonPage:
    course: Course
    lesson: Lesson
    course_title: Localized
    title: Localized
    html: str
    html_language: str
    has_heading: bool  # the body opens with its own <h1>, so the page adds none
    previous: LessonRow | None
    next: LessonRow | None
    done: bool
    course_done: int
    course_total: int
    quiz_title: Localized | None = None
    quiz_passed: bool = False


def lesson_page(user_id: int, lesson: Lesson, language: str) -> LessonPage:
    course = lesson.course
    lessons = course.active_lessons
    done_ids = _done_lesson_ids(user_id)
    index = lessons.index(lesson)

    def row(other: Lesson) -> LessonRow:
        return LessonRow(other, localize(other.title, language), other.id in done_ids)

    body = localize(lesson.html, language)
    return LessonPage(
        course=course,
        lesson=lesson,
        course_title=localize(course.title, language),
        title=localize(lesson.title, language),
        html=body.text,
        html_language=body.language,
        has_heading=body.text.lstrip().startswith("<h1"),
        previous=row(lessons[index - 1]) if index > 0 else None,
        next=row(lessons[index + 1]) if index + 1 < len(lessons) else None,
        done=lesson.id in done_ids,
        course_done=len({item.id for item in lessons} & done_ids),
        course_total=len(lessons),
        quiz_title=localize(course.quiz_title, language),
        quiz_passed=quiz_passed(user_id, course),
    )


def quiz_passed(user_id: int, course: Course) -> bool:
    return db.session.scalar(select(CourseProgress.quiz_passed_at).where(
        CourseProgress.user_id == user_id, CourseProgress.course_id == course.id)) is not None


# --- progress ------------------------------------------------------------


def _lesson_progress(user_id: int, lesson: Lesson, opened_at: datetime | None = None) -> LessonProgress:
    """The learner's row for the lesson, made when missing. opened_at: when the server first sent them
    the lesson page (from their session), which starts the reading and time-report clocks."""
    progress = db.session.scalar(select(LessonProgress).where(
        LessonProgress.user_id == user_id, LessonProgress.lesson_id == lesson.id))
    now = utcnow()
    opened = min(opened_at, now) if opened_at is not None else now
    if progress is None:
        # The page's visit report and a quick "complete and continue" can both get here at once.
        insert_if_missing(LessonProgress, {"user_id": user_id, "lesson_id": lesson.id, "first_visited_at": opened,
                                           "last_visited_at": now, "last_time_report_at": opened,
                                           "seconds_spent": 0}, ("user_id", "lesson_id"))
        progress = db.session.scalar(select(LessonProgress).where(
            LessonProgress.user_id == user_id, LessonProgress.lesson_id == lesson.id))
    if opened < progress.first_visited_at:
        progress.first_visited_at = opened
    return progress


def _course_progress_row(user_id: int, course: Course) -> CourseProgress:
    progress = db.session.scalar(select(CourseProgress).where(
        CourseProgress.user_id == user_id, CourseProgress.course_id == course.id))
    if progress is None:
        insert_if_missing(CourseProgress, {"user_id": user_id, "course_id": course.id, "started_at": utcnow()},
                          ("user_id", "course_id"))
        progress = db.session.scalar(select(CourseProgress).where(
            CourseProgress.user_id == user_id, CourseProgress.course_id == course.id))
    return progress


def record_visit(user_id: int, lesson: Lesson, opened_at: datetime | None = None) -> LessonProgress:
    """The learner has the lesson open (the page's script reports it, never the GET that serves the
    page): the resume point on home and 我的学习, and the course counts as started. Flushes."""
    progress = _lesson_progress(user_id, lesson, opened_at)
    progress.last_visited_at = utcnow()
    _course_progress_row(user_id, lesson.course)
    db.session.flush()
    return progress


def mark_lesson_done(user_id: int, lesson: Lesson) -> bool:
    """Record the lesson as done (idempotent); True when this completed the course."""
    progress = _lesson_progress(user_id, lesson)
    if progress.completed_at is None:
        progress.completed_at = utcnow()
    standing = _course_progress_row(user_id, lesson.course)
    db.session.flush()
    completed = _complete_if_earned(standing)
    db.session.commit()
    return completed


class LessonTooSoon(UserError):
    """The learner asked to mark a lesson done before its minimum reading time; str() is the message."""

    code = "too_soon"
    status = 409


def min_reading_seconds(lesson: Lesson) -> float:
    """LESSON_MIN_READ_SHARE of the lesson's estimated reading time."""
    share = float(current_app.config.get("LESSON_MIN_READ_SHARE") or 0)
    return max(0.0, share * lesson.estimated_minutes * 60)


def complete_lesson(user_id: int, lesson: Lesson, opened_at: datetime | None = None) -> bool:
    """The learner's "mark as done": allowed once the minimum reading time has passed since the
    server first sent them the lesson page (server clock, nothing the browser reports: opened_at
    comes from their signed session, the stored first visit from an earlier one). Earlier, raises
    LessonTooSoon and reports the attempt with events.evidence_too_fast. Returns what
    mark_lesson_done returns."""
    progress = db.session.scalar(select(LessonProgress).where(
        LessonProgress.user_id == user_id, LessonProgress.lesson_id == lesson.id))
    if opened_at is not None:
        progress = record_visit(user_id, lesson, opened_at)  # the page was served: the learner has seen it
    if progress is None or progress.completed_at is None:
        minimum = min_reading_seconds(lesson)
        elapsed = max(0.0, (utcnow() - progress.first_visited_at).total_seconds()) if progress else 0.0
        if elapsed < minimum:
            events.evidence_too_fast.send(user_id, kind="lesson", subject=f"{lesson.course.slug}/{lesson.slug}",
                                          ref_id=None, seconds=elapsed, minimum_seconds=minimum)
            db.session.commit()
            raise LessonTooSoon(_l(
                "Keep reading: a lesson can be marked as done %(minimum)d seconds after you open it "
                "(its estimated reading time is %(estimate)d minutes). %(remaining)d seconds to go.",
                minimum=int(minimum + 0.999), estimate=lesson.estimated_minutes,
                remaining=max(1, int(minimum - elapsed + 0.999))))
    return mark_lesson_done(user_id, lesson)


def report_time(user_id: int, lesson: Lesson, seconds: float, opened_at: datetime | None = None) -> tuple[int, int]:
    """Credit reading time reported by the page; returns (seconds credited, total seconds). Each
    report is also a visit (the page sends one with 0 seconds as it opens).

    Each report is credited at most MAX_SECONDS_PER_REPORT and at most the wall-clock time
    since the previous report (or the first visit), so replaying or inflating reports
    cannot add more time than really passed.
    """
    progress = record_visit(user_id, lesson, opened_at)
    now = utcnow()
    elapsed = max(0, int((now - progress.last_time_report_at).total_seconds()))
    credited = max(0, min(int(seconds), MAX_SECONDS_PER_REPORT, elapsed))
    progress.seconds_spent += credited
    progress.last_time_report_at = now
    db.session.commit()
    return credited, progress.seconds_spent


def _complete_if_earned(standing: CourseProgress) -> bool:
    """Complete the course when every current lesson is done and the quiz is passed."""
    if standing.completed_at is not None or standing.quiz_passed_at is None:
        return False
    course = standing.course
    lesson_ids = {lesson.id for lesson in course.active_lessons}
    if not lesson_ids <= _done_lesson_ids(standing.user_id):
        return False
    standing.completed_at = utcnow()
    db.session.flush()
    events.course_completed.send(standing.user_id, course_slug=course.slug, completed_at=standing.completed_at)
    return True


def record_quiz_result(user_id: int, exam_slug: str, attempt_id: int, score: float, passed: bool) -> list[str]:
    """Note a passed quiz on every current course it belongs to; returns the slugs completed by it."""
    if not passed:
        return []
    completed = []
    for course in db.session.scalars(select(Course).where(Course.quiz_slug == exam_slug, Course.retired.is_(False))):
        standing = _course_progress_row(user_id, course)
        if standing.quiz_passed_at is None:  # the first pass is the evidence; later attempts change nothing
            standing.quiz_passed_at, standing.quiz_attempt_id, standing.quiz_score = utcnow(), attempt_id, score
        db.session.flush()
        if _complete_if_earned(standing):
            completed.append(course.slug)
    return completed


def on_exam_attempt_graded(user_id, *, attempt_id, exam_slug, passed, score, **_extra) -> None:
    """Receiver: the pass is flushed into the sender's transaction, which its request, command or
    job commits (exams commits after its listeners ran); a receiver never commits for the sender."""
    if not passed:
        return
    record_quiz_result(user_id, exam_slug, attempt_id, score, passed)
    db.session.flush()


# --- demo ----------------------------------------------------------------


DEMO_LEARNER = "trainee"


def load_demo_progress() -> list[str]:
    """Give the demo learner half of the first course done and the next lesson open (idempotent)."""
    user = find_user(DEMO_LEARNER)
    courses = active_courses()
    if user is None or not courses:
        return [f"{DEMO_LEARNER}: no course progress (sync the content first)"]
    lessons = courses[0].active_lessons
    half = max(1, len(lessons) // 2)
    for lesson in lessons[:half]:
        mark_lesson_done(user.id, lesson)
    if half < len(lessons):
        record_visit(user.id, lessons[half])
        db.session.commit()
    return [f"{DEMO_LEARNER}: {half} of {len(lessons)} lessons done in {courses[0].slug}"]


# --- home panel and the guided path --------------------------------------------------------


@dataclass
class NextStep:
    """What the learner's home page offers to carry on with: a lesson, or a course's quiz."""
    kind: str  # "lesson" | "quiz"
    course: Course
    course_title: Localized
    title: Localized  # the lesson's or the quiz's title
    lesson: Lesson | None = None
    done: int = 0
    total: int = 0


def quiz_pending(card: CourseCard) -> bool:
    """Every lesson is done but the course quiz is not passed yet: the course is not complete."""
    return card.completed_at is None and card.total > 0 and card.done >= card.total and not card.quiz_passed


def next_steps(user_id: int, language: str, limit: int = 3) -> list[NextStep]:
    """Read-only: the last lesson opened and not done, then quizzes waiting in courses whose lessons
    are all done, then the next lesson of other started courses (at most `limit`)."""
    steps: list[NextStep] = []
    resume = _resume(user_id, language)
    cards = [card for card in catalog(user_id, language) if card.started and card.completed_at is None
             and not card.locked]
    by_id = {card.course.id: card for card in cards}
    if resume is not None:
        card = by_id.get(resume.course.id)
        steps.append(NextStep("lesson", resume.course, resume.course_title, resume.lesson_title, resume.lesson,
                              card.done if card else 0, card.total if card else 0))
    done_ids = _done_lesson_ids(user_id)
    quizzes, lessons = [], []
    for card in cards:
        if any(step.course.id == card.course.id for step in steps):
            continue
        if quiz_pending(card):
            quizzes.append(NextStep("quiz", card.course, card.title, localize(card.course.quiz_title, language),
                                    None, card.done, card.total))
        else:
            lesson = next((item for item in card.course.active_lessons if item.id not in done_ids), None)
            if lesson is not None:
                lessons.append(NextStep("lesson", card.course, card.title, localize(lesson.title, language),
                                        lesson, card.done, card.total))
    steps += quizzes + lessons
    return steps[:limit]


def unlocked_by(slug: str, user_id: int, language: str) -> list[tuple[Course, Localized]]:
    """Current courses that list `slug` as a prerequisite and that the learner can now open."""
    completed = completed_courses(user_id)
    return [(course, localize(course.title, language)) for course in active_courses()
            if slug in course.prerequisites and not missing_prerequisites(course, completed)]


def completed_by_quiz(user_id: int, exam_slug: str, language: str) -> list[dict]:
    """For an exam's result page: the current courses this exam is the quiz of that the learner has
    completed, each with the courses its completion unlocked (read-only)."""
    rows = db.session.scalars(
        select(CourseProgress).join(CourseProgress.course)
        .where(CourseProgress.user_id == user_id, CourseProgress.completed_at.is_not(None),
               Course.quiz_slug == exam_slug, Course.retired.is_(False)))
    return [{"course": progress.course, "title": localize(progress.course.title, language),
             "unlocked": unlocked_by(progress.course.slug, user_id, language)} for progress in rows]
