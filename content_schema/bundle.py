"""The validated, fully resolved content that ``load_content`` returns.

Every item keeps its validated pydantic ``spec`` (exactly what the author wrote, with
defaults filled in) next to what was derived from it: rendered lessons, resolved
rubric items, and the file and checksum the app uses to spot changes on sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grading.rubric import RubricItem

from .models import CertificationSpec, CourseSpec, ExamSpec, LibrarySpec, ScenarioSpec


@dataclass(frozen=True)
class LessonText:
    """One language version of a lesson."""

    language: str  # "zh-CN" or "en"
    title: str
    markdown: str  # the body as authored (without front matter)
    html: str  # rendered and sanitized; asset links point at the caller's URL prefix
    source_file: str  # relative to the content root
    checksum: str  # sha256 of the file


@dataclass(frozen=True)
class Lesson:
    slug: str
    order: int
    estimated_minutes: int
    texts: Mapping[str, LessonText]  # by UI language; "zh-CN" is always present

    @property
    def title(self) -> dict[str, str]:
        return {language: text.title for language, text in self.texts.items()}


@dataclass(frozen=True)
class Course:
    slug: str
    spec: CourseSpec
    lessons: tuple[Lesson, ...]  # sorted by order
    assets: tuple[str, ...]  # file names inside the course's assets/ folder
    source_file: str  # courses/<slug>/course.yaml
    checksum: str  # sha256 over every file of the course folder


@dataclass(frozen=True)
class Exam:
    slug: str
    spec: ExamSpec
    rubrics: Mapping[str, tuple[RubricItem, ...]]  # phrase_rewrite question id -> resolved items
    source_file: str
    checksum: str
    # phrase_rewrite question id -> the library's forbidden catalogue in its language (checked on
    # every rewrite, as on every role-play reply)
    rules: Mapping[str, tuple[RubricItem, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedNode:
    id: str
    line: str  # the customer's line, in the scenario's language
    anger: int
    rubric: tuple[RubricItem, ...]
    next: Mapping[str, str]  # outcome (deescalate|stay|escalate) -> node id or end:*


@dataclass(frozen=True)
class Scenario:
    slug: str
    spec: ScenarioSpec
    nodes: Mapping[str, ResolvedNode]
    greeting: RubricItem | None  # library intent "greeting" with call_rules points; None if 0 points
    closing: RubricItem | None
    source_file: str
    checksum: str
    # Forbidden on every reply: the library's catalogue and the scenario's own `forbidden`.
    rules: tuple[RubricItem, ...] = ()


@dataclass(frozen=True)
class Certification:
    spec: CertificationSpec
    source_file: str
    checksum: str

    @property
    def version(self) -> int:
        return self.spec.version


@dataclass(frozen=True)
class ContentBundle:
    courses: Mapping[str, Course]  # catalog order
    exams: Mapping[str, Exam]
    scenarios: Mapping[str, Scenario]
    library: LibrarySpec
    phrasebook: Mapping[str, Any]  # the raw YAML data, for grading.rubric.load_phrasebook
    certification: Certification

    def summary(self) -> str:
        lessons = sum(len(course.lessons) for course in self.courses.values())
        return (
            f"{len(self.courses)} courses, {lessons} lessons, {len(self.exams)} exams, "
            f"{len(self.scenarios)} scenarios"
        )
