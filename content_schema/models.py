"""pydantic models for every authored file (see docs/content-format.md).

The models check the shape of ONE file: types, ranges, unknown keys and per-object
rules. Rules that need exact lines of sibling items (unique ids) or other files
(prerequisites, library references, graph) live in ``checks.py``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from .messages import message

UI_LANGUAGES = ("zh-CN", "en")
SPEECH_LANGUAGES = ("zh-CN", "en-US", "ko-KR")
CERT_LEVELS = ("trainee", "agent", "senior", "expert")
ENDINGS = ("end:resolved", "end:transferred", "end:hangup")
OUTCOMES = ("deescalate", "stay", "escalate")

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
IDENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
LIBRARY_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,62}")


def _slug(value: str) -> str:
    if not SLUG_RE.fullmatch(value):
        raise ValueError(message("slug.invalid", value=value))
    return value


def _ident(value: str) -> str:
    if not IDENT_RE.fullmatch(value):
        raise ValueError(message("id.invalid", value=value))
    return value


def _library_name(value: str) -> str:
    if not LIBRARY_NAME_RE.fullmatch(value):
        raise ValueError(message("library_name.invalid", value=value))
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError(message("text.empty"))
    return value


def _ltext_before(value: Any) -> Any:
    # A plain string is shorthand for the zh-CN text.
    if isinstance(value, str):
        return {"zh-CN": value}
    if value is None:
        raise ValueError(message("text.missing"))
    if not isinstance(value, dict):
        raise ValueError(message("text.not_text"))
    return value


def _ltext_after(value: dict[str, str]) -> dict[str, str]:
    unknown = [key for key in value if key not in UI_LANGUAGES]
    if unknown:
        raise ValueError(message("text.unknown_language", language=unknown[0]))
    if "zh-CN" not in value:
        raise ValueError(message("text.zh_missing"))
    for language, text in value.items():
        if not text.strip():
            raise ValueError(message("text.language_empty", language=language))
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Ident = Annotated[str, AfterValidator(_ident)]
LibraryName = Annotated[str, AfterValidator(_library_name)]
NonBlank = Annotated[str, AfterValidator(_non_blank)]
# Localized text, normalised to {"zh-CN": ..., "en": ...} (en optional).
LText = Annotated[dict[str, str], BeforeValidator(_ltext_before), AfterValidator(_ltext_after)]
Percent = Annotated[float, Field(ge=0, le=100)]
Share = Annotated[float, Field(ge=0, le=1)]
ElementGroup = Annotated[list[NonBlank], Field(min_length=1)]


class Strict(BaseModel):
    """Unknown keys are errors and no silent type coercion ("1" is not 1)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- courses ---------------------------------------------------------------


class CourseSpec(Strict):
    slug: Slug
    order: Annotated[int, Field(ge=0)]
    level: Literal["agent", "senior", "expert"]
    title: LText
    summary: LText
    estimated_minutes: Annotated[int, Field(gt=0)]
    prerequisites: list[Slug] = []
    quiz: Slug


class LessonFrontMatter(Strict):
    # The title is in the language of the file it heads, so plain text.
    title: NonBlank
    order: Annotated[int, Field(ge=0)]
    estimated_minutes: Annotated[int, Field(gt=0)]


# --- rubric items (role-play nodes and phrase_rewrite questions) -----------


class RubricItemSpec(Strict):
    id: Ident
    kind: Literal["intent", "forbidden"] = "intent"
    points: Annotated[float, Field(gt=0)]
    use: LibraryName | None = None
    # Which judgement an intent counts towards: responds (to the caller as a person) or advances
    # (the case). Default: the library entry's, else advances. Any one item of a judgement is enough.
    judgement: Literal["responds", "advances"] | None = None
    phrases: list[NonBlank] = []
    elements: list[ElementGroup] = []
    patterns: list[NonBlank] = []          # constructions with slots (grading.patterns)
    slots: dict[Ident, list[NonBlank]] = {}
    explanation: LText | None = None

    @model_validator(mode="after")
    def _matchable(self) -> RubricItemSpec:
        if self.use is None and not self.phrases and not self.elements and not self.patterns:
            raise ValueError(message("rubric.nothing_to_match", id=self.id))
        if self.kind == "forbidden" and self.elements:
            raise ValueError(message("rubric.forbidden_elements", id=self.id))
        return self


# --- exams -----------------------------------------------------------------


class OptionSpec(Strict):
    id: Ident
    text: LText
    correct: bool = False


class OrderItemSpec(Strict):
    id: Ident
    text: LText


class _QuestionBase(Strict):
    id: Ident
    tags: list[Ident] = []
    points: Annotated[float, Field(gt=0)] = 1.0
    prompt: LText
    explanation: LText | None = None


class SingleQuestion(_QuestionBase):
    type: Literal["single"]
    options: Annotated[list[OptionSpec], Field(min_length=2)]

    @field_validator("options")
    @classmethod
    def _exactly_one_correct(cls, options: list[OptionSpec]) -> list[OptionSpec]:
        correct = [option.id for option in options if option.correct]
        if len(correct) != 1:
            found = ", ".join(correct) if correct else "none"
            raise ValueError(message("question.single_correct", count=len(correct), found=found))
        return options


class MultipleQuestion(_QuestionBase):
    type: Literal["multiple"]
    options: Annotated[list[OptionSpec], Field(min_length=2)]
    partial_credit: Literal["proportional", "all_or_nothing"] = "proportional"

    @field_validator("options")
    @classmethod
    def _some_correct(cls, options: list[OptionSpec]) -> list[OptionSpec]:
        if not any(option.correct for option in options):
            raise ValueError(message("question.multiple_none"))
        return options


class TrueFalseQuestion(_QuestionBase):
    type: Literal["true_false"]
    answer: bool


class OrderingQuestion(_QuestionBase):
    type: Literal["ordering"]
    items: Annotated[list[OrderItemSpec], Field(min_length=3)]
    partial_credit: Literal["pairs", "all_or_nothing"] = "pairs"


class PhraseRewriteQuestion(_QuestionBase):
    type: Literal["phrase_rewrite"]
    language: Literal["zh-CN", "en-US"]
    habitual: NonBlank
    rubric: Annotated[list[RubricItemSpec], Field(min_length=1)]


class ListenTypeQuestion(_QuestionBase):
    type: Literal["listen_type"]
    language: Literal["zh-CN", "en-US"]
    text: NonBlank
    min_accuracy: Share = 0.9
    min_cpm: Annotated[float, Field(ge=0)] = 50


Question = Annotated[
    Union[
        SingleQuestion,
        MultipleQuestion,
        TrueFalseQuestion,
        OrderingQuestion,
        PhraseRewriteQuestion,
        ListenTypeQuestion,
    ],
    Field(discriminator="type"),
]


class DrawRule(Strict):
    tags: list[Ident] = []  # empty: draw from every question not yet drawn
    count: Annotated[int, Field(gt=0)]


class ExamSpec(Strict):
    slug: Slug
    kind: Literal["quiz", "certification"]
    title: LText
    description: LText | None = None
    pass_mark: Percent
    time_limit_minutes: Annotated[int, Field(gt=0)]
    draw: list[DrawRule] | None = None
    shuffle_questions: bool
    shuffle_options: bool
    attempts_allowed: Annotated[int, Field(ge=0)]  # 0 = unlimited
    cooldown_minutes: Annotated[int, Field(ge=0)]
    show_answers: bool
    questions: Annotated[list[Question], Field(min_length=1)]


# --- role-play scenarios ---------------------------------------------------


class Persona(Strict):
    name: NonBlank
    gender: Literal["male", "female"]
    temperament: LText


class AngerStep(Strict):
    deescalate: int = -15
    stay: int = 5
    escalate: int = 20


class Thresholds(Strict):
    good: Share = 0.7
    poor: Share = 0.4

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.poor >= self.good:
            raise ValueError(message("thresholds.order", poor=self.poor, good=self.good))
        return self


class GreetingRule(Strict):
    points: Annotated[float, Field(ge=0)] = 2


class ClosingRule(Strict):
    points: Annotated[float, Field(ge=0)] = 2


class RingsRule(Strict):
    rings: Annotated[int, Field(ge=1)] = 3
    points: Annotated[float, Field(ge=0)] = 1


class CallRules(Strict):
    greeting: GreetingRule = GreetingRule()
    closing: ClosingRule = ClosingRule()
    answer_within_rings: RingsRule = RingsRule()


class DeliveryRule(Strict):
    points: Annotated[float, Field(ge=0)] = 3


class Transitions(Strict):
    # Targets are node ids or end:*; checked against the node set in checks.py.
    deescalate: NonBlank
    stay: NonBlank
    escalate: NonBlank

    def items(self) -> list[tuple[str, str]]:
        return [(outcome, getattr(self, outcome)) for outcome in OUTCOMES]


class NodeSpec(Strict):
    line: NonBlank
    anger: Annotated[int, Field(ge=0, le=100)]
    rubric: Annotated[list[RubricItemSpec], Field(min_length=1)]
    next: Transitions


class ScenarioSpec(Strict):
    slug: Slug
    language: Literal["zh-CN", "en-US", "ko-KR"]
    title: LText
    difficulty: Annotated[int, Field(ge=1, le=3)]
    persona: Persona
    case_facts: LText
    starting_anger: Annotated[int, Field(ge=0, le=100)]
    pass_mark: Percent
    anger_step: AngerStep = AngerStep()
    thresholds: Thresholds = Thresholds()
    hangup_after_poor: Annotated[int, Field(ge=1)] = 2
    call_rules: CallRules = CallRules()
    delivery: DeliveryRule = DeliveryRule()
    # What this case's facts forbid on every reply (promises beyond the agent's authority…),
    # checked with the library's whole forbidden catalogue.
    forbidden: list[RubricItemSpec] = []
    start: Ident
    nodes: dict[Ident, NodeSpec]


# --- shared libraries ------------------------------------------------------


class LibraryPhrases(Strict):
    phrases: list[NonBlank] = []
    elements: list[ElementGroup] = []
    patterns: list[NonBlank] = []
    slots: dict[Ident, list[NonBlank]] = {}

    @model_validator(mode="after")
    def _not_empty(self) -> LibraryPhrases:
        if not self.phrases and not self.elements and not self.patterns:
            raise ValueError(message("library.nothing_to_match"))
        return self


class LibraryEntry(Strict):
    label: LText | None = None          # what the rule is called in reports, per UI language
    judgement: Literal["responds", "advances"] | None = None
    explanation: LText
    zh_CN: LibraryPhrases | None = Field(default=None, alias="zh-CN")
    en_US: LibraryPhrases | None = Field(default=None, alias="en-US")
    ko_KR: LibraryPhrases | None = Field(default=None, alias="ko-KR")

    def for_language(self, language: str) -> LibraryPhrases | None:
        return {"zh-CN": self.zh_CN, "en-US": self.en_US, "ko-KR": self.ko_KR}[language]

    def languages(self) -> list[str]:
        return [language for language in SPEECH_LANGUAGES if self.for_language(language) is not None]


class LibrarySpec(Strict):
    intents: dict[LibraryName, LibraryEntry]
    forbidden: dict[LibraryName, LibraryEntry]


REQUIRED_INTENTS = (
    "greeting",
    "closing",
    "acknowledge_feeling",
    "apologise",
    "next_step",
    "confirm_details",
    "thank_patience",
)
REQUIRED_FORBIDDEN = (
    "blame_caller",
    "you_must",
    "cite_policy",
    "cannot_help",
    "hollow_listening",
    "demand_apology",
    "blame_other_department",
)


class PhrasePair(Strict):
    id: Ident
    language: Literal["zh-CN", "en-US", "ko-KR"]
    habitual: Annotated[list[NonBlank], Field(min_length=1)]
    professional: NonBlank
    note: LText | None = None


class PhrasebookSpec(Strict):
    pairs: list[PhrasePair]


# --- certification ---------------------------------------------------------


class CoursesCompleted(Strict):
    kind: Literal["courses_completed"]
    courses: Annotated[list[Slug], Field(min_length=1)]


class ExamPassed(Strict):
    kind: Literal["exam_passed"]
    exam: Slug
    min_score: Percent | None = None  # None: the exam's own pass_mark


class RoleplayPasses(Strict):
    kind: Literal["roleplay_passes"]
    count: Annotated[int, Field(ge=1)]
    min_difficulty: Annotated[int, Field(ge=1, le=3)] = 1
    voice_only: bool = False
    # Where the server cannot grade a call's language by voice (no speech model for it), what may
    # stand in for a voice pass: "typed_signoff" = a passed typed call a trainer signed off.
    voice_substitute: Literal["typed_signoff"] | None = None
    min_average: Percent | None = None
    window_days: Annotated[int, Field(ge=1)] | None = None  # None: all time


class ListenTypeRequirement(Strict):
    kind: Literal["listen_type"]
    min_cpm: Annotated[float, Field(ge=0)]
    min_accuracy: Share


class TrainerSignoff(Strict):
    kind: Literal["trainer_signoff"]


Requirement = Annotated[
    Union[CoursesCompleted, ExamPassed, RoleplayPasses, ListenTypeRequirement, TrainerSignoff],
    Field(discriminator="kind"),
]


class LevelSpec(Strict):
    level: Literal["trainee", "agent", "senior", "expert"]
    requirements: list[Requirement] = []


class CertificationSpec(Strict):
    version: Annotated[int, Field(ge=1)]
    approval: Literal["auto", "hr"]
    expiry_months: Annotated[int, Field(ge=1)]
    levels: list[LevelSpec]

    @field_validator("levels")
    @classmethod
    def _levels_in_order(cls, levels: list[LevelSpec]) -> list[LevelSpec]:
        found = tuple(level.level for level in levels)
        if found != CERT_LEVELS:
            raise ValueError(message("certification.levels", found=", ".join(found) or "empty",
                                     expected=", ".join(CERT_LEVELS)))
        if levels[0].requirements:
            raise ValueError(message("certification.trainee_requirements"))
        return levels
