"""Queries behind the team gradebook: who a viewer may see, one row of evidence per learner, the CSV.

Evidence comes from app.core.progress (courses, exams, drills: batched, no query per learner) and
the ladder from certification.batch; nothing here writes.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from ..accounts.models import User, UserRole
from ..core.access import Role, has_role
from ..certification.batch import LadderSummary, ladder_summaries
from ..certification.labels import LEVELS, level_label
from ..core import progress
from ..core.clock import local_datetime
from ..core.csvfile import csv_bytes
from ..extensions import db

MAX_QUERY = 100  # characters of the name search
SORTS = ("name", "cohort", "courses", "quiz", "exam", "drill", "voice", "level", "requirements", "activity")


# --- who a viewer sees -------------------------------------------------------------------


def own_cohorts(viewer: User) -> list[str]:
    """A trainer's cohorts: the cohort on their account, several separated by commas ("2025-A, 2025-B")."""
    return sorted({part.strip() for part in (viewer.cohort or "").split(",") if part.strip()})


def sees_everyone(viewer: User) -> bool:
    return has_role(viewer, Role.HR) or bool(current_app.config.get("TEAM_TRAINERS_SEE_ALL"))


def _learners_statement(viewer: User):
    statement = (select(User).join(UserRole, UserRole.user_id == User.id)
                 .where(UserRole.role == Role.LEARNER.value, User.active.is_(True)))
    if not sees_everyone(viewer):
        statement = statement.where(User.cohort.in_(own_cohorts(viewer)))
    return statement


def cohorts(viewer: User) -> list[str]:
    """The cohorts the viewer may filter by."""
    if not sees_everyone(viewer):
        return own_cohorts(viewer)
    statement = _learners_statement(viewer).with_only_columns(User.cohort).where(User.cohort.is_not(None)).distinct()
    return sorted(c for c in db.session.scalars(statement) if c)


def visible_learners(viewer: User, *, cohort: str = "", query: str = "") -> list[User]:
    statement = _learners_statement(viewer)
    if cohort:
        statement = statement.where(User.cohort == cohort)
    query = query.strip()[:MAX_QUERY]
    if query:
        like = f"%{query.lower()}%"
        statement = statement.where(or_(db.func.lower(User.name).like(like), db.func.lower(User.username).like(like)))
    return list(db.session.scalars(statement.order_by(User.name, User.id)).unique())


def may_see(viewer: User, learner: User) -> bool:
    if not learner.active or Role.LEARNER not in learner.role_set:
        return False
    return sees_everyone(viewer) or (learner.cohort or "") in own_cohorts(viewer)


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradebookRow:
    user: User
    courses: progress.CourseProgress
    exams: progress.ExamProgress
    drills: progress.DrillProgress
    ladder: LadderSummary
    last_activity: datetime | None

    @property
    def courses_completed(self) -> int:
        return len(self.courses.completed)

    @property
    def quiz(self) -> progress.ExamBest | None:
        return self.exams.best_of_kind("quiz")

    @property
    def exam(self) -> progress.ExamBest | None:
        return self.exams.best_of_kind("certification")

    @property
    def drill(self) -> progress.DrillResult | None:
        return self.drills.best


def rows_for(learners: Iterable[User]) -> list[GradebookRow]:
    """One row per learner, in a fixed number of queries however many learners there are."""
    people = list(learners)
    ids = [person.id for person in people]
    courses = progress.course_progress(ids)
    exams = progress.exam_progress(ids)
    drills = progress.drill_progress(ids)
    ladders = ladder_summaries(ids, courses=courses, exams=exams, drills=drills)
    return [GradebookRow(person, courses[person.id], exams[person.id], drills[person.id], ladders[person.id],
                         ladders[person.id].last_activity) for person in people]


def _sort_value(row: GradebookRow, key: str):
    if key == "name":
        return row.user.name.lower()
    if key == "cohort":
        return (row.user.cohort or "").lower() or None
    if key == "courses":
        return row.courses_completed
    if key == "quiz":
        return row.quiz.score if row.quiz else None
    if key == "exam":
        return row.exam.score if row.exam else None
    if key == "drill":
        return row.drill.score if row.drill else None
    if key == "voice":
        return row.drills.voice_passes
    if key == "level":
        return (LEVELS.index(row.ladder.level), row.ladder.met / row.ladder.total if row.ladder.total else 1.0)
    if key == "requirements":
        return (row.ladder.met / row.ladder.total if row.ladder.total else 1.0, LEVELS.index(row.ladder.level))
    if key == "activity":
        return row.last_activity
    raise ValueError(key)


def sort_rows(rows: list[GradebookRow], key: str, descending: bool = False) -> list[GradebookRow]:
    """Sorted by one column; rows without a value (no attempt yet) always last, then by name."""
    by_name = sorted(rows, key=lambda row: (row.user.name.lower(), row.user.id))
    present = [row for row in by_name if _sort_value(row, key) is not None]
    missing = [row for row in by_name if _sort_value(row, key) is None]
    present.sort(key=lambda row: _sort_value(row, key), reverse=descending)  # stable: ties stay by name
    return present + missing


def gradebook(viewer: User, *, cohort: str = "", query: str = "", sort: str = "name",
              descending: bool = False) -> list[GradebookRow]:
    return sort_rows(rows_for(visible_learners(viewer, cohort=cohort, query=query)),
                     sort if sort in SORTS else "name", descending)


# --- CSV -------------------------------------------------------------------------------------

# format=machine: fixed English snake_case headings and raw values, for integrations.
MACHINE_HEADER = ["username", "name", "cohort", "courses_completed", "best_quiz_score", "best_exam_score",
                  "best_drill_score", "voice_passes", "typed_passes", "level", "requirements_met",
                  "requirements_total", "last_activity_utc"]


def _score(value: float | None) -> float | str:
    return "" if value is None else round(value, 1)


def _utc(moment: datetime | None) -> str:
    return moment.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z") if moment else ""


def gradebook_csv(rows: list[GradebookRow], *, machine: bool = False) -> bytes:
    if machine:
        return csv_bytes(MACHINE_HEADER, (
            [row.user.username, row.user.name, row.user.cohort or "", row.courses_completed,
             _score(row.quiz.score if row.quiz else None), _score(row.exam.score if row.exam else None),
             _score(row.drill.score if row.drill else None), row.drills.voice_passes, row.drills.typed_passes,
             row.ladder.level, row.ladder.met, row.ladder.total, _utc(row.last_activity)] for row in rows))
    levels = {level: level_label(level) for level in LEVELS}  # translated once, not once per row
    of = _("%(met)s of %(total)s")
    header = [_("Name"), _("Username"), _("Cohort"), _("Courses completed"), _("Best quiz score"),
              _("Best exam score"), _("Best drill score"), _("Voice passes"), _("Typed passes"), _("Level"),
              _("Requirements met"), _("Last activity")]
    return csv_bytes(header, (
        [row.user.name, row.user.username, row.user.cohort or "", row.courses_completed,
         _score(row.quiz.score if row.quiz else None), _score(row.exam.score if row.exam else None),
         _score(row.drill.score if row.drill else None), row.drills.voice_passes, row.drills.typed_passes,
         levels[row.ladder.level], of % {"met": row.ladder.met, "total": row.ladder.total} if row.ladder.total else "",
         local_datetime(row.last_activity, missing="")]
        for row in rows))


def pick(texts, language: str) -> str:
    """A title in the UI's content language (zh-CN when missing)."""
    texts = texts or {}
    return texts.get(language) or texts.get("zh-CN") or next(iter(texts.values()), "")
