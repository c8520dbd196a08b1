"""Assignment operations: creating and withdrawing assignments, who they reach, and each learner's status.

Status comes from the evidence the other domains keep, never from a stored flag:

- course: completed (app.courses.services.completed_courses) / in progress (course_progress) / not started
- exam: passed (app.exams.services.passed_attempts) / attempted / not started
- drill: a passed attempt of the scenario started on or after the assignment's date (a voice attempt when the
  assignment requires voice) / attempted since then / not started

Not done by the due date means overdue.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..accounts.models import User, UserRole

from ..core.clock import utcnow
from ..core.access import Role
from ..core import events
from ..core.errors import UserError
from ..extensions import db
from .models import COURSE, DRILL, EXAM, KINDS, Assignment, AssignmentLearner

NOT_STARTED, IN_PROGRESS, DONE = "not_started", "in_progress", "done"
MAX_NOTE = 500

KIND_LABELS = {COURSE: _l("Course"), EXAM: _l("Exam"), DRILL: _l("Role-play drill")}
STATE_LABELS = {
    COURSE: {DONE: _l("Completed"), IN_PROGRESS: _l("In progress"), NOT_STARTED: _l("Not started")},
    EXAM: {DONE: _l("Passed"), IN_PROGRESS: _l("Attempted, not passed yet"), NOT_STARTED: _l("Not started")},
    DRILL: {DONE: _l("Passed"), IN_PROGRESS: _l("Attempted, not passed yet"), NOT_STARTED: _l("Not started")},
}


class AssignmentError(UserError):
    """A user-facing refusal; str() is a translated message."""

    code = "assignment_invalid"
    status = 400


class NotAssigned(AssignmentError):
    """The work asked for is not assigned to this learner."""

    code = "not_assigned"
    status = 403


def today() -> date:
    return utcnow().date()


def _pick(texts: Mapping[str, str] | str | None, language: str) -> str:
    if not texts:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(language) or texts.get("zh-CN") or next(iter(texts.values()), "")


# --- what can be assigned -------------------------------------------------------------

def work_choices(language: str) -> dict[str, list[tuple[str, str]]]:
    """The current courses, exams and drills as form choices grouped by kind: value "kind:slug"."""
    from ..courses.services import active_courses
    from ..exams.services import active_exams
    from ..roleplays.queries import library
    return {
        str(KIND_LABELS[COURSE]): [(f"{COURSE}:{c.slug}", _pick(c.title, language)) for c in active_courses()],
        str(KIND_LABELS[EXAM]): [(f"{EXAM}:{e.slug}", _pick(e.title, language)) for e in active_exams()],
        str(KIND_LABELS[DRILL]): [(f"{DRILL}:{s.slug}", _pick(s.current_version.title, language))
                                  for s in library()],
    }


def voice_ungradable_language(kind: str, slug: str) -> str | None:
    """The drill's language when this server cannot grade it by voice (no speech model), else None."""
    if kind != DRILL:
        return None
    from ..roleplays import queries as roleplay_queries
    scenario = roleplay_queries.get_scenario(slug)
    if scenario is None:
        return None
    language = scenario.current_version.language
    return None if roleplay_queries.voice_available(language) else language


def _work_row(kind: str, slug: str):
    """The course, exam or scenario row (retired ones included), or None."""
    if kind == COURSE:
        from ..courses.models import Course
        return db.session.scalar(select(Course).where(Course.slug == slug))
    if kind == EXAM:
        from ..exams.models import Exam
        return db.session.scalar(select(Exam).where(Exam.slug == slug))
    if kind == DRILL:
        from ..roleplays.models import Scenario
        return db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    return None


def _is_current(kind: str, row) -> bool:
    if row is None or row.retired:
        return False
    return kind != DRILL or row.current_version is not None


def work_title(kind: str, slug: str, language: str) -> str:
    row = _work_row(kind, slug)
    if row is None:
        return slug
    if kind == DRILL:
        version = row.current_version or (row.versions[-1] if row.versions else None)
        return _pick(version.title, language) if version else slug
    return _pick(row.title, language) or slug


def work_url(assignment: Assignment) -> str | None:
    """Where the learner does the work (drills requiring voice start through the assignment instead)."""
    from flask import current_app, url_for
    endpoint = {COURSE: ("courses.course", "slug"), EXAM: ("exams.start", "slug"),
                DRILL: ("roleplays.briefing", "slug")}[assignment.kind]
    if endpoint[0] not in current_app.view_functions:
        return None
    return url_for(endpoint[0], **{endpoint[1]: assignment.slug})


# --- people ------------------------------------------------------------------------------

def _learners_query():
    return (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.LEARNER.value, User.active.is_(True)))


def learners() -> list[User]:
    """Active learners, by name: whom a trainer can name on an assignment."""
    return list(db.session.scalars(_learners_query().order_by(User.name, User.username)).unique())


def cohorts() -> list[str]:
    return sorted({c for c in db.session.scalars(
        select(User.cohort).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.LEARNER.value, User.cohort.is_not(None)).distinct()) if c})


def recipients(assignment: Assignment) -> list[User]:
    """Who the assignment reaches now: the active learners of its cohort and those named on it."""
    conditions = []
    if assignment.cohort:
        conditions.append(User.cohort == assignment.cohort)
    named = assignment.named_ids
    if named:
        conditions.append(User.id.in_(named))
    if not conditions:
        return []
    return list(db.session.scalars(_learners_query().where(or_(*conditions))
                                   .order_by(User.cohort, User.name, User.username)).unique())


# --- creating and withdrawing ----------------------------------------------------------------

def create_assignment(*, kind: str, slug: str, due_date: date, created_by: User, cohort: str | None = None,
                      user_ids: Iterable[int] = (), require_voice: bool = False,
                      note: str | None = None) -> Assignment:
    """Assign one course, exam or drill; commits. Raises AssignmentError with a translated message."""
    if kind not in KINDS:
        raise AssignmentError(_l("Choose a course, an exam or a drill to assign."))
    if not _is_current(kind, _work_row(kind, slug)):
        raise AssignmentError(_l("That work is not available (it may have been retired)."))
    if due_date is None:
        raise AssignmentError(_l("A due date is required."))
    if due_date < today():
        raise AssignmentError(_l("The due date is in the past."))
    cohort = (cohort or "").strip() or None
    if cohort and cohort not in cohorts():
        raise AssignmentError(_l("There is no cohort “%(cohort)s”.", cohort=cohort))
    wanted = set(user_ids)
    valid = {user.id for user in learners()}
    if wanted - valid:
        raise AssignmentError(_l("Only active learners can be named on an assignment."))
    if not cohort and not wanted:
        raise AssignmentError(_l("Choose a cohort or at least one learner."))
    if require_voice and kind != DRILL:
        raise AssignmentError(_l("Only drills can require voice replies."))
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise AssignmentError(_l("The note is too long."))
    assignment = Assignment(kind=kind, slug=slug, due_date=due_date, cohort=cohort, note=note,
                            require_voice=bool(require_voice), created_by=created_by.id, created_at=utcnow())
    assignment.learners = [AssignmentLearner(user_id=user_id) for user_id in sorted(wanted)]
    db.session.add(assignment)
    db.session.flush()
    events.assignment_created.send(created_by.id, assignment_id=assignment.id,
                                   user_ids=[user.id for user in recipients(assignment)],
                                   titles=work_titles(kind, slug), due_date=due_date, note=note)
    db.session.commit()
    return assignment


def work_titles(kind: str, slug: str) -> dict[str, str]:
    """The work's title in both content languages (for notices, rendered later in the reader's language)."""
    return {language: work_title(kind, slug, language) for language in ("zh-CN", "en")}


def withdraw(assignment: Assignment, by: User) -> None:
    if assignment.withdrawn_at is None:
        assignment.withdrawn_at, assignment.withdrawn_by = utcnow(), by.id
        db.session.commit()


def active_assignments() -> list[Assignment]:
    return list(db.session.scalars(select(Assignment).where(Assignment.withdrawn_at.is_(None))
                                   .order_by(Assignment.due_date, Assignment.id)))


def get_assignment(assignment_id: int) -> Assignment | None:
    return db.session.get(Assignment, assignment_id)


def assignments_for(user: User) -> list[Assignment]:
    """The active assignments that reach this learner (through their cohort or by name)."""
    named = select(AssignmentLearner.assignment_id).where(AssignmentLearner.user_id == user.id)
    reach = [Assignment.id.in_(named)]
    if user.cohort:
        reach.append(Assignment.cohort == user.cohort)
    return list(db.session.scalars(select(Assignment).where(Assignment.withdrawn_at.is_(None), or_(*reach))
                                   .order_by(Assignment.due_date, Assignment.id)))


def assigned_drills(user: User) -> dict[str, date]:
    """{scenario slug: the earliest due date} of the active drill assignments reaching this learner."""
    due: dict[str, date] = {}
    for assignment in assignments_for(user):
        if assignment.kind == "drill" and (assignment.slug not in due or assignment.due_date < due[assignment.slug]):
            due[assignment.slug] = assignment.due_date
    return due


def reaches(assignment: Assignment, user: User) -> bool:
    return assignment.withdrawn_at is None and (
        user.id in assignment.named_ids or (assignment.cohort is not None and assignment.cohort == user.cohort))


# --- status from the evidence ------------------------------------------------------------------

@dataclass
class Status:
    state: str                     # not_started | in_progress | done
    done_at: datetime | None = None
    progress: tuple[int, int] | None = None   # courses: (lessons done, lessons)
    best_score: float | None = None            # exams and drills: best score so far
    overdue: bool = False
    late: bool = False             # done, but after the due date

    @property
    def done(self) -> bool:
        return self.state == DONE


class Evidence:
    """One learner's evidence, read once and shared by every assignment checked for them."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self._completed: dict[str, datetime] | None = None
        self._attempts: list | None = None

    def course(self, slug: str) -> Status:
        from ..courses.services import completed_courses, course_progress
        if self._completed is None:
            self._completed = completed_courses(self.user_id)
        done, total = course_progress(self.user_id, slug)
        if slug in self._completed:
            return Status(DONE, done_at=self._completed[slug], progress=(done, total))
        return Status(IN_PROGRESS if done else NOT_STARTED, progress=(done, total))

    def exam(self, slug: str) -> Status:
        from ..exams.services import attempts_of, best_attempt, passed_attempts
        passes = passed_attempts(self.user_id, slug)
        best = best_attempt(self.user_id, slug)
        score = best.score if best is not None else None
        if passes:
            return Status(DONE, done_at=passes[0].graded_at, best_score=score)
        return Status(IN_PROGRESS if attempts_of(self.user_id, slug) else NOT_STARTED, best_score=score)

    def drill(self, slug: str, since: datetime, require_voice: bool) -> Status:
        from ..roleplays.models import ENDED, Attempt
        if self._attempts is None:
            # Read-only: every drill attempt of the learner, whatever the scenario.
            self._attempts = list(db.session.scalars(select(Attempt).where(Attempt.user_id == self.user_id)))
        tried = [a for a in self._attempts if a.version.slug == slug and a.started_at >= since]
        scores = [a.score for a in tried if a.status == ENDED and a.score is not None]
        passes = [a for a in tried if a.status == ENDED and a.passed and (a.mode == "voice" or not require_voice)]
        best = max(scores) if scores else None
        if passes:
            return Status(DONE, done_at=min(a.finished_at or a.started_at for a in passes), best_score=best)
        return Status(IN_PROGRESS if tried else NOT_STARTED, best_score=best)


def assignment_day(assignment: Assignment) -> datetime:
    """Drill attempts count from the start of the day the work was assigned."""
    return datetime.combine(assignment.created_at.date(), time.min)


def status_of(assignment: Assignment, evidence: Evidence, on: date | None = None) -> Status:
    if assignment.kind == COURSE:
        status = evidence.course(assignment.slug)
    elif assignment.kind == EXAM:
        status = evidence.exam(assignment.slug)
    else:
        status = evidence.drill(assignment.slug, assignment_day(assignment), assignment.require_voice)
    on = on or today()
    if status.done:
        status.late = status.done_at is not None and status.done_at.date() > assignment.due_date
    else:
        status.overdue = on > assignment.due_date
    return status


def state_label(assignment: Assignment, status: Status) -> str:
    return str(STATE_LABELS[assignment.kind][status.state])


# --- the learner's list --------------------------------------------------------------------------

@dataclass
class AssignedItem:
    assignment: Assignment
    title: str
    kind_label: str
    status: Status
    state_label: str
    url: str | None          # where to do the work
    start_voice: bool         # a drill requiring voice: started through the assignment (POST)


def my_assignments(user: User, language: str) -> list[AssignedItem]:
    """What is assigned to this learner: open work first (overdue, then by due date), done work last."""
    evidence = Evidence(user.id)
    items = []
    for assignment in assignments_for(user):
        status = status_of(assignment, evidence)
        items.append(AssignedItem(assignment, work_title(assignment.kind, assignment.slug, language),
                                  str(KIND_LABELS[assignment.kind]), status, state_label(assignment, status),
                                  work_url(assignment), assignment.kind == DRILL and assignment.require_voice))
    items.sort(key=lambda i: (i.status.done, not i.status.overdue, i.assignment.due_date, i.assignment.id))
    return items


def start_drill(assignment: Assignment, user: User):
    """Start the assigned drill as the assignment requires (by voice when it requires voice).

    Raises NotAssigned when the assignment does not reach the learner or is not a drill, and lets
    app.roleplays.errors.RoleplayError through (voice grading unavailable, retired scenario).
    """
    from ..roleplays import operations as roleplay_operations
    if assignment.kind != DRILL or not reaches(assignment, user):
        raise NotAssigned(_l("This drill is not assigned to you."))
    return roleplay_operations.start_attempt(user.id, assignment.slug, "voice", require_voice=assignment.require_voice)


# --- the trainer's overview ---------------------------------------------------------------------

NO_COHORT = ""


@dataclass
class CohortCount:
    cohort: str          # "" for learners without a cohort
    total: int = 0
    done: int = 0
    overdue: int = 0


@dataclass
class Summary:
    assignment: Assignment
    title: str
    kind_label: str
    cohorts: list[CohortCount] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(c.total for c in self.cohorts)

    @property
    def done(self) -> int:
        return sum(c.done for c in self.cohorts)

    @property
    def overdue(self) -> int:
        return sum(c.overdue for c in self.cohorts)


def overview(language: str, assignments: list[Assignment] | None = None) -> list[Summary]:
    """Completion of every active assignment, one row per cohort of the people it reaches."""
    cache: dict[int, Evidence] = {}
    summaries = []
    for assignment in (active_assignments() if assignments is None else assignments):
        counts: dict[str, CohortCount] = {}
        for person in recipients(assignment):
            status = status_of(assignment, cache.setdefault(person.id, Evidence(person.id)))
            count = counts.setdefault(person.cohort or NO_COHORT, CohortCount(person.cohort or NO_COHORT))
            count.total += 1
            count.done += status.done
            count.overdue += status.overdue
        summaries.append(Summary(assignment, work_title(assignment.kind, assignment.slug, language),
                                 str(KIND_LABELS[assignment.kind]),
                                 sorted(counts.values(), key=lambda c: (c.cohort == NO_COHORT, c.cohort))))
    return summaries


@dataclass
class PersonRow:
    user: User
    status: Status
    state_label: str


def people_status(assignment: Assignment, cohort: str | None = None) -> list[PersonRow]:
    """Each person the assignment reaches, with their status; `cohort` ("" = no cohort) narrows it."""
    rows = []
    for person in recipients(assignment):
        if cohort is not None and (person.cohort or NO_COHORT) != cohort:
            continue
        status = status_of(assignment, Evidence(person.id))
        rows.append(PersonRow(person, status, state_label(assignment, status)))
    rows.sort(key=lambda r: (r.status.done, not r.status.overdue, r.user.cohort or "", r.user.name))
    return rows


def counts_by_state(rows: list[PersonRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.status.state] += 1
        counts["overdue"] += row.status.overdue
    return counts


# --- home panels ---------------------------------------------------------------------------------

HOME_OVERDUE_ASSIGNMENTS = 20   # the oldest overdue assignments the trainer's home panel looks at


@dataclass
class OverdueCohort:
    cohort: str          # "" for learners without a cohort
    people: int = 0      # people with overdue work in this cohort
    items: list[tuple[Assignment, str, int]] = field(default_factory=list)  # (assignment, title, people overdue)


def _done_pairs(assignments: list[Assignment], user_ids: set[int]) -> set[tuple[int, int]]:
    """(assignment id, user id) pairs whose work is done, for all of them in one query per kind."""
    from ..courses.models import Course, CourseProgress
    from ..exams.models import ExamAttempt
    from ..roleplays.models import ENDED, Attempt, ScenarioVersion
    done: set[tuple[int, int]] = set()
    ids = list(user_ids)
    by_kind: dict[str, list[Assignment]] = defaultdict(list)
    for assignment in assignments:
        by_kind[assignment.kind].append(assignment)
    if by_kind[COURSE]:
        rows = db.session.execute(select(CourseProgress.user_id, Course.slug).join(CourseProgress.course).where(
            CourseProgress.user_id.in_(ids), CourseProgress.completed_at.is_not(None),
            Course.slug.in_({a.slug for a in by_kind[COURSE]})))
        finished = set(rows.tuples())
        done |= {(a.id, uid) for a in by_kind[COURSE] for uid in ids if (uid, a.slug) in finished}
    if by_kind[EXAM]:
        rows = db.session.execute(select(ExamAttempt.user_id, ExamAttempt.exam_slug).where(
            ExamAttempt.user_id.in_(ids), ExamAttempt.passed.is_(True),
            ExamAttempt.exam_slug.in_({a.slug for a in by_kind[EXAM]})).distinct())
        passed = set(rows.tuples())
        done |= {(a.id, uid) for a in by_kind[EXAM] for uid in ids if (uid, a.slug) in passed}
    if by_kind[DRILL]:
        since = min(assignment_day(a) for a in by_kind[DRILL])
        rows = db.session.execute(
            select(Attempt.user_id, ScenarioVersion.slug, Attempt.started_at, Attempt.mode)
            .join(ScenarioVersion, ScenarioVersion.id == Attempt.version_id)
            .where(Attempt.user_id.in_(ids), Attempt.status == ENDED, Attempt.passed.is_(True),
                   Attempt.started_at >= since, ScenarioVersion.slug.in_({a.slug for a in by_kind[DRILL]})))
        passes = list(rows.tuples())
        for a in by_kind[DRILL]:
            day = assignment_day(a)
            done |= {(a.id, uid) for uid, slug, started, mode in passes
                     if slug == a.slug and started >= day and (mode == "voice" or not a.require_voice)}
    return done


def overdue_by_cohort(language: str, on: date | None = None,
                      limit: int = HOME_OVERDUE_ASSIGNMENTS) -> list[OverdueCohort]:
    """Per cohort: the active assignments past their due date that some of its learners have not
    done, with how many. Read-only, in a fixed number of queries whatever the number of learners
    (the same evidence as status_of, read in bulk)."""
    on = on or today()
    overdue = list(db.session.scalars(select(Assignment).where(
        Assignment.withdrawn_at.is_(None), Assignment.due_date < on)
        .order_by(Assignment.due_date, Assignment.id).limit(limit)))
    if not overdue:
        return []
    named = {a.id: a.named_ids for a in overdue}
    wanted_cohorts = {a.cohort for a in overdue if a.cohort}
    named_ids = set().union(*named.values())
    reach = []
    if wanted_cohorts:
        reach.append(User.cohort.in_(wanted_cohorts))
    if named_ids:
        reach.append(User.id.in_(named_ids))
    if not reach:
        return []
    people = {uid: cohort or NO_COHORT for uid, cohort in db.session.execute(
        _learners_query().with_only_columns(User.id, User.cohort).where(or_(*reach)).distinct()).tuples()}
    done = _done_pairs(overdue, set(people))
    cohorts: dict[str, OverdueCohort] = {}
    late_people: dict[str, set[int]] = defaultdict(set)
    for assignment in overdue:
        counts: dict[str, int] = defaultdict(int)
        for uid, cohort in people.items():
            reached = uid in named[assignment.id] or (assignment.cohort is not None and cohort == assignment.cohort)
            if reached and (assignment.id, uid) not in done:
                counts[cohort] += 1
                late_people[cohort].add(uid)
        title = work_title(assignment.kind, assignment.slug, language)
        for cohort, count in counts.items():
            cohorts.setdefault(cohort, OverdueCohort(cohort)).items.append((assignment, title, count))
    for cohort, row in cohorts.items():
        row.people = len(late_people[cohort])
    return sorted(cohorts.values(), key=lambda c: (-c.people, c.cohort == NO_COHORT, c.cohort))
