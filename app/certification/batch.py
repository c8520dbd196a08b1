"""Where many learners stand on the ladder at once, for lists (the team gradebook, HR's roster).

The same rules as :func:`queries.standing` (rules.evaluate on a rules.Evidence snapshot), but the
evidence of every learner comes from app.core.progress in one batch, with certificates and
sign-offs read for all of them together: a fixed number of queries for 5 or 5,000 learners.
Read-only: nothing is issued or expired here (a GET must not write); a certificate past its end
date simply does not count as held, exactly as ``Certificate.is_valid`` says.

tests/app/team/test_gradebook.py (test_ladder_in_the_gradebook_matches_the_certification_page) checks that
it agrees with queries.standing learner by learner.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import load_only

from ..accounts.models import User

from ..core.clock import utcnow
from ..core import progress
from ..extensions import db
from . import rules
from .evidence_sources import EPOCH, typed_only_languages, voice_languages
from .queries import held_levels
from .requirements import current_version, spec_of
from .models import Certificate, SignOff


@dataclass(frozen=True)
class LadderSummary:
    level: str  # the highest level validly held ("trainee" at least)
    next_level: str | None  # None at the top of the ladder
    met: int  # requirements of the next level met (the previous level counts as one)
    total: int  # requirements of the next level; 0 without a next level or without requirements on file
    certificate: Certificate | None  # the valid certificate of the current level
    last_activity: datetime | None = None  # the latest lesson, exam or drill activity


def _certificates(user_ids: list[int]) -> dict[int, list[Certificate]]:
    found: dict[int, list[Certificate]] = defaultdict(list)
    if user_ids:
        # Not the evidence snapshots (large JSON): only what says which level is held, and until when.
        columns = load_only(Certificate.id, Certificate.user_id, Certificate.level, Certificate.status,
                            Certificate.expires_at, Certificate.issued_at, Certificate.created_at)
        for certificate in db.session.scalars(select(Certificate).options(columns)
                                              .where(Certificate.user_id.in_(user_ids))
                                              .order_by(Certificate.created_at, Certificate.id)):
            found[certificate.user_id].append(certificate)
    return found


def _signoffs(user_ids: list[int]) -> dict[int, list[rules.SignoffRecord]]:
    found: dict[int, list[rules.SignoffRecord]] = defaultdict(list)
    if user_ids:
        rows = db.session.execute(
            select(SignOff.id, SignOff.learner_id, SignOff.level, SignOff.trainer_id, User.name, SignOff.created_at,
                   SignOff.revoked_at, SignOff.attempt_id)
            .join(User, SignOff.trainer_id == User.id)
            .where(SignOff.learner_id.in_(user_ids)).order_by(SignOff.id))
        for signoff_id, learner_id, level, trainer_id, trainer_name, created_at, revoked_at, attempt_id in rows:
            found[learner_id].append(rules.SignoffRecord(signoff_id, level, trainer_id, trainer_name, created_at,
                                                         revoked_at, attempt_id))
    return found


def ladder_summaries(user_ids: Iterable[int], now: datetime | None = None, *,
                     courses: Mapping[int, progress.CourseProgress] | None = None,
                     exams: Mapping[int, progress.ExamProgress] | None = None,
                     drills: Mapping[int, progress.DrillProgress] | None = None) -> dict[int, LadderSummary]:
    """Every learner's level and how many requirements of the next level they meet.

    courses/exams/drills: the app.core.progress values of these learners when the caller already
    has them (the gradebook), so they are not read twice."""
    now = now or utcnow()
    ids = sorted({int(user_id) for user_id in user_ids})
    courses = courses if courses is not None else progress.course_progress(ids)
    exams = exams if exams is not None else progress.exam_progress(ids)
    drills = drills if drills is not None else progress.drill_progress(ids)
    certificates = _certificates(ids)
    version = current_version()
    spec = spec_of(version) if version is not None else None
    summaries: dict[int, LadderSummary] = {}

    def latest(user_id: int) -> datetime | None:
        return progress.last_activity(courses[user_id].last_activity, exams[user_id].last_activity,
                                      drills[user_id].last_activity)

    if spec is None:
        for user_id in ids:
            held = held_levels(certificates[user_id], now)
            level = rules.highest_level(held)
            summaries[user_id] = LadderSummary(level, rules.next_level(level), 0, 0,
                                               _current(certificates[user_id], level, now), latest(user_id))
        return summaries
    # As evidence_sources.gather_evidence: which calls and which voice languages the rules look at.
    requirements = [r for level in spec.levels for r in level.requirements]
    exam_slugs = {r.exam for r in requirements if r.kind == "exam_passed"}
    roleplay_rules = [r for r in requirements if r.kind == "roleplay_passes"]
    since = EPOCH
    min_difficulty = 0
    substitutes = any(r.voice_only and r.voice_substitute for r in roleplay_rules) or \
        any(not r.voice_only for r in roleplay_rules)
    modes = ("voice", "typed") if substitutes else ("voice",)
    if roleplay_rules:
        windows = [r.window_days for r in roleplay_rules]
        since = EPOCH if any(w is None for w in windows) else now - timedelta(days=max(windows))
        min_difficulty = min(r.min_difficulty for r in roleplay_rules)
    voice = voice_languages() if substitutes else None
    typed_only = typed_only_languages(voice) if voice is not None else ()
    signoffs = _signoffs(ids)
    for user_id in ids:
        held = held_levels(certificates[user_id], now)
        level = rules.highest_level(held)
        upcoming = rules.next_level(level)
        current = _current(certificates[user_id], level, now)
        level_spec = next((item for item in spec.levels if item.level == upcoming), None) if upcoming else None
        if level_spec is None:
            summaries[user_id] = LadderSummary(level, upcoming, 0, 0, current, latest(user_id))
            continue
        exam = exams[user_id]
        evidence = rules.Evidence(
            courses=dict(courses[user_id].completed),
            exams={slug: rules.ExamResult(best.attempt_id, best.score, best.passed, best.graded_at)
                   for slug, best in exam.best.items() if slug in exam_slugs},
            # evidence_sources.roleplay_evidence: passed calls (voice, and typed where a rule lets a signed-off
            # typed call stand in) at or above the lowest difficulty, in the window.
            roleplays=tuple(rules.RoleplayResult(call.attempt_id, call.scenario_slug, call.difficulty, call.score,
                                                 call.passed, call.finished_at, call.mode, call.language)
                            for call in drills[user_id].passes
                            if call.mode in modes and call.difficulty >= min_difficulty
                            and call.finished_at >= since) if roleplay_rules else (),
            listen_type=tuple(rules.ListenTypeResult(answer.attempt_id, str(answer.question_id), answer.accuracy,
                                                     answer.cpm, answer.graded_at) for answer in exam.listen_type),
            signoffs=tuple(signoffs[user_id]),
            held_levels=frozenset(held) | {"trainee"},
            voice_languages=voice,
            typed_only_languages=typed_only,
        )
        evaluation = rules.evaluate(level_spec, evidence, now)
        summaries[user_id] = LadderSummary(level, upcoming, sum(1 for r in evaluation.requirements if r.met),
                                           len(evaluation.requirements), current, latest(user_id))
    return summaries


def _current(certificates: list[Certificate], level: str, now: datetime) -> Certificate | None:
    return next((c for c in reversed(certificates) if c.level == level and c.is_valid(now)), None)
