"""Evidence from the other domains (courses, exams, role-plays through app.core.progress) and the
trainers' sign-offs, turned into a plain :class:`rules.Evidence` snapshot that :func:`rules.evaluate`
decides on. Read only.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from flask import current_app
from sqlalchemy import select

from content_schema.models import CertificationSpec

from ..core import progress
from ..extensions import db
from . import rules
from .models import SignOff

# "Since ever", for role-play rules without a window.
EPOCH = datetime(1970, 1, 1)


def course_evidence(user_id: int) -> dict[str, datetime]:
    return dict(progress.course_progress([user_id])[user_id].completed)


def exam_evidence(user_id: int, exam_slugs: Iterable[str]) -> dict[str, rules.ExamResult]:
    best = progress.exam_progress([user_id])[user_id].best
    return {slug: rules.ExamResult(found.attempt_id, found.score, found.passed, found.graded_at)
            for slug in exam_slugs if (found := best.get(slug)) is not None}


def listen_type_evidence(user_id: int) -> list[rules.ListenTypeResult]:
    return [rules.ListenTypeResult(answer.attempt_id, str(answer.question_id), answer.accuracy, answer.cpm,
                                   answer.graded_at)
            for answer in progress.exam_progress([user_id])[user_id].listen_type]


def roleplay_evidence(user_id: int, *, min_difficulty: int, since: datetime,
                      typed: bool = False) -> list[rules.RoleplayResult]:
    """Passed calls; typed ones too when a rule lets a signed-off typed call stand in for a voice pass."""
    modes = ("voice", "typed") if typed else ("voice",)
    return [rules.RoleplayResult(call.attempt_id, call.scenario_slug, call.difficulty, call.score, call.passed,
                                 call.finished_at, call.mode, call.language)
            for call in progress.drill_progress([user_id])[user_id].passes
            if call.mode in modes and call.difficulty >= min_difficulty and call.finished_at >= since]


def signoff_evidence(user_id: int) -> list[rules.SignoffRecord]:
    rows = db.session.scalars(select(SignOff).where(SignOff.learner_id == user_id).order_by(SignOff.id))
    return [rules.SignoffRecord(row.id, row.level, row.trainer_id, row.trainer.name, row.created_at,
                                row.revoked_at, row.attempt_id) for row in rows]


# --- which languages this server grades by voice (set at init: speechops is another domain) ------

VOICE_LANGUAGES_KEY = "certification_voice_languages"


def register_voice_languages(app, source) -> None:
    """`source()` answers which languages this server can grade by voice (speechops.voice_languages)."""
    app.extensions[VOICE_LANGUAGES_KEY] = source


def voice_languages() -> frozenset[str] | None:
    """The languages graded by voice here, or None when no domain answers (then nothing is substituted)."""
    source = current_app.extensions.get(VOICE_LANGUAGES_KEY)
    return frozenset(source()) if source is not None else None


def library_languages() -> list[str]:
    from ..roleplays.queries import library_languages as languages
    return list(languages())


def typed_only_languages(voice: frozenset[str] | None = None) -> tuple[str, ...]:
    """Languages of the scenario library that this server cannot grade by voice."""
    voice = voice_languages() if voice is None else voice
    if voice is None:
        return ()
    return tuple(language for language in library_languages() if language not in voice)


def call_facts(attempt_id: int) -> dict | None:
    from ..roleplays.queries import call_facts as facts
    return facts(attempt_id)


def gather_evidence(user_id: int, spec: CertificationSpec, now: datetime,
                    held: Iterable[str] = ("trainee",)) -> rules.Evidence:
    requirements = [r for level in spec.levels for r in level.requirements]
    exam_slugs = sorted({r.exam for r in requirements if r.kind == "exam_passed"})
    roleplay_rules = [r for r in requirements if r.kind == "roleplay_passes"]
    roleplays: list[rules.RoleplayResult] = []
    substitutes = any(r.voice_only and r.voice_substitute for r in roleplay_rules) or \
        any(not r.voice_only for r in roleplay_rules)
    if roleplay_rules:
        windows = [r.window_days for r in roleplay_rules]
        since = EPOCH if any(w is None for w in windows) else now - timedelta(days=max(windows))
        roleplays = roleplay_evidence(user_id, min_difficulty=min(r.min_difficulty for r in roleplay_rules),
                                      since=since, typed=substitutes)
    voice = voice_languages() if substitutes else None
    return rules.Evidence(
        courses=course_evidence(user_id),
        exams=exam_evidence(user_id, exam_slugs),
        roleplays=tuple(roleplays),
        listen_type=tuple(listen_type_evidence(user_id)),
        signoffs=tuple(signoff_evidence(user_id)),
        held_levels=frozenset(held) | {"trainee"},
        voice_languages=voice,
        typed_only_languages=typed_only_languages(voice) if voice is not None else (),
    )
