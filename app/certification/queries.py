"""Reading certification records: where a person stands, HR's roster and statistics, the audit trail,
/verify and `flask cert status`, and what a trainer may sign off.

Read only: nothing here adds, changes or commits anything. Time-based states are derived on read
(``Certificate.status_at``: an active certificate past its end date is expired for every reader);
`flask cert expire` and the write paths in operations.py store them with their audit entries.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..accounts.models import User, UserRole

from ..core.clock import utcnow
from ..core.access import Role, has_role
from ..core import progress
from ..extensions import db
from . import chain, rules
from .evidence_sources import call_facts, gather_evidence, voice_languages
from .labels import LEVEL_NAMES, LEVELS
from .links import build_path, with_hrefs
from .models import (ACTIVE, EXPIRED, PENDING, AuditChain, AuditEntry, Certificate, RequirementVersion, SignOff,
                     status_clause)
from .requirements import certification_exams, current_version, spec_of, substitute_levels

EXPIRING_SOON_DAYS = 30


# --- holding levels ----------------------------------------------------------------


def certificates_of(user_id: int) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user_id)
                                   .order_by(Certificate.created_at, Certificate.id)))


def held_levels(certificates: Iterable[Certificate], now: datetime) -> set[str]:
    return {"trainee"} | {c.level for c in certificates if c.is_valid(now)}


def current_level_of(certificates: Iterable[Certificate], now: datetime) -> str:
    return rules.highest_level(held_levels(certificates, now))


@dataclass
class Standing:
    """Where a person stands: current level, the next one and its evaluation."""
    user: User
    version: RequirementVersion | None
    current_level: str
    next_level: str | None
    evaluation: rules.LevelEvaluation | None
    evaluations: dict[str, rules.LevelEvaluation] = field(default_factory=dict)
    certificates: list[Certificate] = field(default_factory=list)


def standing(user: User, now: datetime | None = None) -> Standing:
    now = now or utcnow()
    certificates = certificates_of(user.id)
    held = held_levels(certificates, now)
    level = rules.highest_level(held)
    upcoming = rules.next_level(level)
    version = current_version()
    evaluations: dict[str, rules.LevelEvaluation] = {}
    if version is not None:
        spec = spec_of(version)
        evidence = gather_evidence(user.id, spec, now, held)
        for item in spec.levels[1:]:
            evaluations[item.level] = rules.evaluate(item, evidence, now)
    return Standing(user, version, level, upcoming, evaluations.get(upcoming) if upcoming else None,
                    evaluations, certificates)


# --- the audit log ---------------------------------------------------------------------


def issued_name(certificate: Certificate) -> str:
    """The holder's name as printed when the certificate was issued."""
    return certificate.holder_name or certificate.holder.name


def verify_audit_log() -> chain.Verdict:
    """Recompute the audit log's hash chain (`flask cert audit-verify`)."""
    return chain.verify(db.session.connection(), AuditEntry.__table__, AuditChain.__table__)


def audit_trail(user_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if user_id is not None:
        query = query.where(AuditEntry.subject_id == user_id)
    return list(db.session.scalars(query))


# --- HR views: roster, reminders, statistics -------------------------------------------


@dataclass
class RosterRow:
    user: User
    level: str
    certificates: list[Certificate]
    current: Certificate | None  # the valid certificate of the current level
    pending: list[Certificate]
    expiring: bool
    lapsed: list[Certificate] = field(default_factory=list)  # expired, at a level no longer held: the latest each


def _learners_statement(query: str = "", cohort: str = ""):
    statement = select(User).join(UserRole).where(UserRole.role == Role.LEARNER.value).order_by(User.name)
    if cohort:
        statement = statement.where(User.cohort == cohort)
    if query:
        like = f"%{query.strip().lower()}%"
        statement = statement.where(or_(db.func.lower(User.name).like(like), db.func.lower(User.username).like(like),
                                        db.func.lower(User.cohort).like(like)))
    return statement


def learners(query: str = "", cohort: str = "") -> list[User]:
    return list(db.session.scalars(_learners_statement(query, cohort)).unique())


def cohorts() -> list[str]:
    return sorted(c for c in db.session.scalars(
        select(User.cohort).join(UserRole).where(UserRole.role == Role.LEARNER.value).distinct()) if c)


def roster(*, query: str = "", cohort: str = "", level: str = "", status: str = "", expiring: bool = False,
           now: datetime | None = None) -> list[RosterRow]:
    """status: people with a certificate in that status as every page shows it (status_at), in SQL."""
    now = now or utcnow()
    statement = _learners_statement(query, cohort)
    if status:
        statement = statement.where(User.id.in_(select(Certificate.user_id).where(status_clause(status, now))))
    people = list(db.session.scalars(statement).unique())
    by_user: dict[int, list[Certificate]] = defaultdict(list)
    if people:
        ids = [person.id for person in people]
        for certificate in db.session.scalars(select(Certificate).where(Certificate.user_id.in_(ids))
                                              .order_by(Certificate.created_at, Certificate.id)):
            by_user[certificate.user_id].append(certificate)
    soon = now + timedelta(days=EXPIRING_SOON_DAYS)
    rows = []
    for person in people:
        certificates = by_user[person.id]
        current_level = current_level_of(certificates, now)
        current = next((c for c in reversed(certificates) if c.level == current_level and c.is_valid(now)), None)
        is_expiring = any(c.is_valid(now) and c.expires_at and c.expires_at <= soon for c in certificates)
        held = held_levels(certificates, now)
        lapsed = {c.level: c for c in certificates if c.status_at(now) == EXPIRED and c.level not in held}
        row = RosterRow(person, current_level, certificates, current,
                        [c for c in certificates if c.status == PENDING], is_expiring, list(lapsed.values()))
        if level and row.level != level:
            continue
        if expiring and not is_expiring:
            continue
        rows.append(row)
    return rows


def expiring_statement(days: int = EXPIRING_SOON_DAYS, now: datetime | None = None):
    """Certificates in force that end within ``days`` (not those already past their end)."""
    now = now or utcnow()
    return select(Certificate).where(Certificate.status == ACTIVE, Certificate.expires_at > now,
                                     Certificate.expires_at <= now + timedelta(days=days))


def expiring_certificates(days: int = EXPIRING_SOON_DAYS, now: datetime | None = None) -> list[Certificate]:
    return list(db.session.scalars(expiring_statement(days, now).order_by(Certificate.expires_at)))


def pending_certificates() -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.status == PENDING)
                                   .order_by(Certificate.created_at)))


def level_counts(rows: list[RosterRow]) -> list[tuple[str, int]]:
    counts = Counter(row.level for row in rows)
    return [(level, counts.get(level, 0)) for level in LEVELS]


@dataclass
class CohortRates:
    cohort: str
    people: int
    exam_attempted: int = 0
    exam_passed: int = 0
    roleplay_attempted: int = 0
    roleplay_passed: int = 0

    @property
    def exam_rate(self) -> float | None:
        return self.exam_passed / self.exam_attempted if self.exam_attempted else None

    @property
    def roleplay_rate(self) -> float | None:
        return self.roleplay_passed / self.roleplay_attempted if self.roleplay_attempted else None


def add_pass_counts(rates: Mapping[str, CohortRates], cohort_of: Mapping[int, str]) -> None:
    """Add each cohort's graded certification-exam attempts and finished calls, with their passes, read
    for all these learners at once through app.core.progress (not a query per learner)."""
    version = current_version()
    exam_slugs = certification_exams(spec_of(version)) if version is not None else []
    ids = list(cohort_of)
    exams, drills = progress.exam_progress(ids), progress.drill_progress(ids)
    for user_id, cohort in cohort_of.items():
        line = rates[cohort]
        for slug in exam_slugs:
            attempted, passed = exams[user_id].graded.get(slug, (0, 0))
            line.exam_attempted += attempted
            line.exam_passed += passed
        line.roleplay_attempted += drills[user_id].finished
        line.roleplay_passed += len(drills[user_id].passes)


def pass_rates(rows: list[RosterRow]) -> list[CohortRates]:
    """Per cohort of these rows: certification exam and role-play call pass rates."""
    by_cohort: dict[str, CohortRates] = {}
    cohort_of: dict[int, str] = {}
    for row in rows:
        name = row.user.cohort or ""
        by_cohort.setdefault(name, CohortRates(name, 0)).people += 1
        cohort_of[row.user.id] = name
    add_pass_counts(by_cohort, cohort_of)
    return [by_cohort[name] for name in sorted(by_cohort)]


# --- verification and status ----------------------------------------------------------------


def find_by_code(code: str) -> Certificate | None:
    """A certificate that was issued (pending or rejected ones are not certificates yet)."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
    if certificate is None or certificate.issued_at is None:
        return None
    return certificate


def status_report(user: User, now: datetime | None = None) -> dict:
    """What `flask cert status` prints: level, next level, each requirement and its evidence."""
    now = now or utcnow()
    result = standing(user, now)
    data: dict[str, Any] = {
        "username": user.username,
        "name": user.name,
        "current_level": result.current_level,
        "next_level": result.next_level,
        "requirement_version": result.version.version if result.version else None,
        "certificates": [{"id": c.id, "level": c.level, "level_zh": LEVEL_NAMES[c.level][0],
                          "status": c.status_at(now),
                          "issued_at": _iso(c.issued_at), "expires_at": _iso(c.expires_at),
                          "requirement_version": c.requirement_version,
                          # The public verification code (/verify), once issued; a pending one has none yet.
                          "verification_code": c.code if c.issued_at else None,
                          "verify_path": build_path("certification.verify", code=c.code) if c.issued_at else None}
                         for c in result.certificates],
        "requirements": [],
    }
    if result.evaluation is not None:
        data["next_level_met"] = result.evaluation.met
        for requirement in result.evaluation.requirements:
            item = with_hrefs(requirement.to_dict())
            item["missing"] = [message.english() for message in requirement.missing]
            data["requirements"].append(item)
    return data


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --- trainer sign-offs ------------------------------------------------------------------------


def active_signoff(learner_id: int, level: str = "expert") -> SignOff | None:
    return db.session.scalar(select(SignOff).where(SignOff.learner_id == learner_id, SignOff.level == level,
                                                   SignOff.attempt_id.is_(None), SignOff.revoked_at.is_(None))
                             .order_by(SignOff.id.desc()))


def call_signoff(attempt_id: int) -> SignOff | None:
    return db.session.scalar(select(SignOff).where(SignOff.attempt_id == attempt_id, SignOff.revoked_at.is_(None))
                             .order_by(SignOff.id.desc()))


def call_signoff_refusal(facts: dict | None, trainer: User) -> Any:
    """Why this trainer cannot sign this call off for certification (a translatable message), or None."""
    if facts is None:
        return _l("There is no such call.")
    if facts["user_id"] == trainer.id:  # separation of duties
        return _l("This is your own call: another trainer has to sign it off.")
    if not has_role(trainer, Role.TRAINER):
        return _l("Only trainers sign calls off.")
    if facts["practice"]:
        return _l("This was a trainer's practice call: it counts for nothing.")
    learner = db.session.get(User, facts["user_id"])
    if learner is None or Role.LEARNER not in learner.role_set:
        return _l("Only learners' calls can be signed off.")
    if not facts["ended"] or not facts["passed"]:
        return _l("Only a finished, passed call can be signed off.")
    if facts["mode"] == "voice":
        return _l("This call was answered by voice: it counts without a sign-off.")
    voice = voice_languages()
    if voice is None or facts["language"] in voice:
        return _l("This server grades this language by voice: a typed call does not replace a voice pass.")
    version = current_version()
    if version is None or not substitute_levels(spec_of(version)):
        return _l("The certification rules do not accept signed-off typed calls.")
    return None


@dataclass
class CallSignoffPanel:
    """What the review page of one call shows about signing it off for certification."""
    facts: dict | None
    signoff: SignOff | None
    refusal: Any  # why it cannot be signed off (None: it can)
    own: bool
    levels: list[str]


def call_signoff_panel(attempt_id: int, trainer: User) -> CallSignoffPanel | None:
    """None when the panel has nothing to say (a voice call, or one in a language graded by voice)."""
    facts = call_facts(attempt_id)
    if facts is None or facts["mode"] == "voice" or facts["practice"]:
        return None
    voice = voice_languages()
    if voice is None or facts["language"] in voice:
        return None
    version = current_version()
    levels = substitute_levels(spec_of(version)) if version is not None else []
    if not levels:
        return None
    signoff = call_signoff(attempt_id)
    refusal = None if signoff is not None else call_signoff_refusal(facts, trainer)
    return CallSignoffPanel(facts, signoff, refusal, facts["user_id"] == trainer.id, levels)
