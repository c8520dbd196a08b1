"""The certification rule evaluator: pure (no Flask, no database).

``evaluate(level_spec, evidence, now)`` decides whether a snapshot of a learner's
evidence meets one level of ``exams/certification.yaml``. For every requirement it says
whether it is met, how far along the learner is (0..1, for a progress bar), which pieces
of evidence it rests on (ids the app turns into links) and, when it is not met, what is
missing as translatable messages (English msgids with parameters; the app translates
them when it renders).

Pass/fail on a score goes through ``grading.scoring.is_passed``, the one place that
maps a score onto pass or fail.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from content_schema.models import (
    CERT_LEVELS,
    CoursesCompleted,
    ExamPassed,
    LevelSpec,
    ListenTypeRequirement,
    RoleplayPasses,
    TrainerSignoff,
)
from grading.scoring import is_passed

LEVELS = CERT_LEVELS  # ("trainee", "agent", "senior", "expert"), lowest first
VOICE = "voice"


def _(message: str) -> str:
    """Marks a msgid for extraction; the app translates it when rendering."""
    return message


# --- evidence snapshot ------------------------------------------------------


@dataclass(frozen=True)
class ExamResult:
    """A learner's best graded attempt at one exam."""
    attempt_id: int
    score: float
    passed: bool
    graded_at: datetime | None = None


@dataclass(frozen=True)
class RoleplayResult:
    attempt_id: int
    scenario_slug: str
    difficulty: int
    score: float
    passed: bool
    finished_at: datetime
    mode: str = VOICE  # "voice" or a typed mode
    language: str = ""  # the call's language (zh-CN, en-US, ko-KR)


@dataclass(frozen=True)
class ListenTypeResult:
    attempt_id: int
    question_id: str
    accuracy: float  # 0..1
    cpm: float
    graded_at: datetime | None = None


@dataclass(frozen=True)
class SignoffRecord:
    signoff_id: int
    level: str
    trainer_id: int
    trainer_name: str
    created_at: datetime
    revoked_at: datetime | None = None
    attempt_id: int | None = None  # set: the sign-off of one typed call (voice_substitute), not of a level

    def current(self, now: datetime) -> bool:
        return self.created_at <= now and (self.revoked_at is None or self.revoked_at > now)


@dataclass(frozen=True)
class Evidence:
    """Everything the rules look at, as plain values."""
    courses: Mapping[str, datetime] = field(default_factory=dict)  # slug -> completed at
    exams: Mapping[str, ExamResult] = field(default_factory=dict)  # exam slug -> best attempt
    roleplays: Sequence[RoleplayResult] = ()
    listen_type: Sequence[ListenTypeResult] = ()
    signoffs: Sequence[SignoffRecord] = ()
    held_levels: frozenset[str] = frozenset({"trainee"})  # levels validly held right now
    # Languages this server grades by voice when evaluated (None: not known, no substitution).
    voice_languages: frozenset[str] | None = None
    # Languages of the scenario library that cannot be graded by voice here (for the messages).
    typed_only_languages: tuple[str, ...] = ()

    def substitutable(self, result: RoleplayResult) -> bool:
        """A typed call whose language this server cannot grade by voice."""
        return (result.mode != VOICE and self.voice_languages is not None
                and result.language not in self.voice_languages)

    def call_signoff(self, attempt_id: int, now: datetime) -> SignoffRecord | None:
        current = [s for s in self.signoffs if s.attempt_id == attempt_id and s.current(now)]
        return max(current, key=lambda s: (s.created_at, s.signoff_id)) if current else None


# --- results -----------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A translatable message: an English msgid and its %(name)s parameters."""
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"msgid": self.msgid, "params": dict(self.params)}

    def english(self) -> str:
        return self.msgid % dict(self.params) if self.params else self.msgid.replace("%%", "%")


@dataclass(frozen=True)
class EvidenceRef:
    """One piece of evidence a requirement rests on."""
    kind: str  # course | exam_attempt | roleplay_attempt | listen_type | signoff | certificate
    id: Any  # attempt id, course slug, sign-off id, level
    at: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "at": self.at.isoformat() if self.at else None,
                "detail": dict(self.detail)}


@dataclass(frozen=True)
class RequirementResult:
    kind: str  # courses_completed | exam_passed | roleplay_passes | listen_type | trainer_signoff | previous_level
    spec: Mapping[str, Any]  # the requirement as written in the file
    met: bool
    progress: float  # 0..1
    used: tuple[EvidenceRef, ...] = ()
    missing: tuple[Message, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "spec": dict(self.spec), "met": self.met, "progress": round(self.progress, 4),
                "used": [ref.to_dict() for ref in self.used], "missing": [m.to_dict() for m in self.missing]}


@dataclass(frozen=True)
class LevelEvaluation:
    level: str
    requirements: tuple[RequirementResult, ...]

    @property
    def met(self) -> bool:
        return all(requirement.met for requirement in self.requirements)

    @property
    def progress(self) -> float:
        if not self.requirements:
            return 1.0
        return sum(r.progress for r in self.requirements) / len(self.requirements)

    @property
    def evidence_refs(self) -> list[EvidenceRef]:
        return [ref for requirement in self.requirements for ref in requirement.used]

    def evidence_key(self) -> str:
        """A stable fingerprint of the evidence used: equal keys mean the same evidence."""
        keys = sorted(f"{ref.kind}:{ref.id}" for ref in self.evidence_refs if ref.kind != "certificate")
        return "|".join(keys)

    def to_dict(self) -> dict:
        return {"level": self.level, "met": self.met, "progress": round(self.progress, 4),
                "requirements": [r.to_dict() for r in self.requirements]}


# --- evaluation ---------------------------------------------------------------


def previous_level(level: str) -> str | None:
    index = LEVELS.index(level)
    return LEVELS[index - 1] if index > 0 else None


def next_level(level: str) -> str | None:
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def highest_level(levels) -> str:
    held = [level for level in LEVELS if level in set(levels)]
    return held[-1] if held else LEVELS[0]


def evaluate(level_spec: LevelSpec, evidence: Evidence, now: datetime) -> LevelEvaluation:
    """Evaluate one level: holding the previous level, then each requirement of the file."""
    results: list[RequirementResult] = []
    previous = previous_level(level_spec.level)
    if previous is not None:
        results.append(_previous_level(previous, evidence))
    for requirement in level_spec.requirements:
        results.append(_EVALUATORS[type(requirement)](requirement, evidence, now, level_spec.level))
    return LevelEvaluation(level_spec.level, tuple(results))


def _spec(requirement) -> dict:
    return requirement.model_dump(mode="json")


def _below_one(value: float) -> float:
    """Progress of an unmet requirement: never shows a full bar."""
    return max(0.0, min(value, 0.99))


def _previous_level(previous: str, evidence: Evidence) -> RequirementResult:
    spec = {"kind": "previous_level", "level": previous}
    if previous in evidence.held_levels:
        return RequirementResult("previous_level", spec, True, 1.0, (EvidenceRef("certificate", previous),))
    return RequirementResult("previous_level", spec, False, 0.0,
                             missing=(Message(_("Hold the level “%(level)s” first."), {"level": previous}),))


def _courses(requirement: CoursesCompleted, evidence: Evidence, now: datetime, level: str) -> RequirementResult:
    done = [slug for slug in requirement.courses if slug in evidence.courses]
    missing = [slug for slug in requirement.courses if slug not in evidence.courses]
    used = tuple(EvidenceRef("course", slug, evidence.courses[slug]) for slug in done)
    messages = tuple(Message(_("Complete the course “%(course)s”."), {"course": slug}) for slug in missing)
    met = not missing
    progress = 1.0 if met else _below_one(len(done) / len(requirement.courses))
    return RequirementResult("courses_completed", _spec(requirement), met, progress, used, messages)


def _exam(requirement: ExamPassed, evidence: Evidence, now: datetime, level: str) -> RequirementResult:
    best = evidence.exams.get(requirement.exam)
    spec = _spec(requirement)
    if best is None:
        if requirement.min_score is None:
            message = Message(_("Pass the exam “%(exam)s”."), {"exam": requirement.exam})
        else:
            message = Message(_("Pass the exam “%(exam)s” with at least %(min)s%%."),
                              {"exam": requirement.exam, "min": _number(requirement.min_score)})
        return RequirementResult("exam_passed", spec, False, 0.0, missing=(message,))
    if requirement.min_score is None:
        met = bool(best.passed)
        target = None
    else:
        met = is_passed(best.score, requirement.min_score)
        target = requirement.min_score
    ref = EvidenceRef("exam_attempt", best.attempt_id, best.graded_at,
                      {"exam": requirement.exam, "score": best.score, "passed": best.passed})
    if met:
        return RequirementResult("exam_passed", spec, True, 1.0, (ref,))
    if target is None:
        message = Message(_("Your best result in “%(exam)s” is %(score)s%%, not a pass yet."),
                          {"exam": requirement.exam, "score": _number(best.score)})
        progress = 0.5
    else:
        message = Message(_("Your best result in “%(exam)s” is %(score)s%%; %(min)s%% is needed."),
                          {"exam": requirement.exam, "score": _number(best.score), "min": _number(target)})
        progress = best.score / target if target else 0.0
    return RequirementResult("exam_passed", spec, False, _below_one(progress), (ref,), (message,))


def _roleplays(requirement: RoleplayPasses, evidence: Evidence, now: datetime, level: str) -> RequirementResult:
    since = now - timedelta(days=requirement.window_days) if requirement.window_days else None
    substitute = requirement.voice_only and requirement.voice_substitute == "typed_signoff"
    eligible = [
        result for result in evidence.roleplays
        if result.passed
        and result.difficulty >= requirement.min_difficulty
        and (since is None or since <= result.finished_at <= now)
    ]
    signoffs: dict[int, SignoffRecord] = {}
    awaiting: list[RoleplayResult] = []  # typed passes that count once a trainer signs them off
    qualifying = []
    for result in eligible:
        if not requirement.voice_only or result.mode == VOICE:
            qualifying.append(result)
        elif substitute and evidence.substitutable(result):
            signoff = evidence.call_signoff(result.attempt_id, now)
            if signoff is None:
                awaiting.append(result)
            else:
                signoffs[result.attempt_id] = signoff
                qualifying.append(result)
    # The best passes count: highest score first, the most recent first among equals.
    qualifying.sort(key=lambda r: (-r.score, -r.finished_at.timestamp(), r.attempt_id))
    counted = qualifying[:requirement.count]

    def ref(r: RoleplayResult) -> EvidenceRef:
        detail = {"scenario": r.scenario_slug, "difficulty": r.difficulty, "score": r.score, "mode": r.mode}
        if r.language:
            detail["language"] = r.language
        if r.attempt_id in signoffs:  # a typed pass standing in for a voice pass: who signed it off
            signoff = signoffs[r.attempt_id]
            detail.update(substitute="typed_signoff", signoff_id=signoff.signoff_id,
                          trainer_id=signoff.trainer_id, trainer=signoff.trainer_name)
        return EvidenceRef("roleplay_attempt", r.attempt_id, r.finished_at, detail)

    used = tuple(ref(r) for r in counted)
    spec = _spec(requirement)
    messages: list[Message] = []
    if len(counted) < requirement.count:
        more = requirement.count - len(counted)
        params = {"more": more, "difficulty": requirement.min_difficulty, "days": requirement.window_days}
        if requirement.voice_only and requirement.window_days:
            msgid = _("Pass %(more)s more voice role-plays at difficulty %(difficulty)s or higher "
                      "(only the last %(days)s days count).")
        elif requirement.voice_only:
            msgid = _("Pass %(more)s more voice role-plays at difficulty %(difficulty)s or higher.")
        elif requirement.window_days:
            msgid = _("Pass %(more)s more role-plays at difficulty %(difficulty)s or higher "
                      "(only the last %(days)s days count).")
        else:
            msgid = _("Pass %(more)s more role-plays at difficulty %(difficulty)s or higher.")
        messages.append(Message(msgid, params))
        if substitute and evidence.typed_only_languages:
            messages.append(Message(_("This server cannot grade %(languages)s calls by voice yet: a passed typed "
                                      "call in that language counts only after a trainer signs it off."),
                                    {"languages": ", ".join(evidence.typed_only_languages)}))
        if substitute and awaiting:
            messages.append(Message(_("%(count)s of your typed passes are waiting for a trainer's sign-off."),
                                    {"count": len(awaiting)}))
        return RequirementResult("roleplay_passes", spec, False, _below_one(len(counted) / requirement.count),
                                 used, tuple(messages))
    average = round(sum(r.score for r in counted) / len(counted), 1)
    if requirement.min_average is not None and not is_passed(average, requirement.min_average):
        messages.append(Message(_("The average score of your best %(count)s passes is %(average)s; "
                                  "%(min)s is needed."),
                                {"count": requirement.count, "average": _number(average),
                                 "min": _number(requirement.min_average)}))
        return RequirementResult("roleplay_passes", spec, False,
                                 _below_one(average / requirement.min_average), used, tuple(messages))
    return RequirementResult("roleplay_passes", spec, True, 1.0, used)


def _listen_type(requirement: ListenTypeRequirement, evidence: Evidence, now: datetime, level: str) -> RequirementResult:
    spec = _spec(requirement)

    def good(result: ListenTypeResult) -> bool:
        return is_passed(result.cpm, requirement.min_cpm) and is_passed(result.accuracy, requirement.min_accuracy)

    passing = [result for result in evidence.listen_type if good(result)]
    if passing:
        best = max(passing, key=lambda r: (r.graded_at or datetime.min, r.attempt_id))
        ref = EvidenceRef("listen_type", best.attempt_id, best.graded_at,
                          {"question": best.question_id, "cpm": round(best.cpm, 1),
                           "accuracy": round(best.accuracy, 4)})
        return RequirementResult("listen_type", spec, True, 1.0, (ref,))
    need = Message(_("Type what you hear at %(cpm)s characters per minute or faster with at least "
                     "%(accuracy)s%% accuracy."),
                   {"cpm": _number(requirement.min_cpm), "accuracy": _number(requirement.min_accuracy * 100)})
    if not evidence.listen_type:
        return RequirementResult("listen_type", spec, False, 0.0, missing=(need,))

    def closeness(result: ListenTypeResult) -> float:
        speed = result.cpm / requirement.min_cpm if requirement.min_cpm else 1.0
        accuracy = result.accuracy / requirement.min_accuracy if requirement.min_accuracy else 1.0
        return min(speed, 1.0) * 0.5 + min(accuracy, 1.0) * 0.5

    best = max(evidence.listen_type, key=closeness)
    ref = EvidenceRef("listen_type", best.attempt_id, best.graded_at,
                      {"question": best.question_id, "cpm": round(best.cpm, 1), "accuracy": round(best.accuracy, 4)})
    so_far = Message(_("Your closest so far: %(cpm)s characters per minute at %(accuracy)s%% accuracy."),
                     {"cpm": _number(best.cpm), "accuracy": _number(best.accuracy * 100)})
    return RequirementResult("listen_type", spec, False, _below_one(closeness(best)), (ref,), (need, so_far))


def _signoff(requirement: TrainerSignoff, evidence: Evidence, now: datetime, level: str) -> RequirementResult:
    spec = _spec(requirement)
    current = [s for s in evidence.signoffs if s.attempt_id is None and s.level == level and s.current(now)]
    if current:
        latest = max(current, key=lambda s: (s.created_at, s.signoff_id))
        ref = EvidenceRef("signoff", latest.signoff_id, latest.created_at,
                          {"trainer_id": latest.trainer_id, "trainer": latest.trainer_name})
        return RequirementResult("trainer_signoff", spec, True, 1.0, (ref,))
    return RequirementResult("trainer_signoff", spec, False, 0.0,
                             missing=(Message(_("A trainer's sign-off is needed.")),))


_EVALUATORS = {
    CoursesCompleted: _courses,
    ExamPassed: _exam,
    RoleplayPasses: _roleplays,
    ListenTypeRequirement: _listen_type,
    TrainerSignoff: _signoff,
}


def _number(value: float) -> str:
    """70.0 -> "70", 72.5 -> "72.5": how scores read in messages."""
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, datetimes and mappings as JSON-ready values."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return to_jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    return value
