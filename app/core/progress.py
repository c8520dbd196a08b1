"""Learner progress in batches: what many learners have done in courses, exams and drills.

The courses, exams and roleplays domains each register one source in their init_app
(``register_progress_source(app, COURSES, fn)``); consumers (the team gradebook, the HR roster)
ask for a whole list of learners through the typed functions at the bottom and never import
those domains or name them by string. Every source answers in a fixed number of queries however
many learners are asked about (never a query per learner); a learner with no evidence, or a
domain that is not installed, gives the empty value of its type.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from flask import current_app

T = TypeVar("T")
# Learner ids per query: far below SQLite's and PostgreSQL's bound-parameter limits, so 1000s of
# learners still take a handful of statements (one more per this many learners).
CHUNK = 5000


@dataclass(frozen=True)
class CourseProgress:
    completed: Mapping[str, datetime] = field(default_factory=dict)  # course slug -> completed at (retired too)
    titles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # course slug -> {"zh-CN": ..., "en": ...}
    last_activity: datetime | None = None  # last lesson visit or course completion


@dataclass(frozen=True)
class ExamBest:
    """A learner's best graded attempt at one exam (highest score, the earliest of equals)."""
    exam_slug: str
    kind: str  # quiz | certification
    title: Mapping[str, str]
    attempt_id: int
    score: float  # percent
    passed: bool
    graded_at: datetime | None


@dataclass(frozen=True)
class ListenTypeAnswer:
    attempt_id: int
    question_id: str
    accuracy: float  # 0..1
    cpm: float
    graded_at: datetime | None


@dataclass(frozen=True)
class ExamProgress:
    best: Mapping[str, ExamBest] = field(default_factory=dict)  # exam slug -> best graded attempt
    listen_type: tuple[ListenTypeAnswer, ...] = ()  # graded listen-and-type answers, oldest first
    last_activity: datetime | None = None  # last start, save or grading of an attempt
    graded: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # exam slug -> (graded attempts, passed)

    def best_of_kind(self, kind: str) -> ExamBest | None:
        """The best score over every exam of this kind (quiz or certification)."""
        found = [best for best in self.best.values() if best.kind == kind]
        return max(found, key=lambda b: (b.score, -(b.attempt_id))) if found else None


@dataclass(frozen=True)
class DrillResult:
    """One finished (scored) role-play call."""
    attempt_id: int
    scenario_slug: str
    title: Mapping[str, str]
    difficulty: int
    score: float
    passed: bool
    finished_at: datetime
    mode: str  # voice | typed
    language: str = ""  # the call's language: zh-CN, en-US, ko-KR


@dataclass(frozen=True)
class DrillProgress:
    best: DrillResult | None = None  # highest score, the earliest of equals
    voice_passes: int = 0
    typed_passes: int = 0
    passes: tuple[DrillResult, ...] = ()  # passed calls, oldest first
    last_activity: datetime | None = None
    finished: int = 0  # scored calls, passed or not


@dataclass(frozen=True)
class Source(Generic[T]):
    """A kind of progress; its value for a learner without evidence is ``empty()``."""
    key: str
    empty: Callable[[], T]


COURSES: Source[CourseProgress] = Source("courses", CourseProgress)
EXAMS: Source[ExamProgress] = Source("exams", ExamProgress)
DRILLS: Source[DrillProgress] = Source("drills", DrillProgress)

Fetch = Callable[[Sequence[int]], Mapping[int, T]]


def register_progress_source(app, source: Source[T], fetch: Fetch) -> None:
    """fetch(user_ids) -> {user_id: value} for those with evidence, in a fixed number of queries."""
    app.extensions.setdefault("academy_progress", {})[source.key] = fetch


def _progress(source: Source[T], user_ids: Iterable[int]) -> dict[int, T]:
    ids = sorted({int(user_id) for user_id in user_ids})
    fetch = current_app.extensions.get("academy_progress", {}).get(source.key)
    found: dict[int, T] = {}
    if fetch is not None:
        for start in range(0, len(ids), CHUNK):
            found.update(fetch(ids[start:start + CHUNK]))
    return {user_id: found.get(user_id) or source.empty() for user_id in ids}


def course_progress(user_ids: Iterable[int]) -> dict[int, CourseProgress]:
    return _progress(COURSES, user_ids)


def exam_progress(user_ids: Iterable[int]) -> dict[int, ExamProgress]:
    return _progress(EXAMS, user_ids)


def drill_progress(user_ids: Iterable[int]) -> dict[int, DrillProgress]:
    return _progress(DRILLS, user_ids)


def last_activity(*moments: datetime | None) -> datetime | None:
    """The latest of several last-activity times (None when there is none)."""
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else None
