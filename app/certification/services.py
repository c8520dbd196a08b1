"""Certification records: requirement versions, evaluation, certificates, sign-offs, the audit log.

Evidence comes from the other domains' services (courses, exams, role-plays) and is turned
into a plain :class:`rules.Evidence` snapshot; :func:`rules.evaluate` decides. A certificate
keeps the requirement version and the evidence it was granted on; re-syncing a changed
certification file never rewrites it.
"""
from __future__ import annotations

import calendar
import hashlib
import json
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Iterable

from flask import current_app
from flask_login import current_user
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from werkzeug.routing import BuildError

from content_schema import ContentError, ContentValidationError
from content_schema.models import CertificationSpec

from ..accounts.models import User, UserRole

from ..core.clock import utcnow
from ..core.access import AUTHENTICATED, PUBLIC, Role, access_of, has_role
from ..core import events, progress
from ..core.clock import local_datetime
from ..core.csvfile import csv_bytes
from ..extensions import db
from . import chain, rules
from .models import (ACTIVE, EXPIRED, PENDING, REJECTED, REVOKED, SUSPENDED, AuditChain, AuditEntry, Certificate,
                     RequirementVersion, SignOff)

LEVELS = rules.LEVELS
# The level names as printed on a certificate, whatever the UI language.
LEVEL_NAMES = {
    "trainee": ("实习座席", "Trainee"),
    "agent": ("座席", "Agent"),
    "senior": ("高级座席", "Senior agent"),
    "expert": ("专家座席", "Expert agent"),
}
LEVEL_LABELS = {
    "trainee": _l("Trainee"),
    "agent": _l("Agent"),
    "senior": _l("Senior agent"),
    "expert": _l("Expert agent"),
}
STATUS_LABELS = {
    PENDING: _l("awaiting HR approval"),
    ACTIVE: _l("in force"),
    SUSPENDED: _l("suspended"),
    REVOKED: _l("revoked"),
    EXPIRED: _l("expired"),
    REJECTED: _l("rejected"),
}
# For the PDF, which is bilingual whatever the UI language.
STATUS_BILINGUAL = {SUSPENDED: "已暂停 suspended", REVOKED: "已撤销 revoked", EXPIRED: "已过期 expired"}
ACTION_LABELS = {
    "issued": _l("certificate issued"),
    "held_for_approval": _l("held for HR approval"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "suspended": _l("suspended"),
    "reinstated": _l("reinstated"),
    "revoked": _l("revoked"),
    "expired": _l("expired"),
    "signoff_given": _l("trainer sign-off given"),
    "signoff_withdrawn": _l("trainer sign-off withdrawn"),
    "call_signed_off": _l("typed call signed off in place of a voice pass"),
    # Account changes (recorded by account_audit.py, whoever makes them).
    "renamed": _l("name changed"),
    "roles_changed": _l("roles changed"),
    "password_reset": _l("password reset"),
    "password_changed": _l("password changed by the user"),
}
DEFAULT_EXPIRY_MONTHS = 12
EXPIRING_SOON_DAYS = 30
EPOCH = datetime(1970, 1, 1)


class CertificationError(ValueError):
    """A refused certification action; str() is a translated message."""


def level_label(level: str | None) -> str:
    return str(LEVEL_LABELS.get(level or "", level or ""))


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# --- requirement versions (content sync) -----------------------------------------


def _canonical_checksum(spec_json: dict) -> str:
    text = json.dumps(spec_json, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sync_certification(bundle, report) -> None:
    """Store the certification file's version; a changed file under an old version number is an error."""
    certification = bundle.certification
    spec_json = certification.spec.model_dump(mode="json")
    checksum = _canonical_checksum(spec_json)
    labels = {
        "courses": {slug: dict(course.spec.title) for slug, course in bundle.courses.items()},
        "exams": {slug: dict(exam.spec.title) for slug, exam in bundle.exams.items()},
        "scenarios": {slug: dict(scenario.spec.title) for slug, scenario in bundle.scenarios.items()},
    }
    version_number = certification.version
    row = db.session.scalar(select(RequirementVersion).where(RequirementVersion.version == version_number))
    if row is not None and row.checksum != checksum and _stored_checksum(row) != checksum:
        raise ContentValidationError([ContentError(
            certification.source_file, None,
            f"the certification requirements changed but version is still {version_number}: "
            f"bump version (e.g. to {_next_free_version()}); certificates already issued keep the "
            "version they were granted under")])
    if row is None:
        row = RequirementVersion(version=version_number, spec=spec_json, checksum=checksum,
                                 file_checksum=certification.checksum, labels=labels)
        db.session.add(row)
        report.note(f"certification: requirements version {version_number} stored")
    elif row.labels != labels:
        row.labels = labels
    for other in db.session.scalars(select(RequirementVersion).where(RequirementVersion.is_current.is_(True))):
        if other is not row:
            other.is_current = False
    if not row.is_current:
        row.is_current = True
        report.note(f"certification: version {version_number} is now current")
    db.session.flush()


def _stored_checksum(row: RequirementVersion) -> str:
    """The stored spec read with today's schema: a field added later with its default (e.g.
    voice_substitute) is not a change of the rules stored under that version."""
    try:
        return _canonical_checksum(CertificationSpec.model_validate(row.spec).model_dump(mode="json"))
    except ValueError:
        return row.checksum


def _next_free_version() -> int:
    highest = db.session.scalar(select(db.func.max(RequirementVersion.version))) or 0
    return highest + 1


def current_version() -> RequirementVersion | None:
    return db.session.scalar(select(RequirementVersion).where(RequirementVersion.is_current.is_(True)))


def spec_of(version: RequirementVersion) -> CertificationSpec:
    return CertificationSpec.model_validate(version.spec)


def level_spec(spec: CertificationSpec, level: str):
    return next(item for item in spec.levels if item.level == level)


# --- evidence from the other domains ----------------------------------------------


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
    from ..roleplays.services import library_languages as languages
    return list(languages())


def typed_only_languages(voice: frozenset[str] | None = None) -> tuple[str, ...]:
    """Languages of the scenario library that this server cannot grade by voice."""
    voice = voice_languages() if voice is None else voice
    if voice is None:
        return ()
    return tuple(language for language in library_languages() if language not in voice)


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


# --- links to evidence ----------------------------------------------------------------

# Where each kind of evidence (or of missing work) is shown, by endpoint of the owning domain.
EVIDENCE_ENDPOINTS = {
    "course": ("courses.course", "slug"),
    "exam_attempt": ("exams.result", "attempt_id"),
    "listen_type": ("exams.result", "attempt_id"),
    "roleplay_attempt": ("roleplays.report", "attempt_id"),
}


def viewer_may_open(endpoint: str) -> bool:
    """Whether the user of this request may open the endpoint (no links to pages that answer 403)."""
    access = access_of(current_app, endpoint)
    if access is None:
        return False
    if access == PUBLIC:
        return True
    if not current_user.is_authenticated:
        return False
    return access == AUTHENTICATED or has_role(current_user, *access)


def build_path(endpoint: str, *, for_viewer: bool = False, **values) -> str | None:
    """The path of an endpoint when it exists in this app (works without a request).

    for_viewer: only when the current user may open it."""
    if endpoint not in current_app.view_functions:
        return None
    if for_viewer and not viewer_may_open(endpoint):
        return None
    try:
        return current_app.url_map.bind("localhost").build(endpoint, values)
    except BuildError:
        return None


def evidence_href(ref: dict, *, for_viewer: bool = False) -> str | None:
    target = EVIDENCE_ENDPOINTS.get(ref.get("kind"))
    if target is None:
        return None
    endpoint, argument = target
    return build_path(endpoint, for_viewer=for_viewer, **{argument: ref["id"]})


def work_href(requirement: dict) -> str | None:
    """A link to the work that closes an unmet requirement (courses link each missing course instead)."""
    spec = requirement.get("spec", {})
    kind = requirement.get("kind")
    if kind == "exam_passed":
        return build_path("exams.start", for_viewer=True, slug=spec["exam"])
    if kind == "roleplay_passes":
        return build_path("roleplays.index", for_viewer=True)
    if kind == "listen_type":
        exam = requirement.get("exam")  # the level's certification exam holds the listen-and-type tasks
        return build_path("exams.start", for_viewer=True, slug=exam) if exam else None
    return None


def _snapshot(evaluation: rules.LevelEvaluation, version: RequirementVersion, now: datetime,
              voice: frozenset[str] | None = None) -> dict:
    data = evaluation.to_dict()
    for requirement in data["requirements"]:
        for ref in requirement["used"]:
            href = evidence_href(ref)
            if href:
                ref["href"] = href
    snapshot = {"evaluated_at": now.isoformat(), "requirement_version": version.version, "evaluation": data}
    if voice is not None:  # what "cannot be graded by voice" meant when it was granted
        snapshot["voice_languages"] = sorted(voice)
    return snapshot


# --- holding levels ----------------------------------------------------------------


def certificates_of(user_id: int) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user_id)
                                   .order_by(Certificate.created_at, Certificate.id)))


def held_levels(certificates: Iterable[Certificate], now: datetime) -> set[str]:
    return {"trainee"} | {c.level for c in certificates if c.is_valid(now)}


def current_level_of(certificates: Iterable[Certificate], now: datetime) -> str:
    return rules.highest_level(held_levels(certificates, now))


def expire_due(now: datetime | None = None, user_id: int | None = None) -> list[Certificate]:
    """Mark active certificates past their expiry date as expired (with an audit entry each)."""
    now = now or utcnow()
    query = select(Certificate).where(Certificate.status == ACTIVE, Certificate.expires_at.is_not(None),
                                      Certificate.expires_at <= now)
    if user_id is not None:
        query = query.where(Certificate.user_id == user_id)
    expired = list(db.session.scalars(query))
    for certificate in expired:
        certificate.status = EXPIRED
        certificate.status_changed_at = now
        certificate.status_changed_by = None
        _audit("expired", certificate.user_id, None, certificate, now=now)
    if expired:
        db.session.flush()
    return expired


def refresh_expiry(user_id: int | None = None) -> None:
    """Lazy expiry on read: persist any expiry that has come due, then carry on."""
    if expire_due(user_id=user_id):
        db.session.commit()


# --- evaluation and issuing --------------------------------------------------------


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


def reevaluate(user_id: int, now: datetime | None = None) -> list[Certificate]:
    """Evaluate every level above the one held; issue (or hold for approval) what is met."""
    now = now or utcnow()
    user = db.session.execute(select(User).where(User.id == user_id).with_for_update()).scalar_one_or_none()
    if user is None or Role.LEARNER not in user.role_set:
        return []
    version = current_version()
    if version is None:
        return []
    expire_due(now, user_id)
    spec = spec_of(version)
    certificates = certificates_of(user_id)
    held = held_levels(certificates, now)
    evidence = gather_evidence(user_id, spec, now, held)
    created: list[Certificate] = []
    current_index = LEVELS.index(rules.highest_level(held))
    for item in spec.levels[current_index + 1:]:
        evaluation = rules.evaluate(item, evidence, now)
        if not evaluation.met:
            break  # every higher level needs this one first
        certificate = _grant(user, item.level, evaluation, version, spec, certificates, now,
                             evidence.voice_languages)
        if certificate is None:
            break
        created.append(certificate)
        certificates.append(certificate)
        if certificate.status != ACTIVE:
            break  # held for approval: the next level waits for HR
        evidence = replace(evidence, held_levels=evidence.held_levels | {item.level})
    db.session.flush()
    return created


def _grant(user: User, level: str, evaluation: rules.LevelEvaluation, version: RequirementVersion,
           spec: CertificationSpec, certificates: list[Certificate], now: datetime,
           voice: frozenset[str] | None = None) -> Certificate | None:
    same_level = [c for c in certificates if c.level == level]
    if any(c.status in (PENDING, SUSPENDED) for c in same_level):
        return None  # HR decides about the one already there
    key = evaluation.evidence_key()
    if any(c.status in (REVOKED, REJECTED) and c.evidence_key == key for c in same_level):
        return None  # the same evidence was already turned down
    # After a revocation, re-certification at that level always goes through HR.
    needs_hr = spec.approval == "hr" or any(c.status == REVOKED for c in same_level)
    snapshot = _snapshot(evaluation, version, now, voice)
    certificate = Certificate(user_id=user.id, level=level, version_id=version.id,
                              requirement_version=version.version, evidence=snapshot, evidence_key=key,
                              code=secrets.token_urlsafe(16), created_at=now, status_changed_at=now)
    if needs_hr:
        certificate.status = PENDING
    else:
        certificate.status = ACTIVE
        certificate.issued_at = now
        certificate.holder_name = user.name
        certificate.expires_at = add_months(now, spec.expiry_months or DEFAULT_EXPIRY_MONTHS)
    db.session.add(certificate)
    db.session.flush()
    _audit("held_for_approval" if needs_hr else "issued", user.id, None, certificate, evidence=snapshot, now=now)
    return certificate


def reevaluate_safely(user_id: int) -> None:
    """For signal receivers: a certification problem never breaks the sender's request."""
    try:
        with db.session.begin_nested():
            reevaluate(user_id)
    except Exception:  # logged; the learner's work is kept and `flask cert reevaluate` retries
        current_app.logger.exception("certification: re-evaluating user %s failed", user_id)
        return
    db.session.commit()


def _on_evidence_changed(sender, **_details) -> None:
    if isinstance(sender, int):
        reevaluate_safely(sender)


def connect_receivers() -> None:
    for signal in (events.course_completed, events.exam_attempt_graded, events.roleplay_attempt_graded,
                   events.signoff_changed):
        signal.connect(_on_evidence_changed)


# --- HR decisions -----------------------------------------------------------------


def _decide(certificate: Certificate, actor: User, status: str, reason: str | None, now: datetime) -> None:
    certificate.status = status
    certificate.status_reason = reason
    certificate.status_changed_at = now
    certificate.status_changed_by = actor.id


def require_not_own(certificate: Certificate, actor: User) -> None:
    """Separation of duties: HR who also hold a certificate never decide about their own."""
    if certificate.user_id == actor.id:
        raise CertificationError(_l("This is your own certificate: another HR person has to decide on it."))


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise CertificationError(_l("A reason is required."))
    return reason


def approve(certificate: Certificate, actor: User, note: str | None = None, now: datetime | None = None) -> None:
    now = now or utcnow()
    require_not_own(certificate, actor)
    if certificate.status != PENDING:
        raise CertificationError(_l("Only a certificate awaiting approval can be approved."))
    months = spec_of(certificate.version).expiry_months or DEFAULT_EXPIRY_MONTHS
    _decide(certificate, actor, ACTIVE, (note or "").strip() or None, now)
    certificate.issued_at = now
    certificate.holder_name = certificate.holder.name  # issued now: the name as it is today
    certificate.expires_at = add_months(now, months)
    _audit("approved", certificate.user_id, actor.id, certificate, reason=certificate.status_reason,
           evidence=certificate.evidence, now=now)
    db.session.flush()
    reevaluate(certificate.user_id, now)  # the next level may be within reach now
    db.session.commit()


def reject(certificate: Certificate, actor: User, reason: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    require_not_own(certificate, actor)
    reason = _require_reason(reason)
    if certificate.status != PENDING:
        raise CertificationError(_l("Only a certificate awaiting approval can be rejected."))
    _decide(certificate, actor, REJECTED, reason, now)
    _audit("rejected", certificate.user_id, actor.id, certificate, reason=reason, evidence=certificate.evidence,
           now=now)
    db.session.commit()


def suspend(certificate: Certificate, actor: User, reason: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    require_not_own(certificate, actor)
    reason = _require_reason(reason)
    expire_due(now, certificate.user_id)
    if certificate.status != ACTIVE:
        raise CertificationError(_l("Only an active certificate can be suspended."))
    _decide(certificate, actor, SUSPENDED, reason, now)
    _audit("suspended", certificate.user_id, actor.id, certificate, reason=reason, now=now)
    db.session.commit()


def reinstate(certificate: Certificate, actor: User, reason: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    require_not_own(certificate, actor)
    reason = _require_reason(reason)
    if certificate.status != SUSPENDED:
        raise CertificationError(_l("Only a suspended certificate can be reinstated."))
    _decide(certificate, actor, ACTIVE, reason, now)
    _audit("reinstated", certificate.user_id, actor.id, certificate, reason=reason, now=now)
    expire_due(now, certificate.user_id)  # reinstated after its end date: expired at once
    db.session.commit()


def revoke(certificate: Certificate, actor: User, reason: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    require_not_own(certificate, actor)
    reason = _require_reason(reason)
    if certificate.status not in (ACTIVE, SUSPENDED, EXPIRED):
        raise CertificationError(_l("This certificate cannot be revoked."))
    _decide(certificate, actor, REVOKED, reason, now)
    _audit("revoked", certificate.user_id, actor.id, certificate, reason=reason, now=now)
    db.session.commit()


# --- trainer sign-off ---------------------------------------------------------------


def active_signoff(learner_id: int, level: str = "expert") -> SignOff | None:
    return db.session.scalar(select(SignOff).where(SignOff.learner_id == learner_id, SignOff.level == level,
                                                   SignOff.attempt_id.is_(None), SignOff.revoked_at.is_(None))
                             .order_by(SignOff.id.desc()))


def give_signoff(trainer: User, learner: User, note: str = "", level: str = "expert",
                 now: datetime | None = None) -> SignOff:
    now = now or utcnow()
    if learner.id == trainer.id:  # separation of duties: the sign-off is a second person's judgement
        raise CertificationError(_l("You cannot sign yourself off: another trainer has to do it."))
    if Role.LEARNER not in learner.role_set:
        raise CertificationError(_l("Only learners can be signed off."))
    if active_signoff(learner.id, level) is not None:
        raise CertificationError(_l("This learner is already signed off."))
    signoff = SignOff(learner_id=learner.id, trainer_id=trainer.id, level=level, note=(note or "").strip(),
                      created_at=now)
    db.session.add(signoff)
    db.session.flush()
    _audit("signoff_given", learner.id, trainer.id, None, level=level, reason=signoff.note or None,
           evidence={"signoff_id": signoff.id, "trainer": trainer.name}, now=now)
    db.session.commit()
    events.signoff_changed.send(learner.id, level=level, signed_by=trainer.id)
    return signoff


def withdraw_signoff(signoff: SignOff, trainer: User, reason: str = "", now: datetime | None = None) -> None:
    now = now or utcnow()
    if signoff.revoked_at is not None:
        raise CertificationError(_l("This sign-off was already withdrawn."))
    signoff.revoked_at = now
    signoff.revoked_by = trainer.id
    _audit("signoff_withdrawn", signoff.learner_id, trainer.id, None, level=signoff.level,
           reason=(reason or "").strip() or None, evidence={"signoff_id": signoff.id}, now=now)
    db.session.commit()
    events.signoff_changed.send(signoff.learner_id, level=signoff.level, signed_by=None)


# --- a typed call signed off in place of a voice pass ---------------------------------------


def call_facts(attempt_id: int) -> dict | None:
    from ..roleplays.services import call_facts as facts
    return facts(attempt_id)


def substitute_levels(spec: CertificationSpec) -> list[str]:
    """Levels whose voice-only role-play requirement accepts a signed-off typed call."""
    return [level.level for level in spec.levels
            if any(r.kind == "roleplay_passes" and r.voice_only and r.voice_substitute == "typed_signoff"
                   for r in level.requirements)]


def voice_only_levels(spec: CertificationSpec) -> list[str]:
    return [level.level for level in spec.levels
            if any(r.kind == "roleplay_passes" and r.voice_only for r in level.requirements)]


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


def sign_off_call(trainer: User, attempt_id: int, note: str = "", now: datetime | None = None) -> SignOff:
    """A trainer states that this passed typed call stands in for a voice pass (where the server cannot
    grade its language by voice). Recorded in the audit log like every other certification evidence."""
    now = now or utcnow()
    facts = call_facts(attempt_id)
    refusal = call_signoff_refusal(facts, trainer)
    if refusal is not None:
        raise CertificationError(refusal)
    if call_signoff(attempt_id) is not None:
        raise CertificationError(_l("This call is already signed off."))
    learner = db.session.get(User, facts["user_id"])
    certificates = certificates_of(learner.id)
    level = rules.next_level(current_level_of(certificates, now)) or LEVELS[-1]
    signoff = SignOff(learner_id=learner.id, trainer_id=trainer.id, level=level, attempt_id=attempt_id,
                      note=(note or "").strip(), created_at=now)
    db.session.add(signoff)
    db.session.flush()
    _audit("call_signed_off", learner.id, trainer.id, None, level=level, reason=signoff.note or None,
           evidence={"signoff_id": signoff.id, "attempt_id": attempt_id, "trainer": trainer.name,
                     "scenario": facts["scenario_slug"], "score": facts["score"], "mode": facts["mode"],
                     "language": facts["language"], "voice_languages": sorted(voice_languages() or ())},
           now=now)
    db.session.commit()
    events.signoff_changed.send(learner.id, level=level, signed_by=trainer.id)
    return signoff


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


def typed_call_notices(language: str) -> list[Any]:
    """Told to trainees up front (brief, scenario library, 我的认证): whether a typed call in this language
    counts for certification, and what it needs to count."""
    version = current_version()
    if version is None:
        return []
    spec = spec_of(version)
    voice_only = voice_only_levels(spec)
    if not voice_only:
        return []
    substitutes = substitute_levels(spec)
    voice = voice_languages()
    if voice is not None and language not in voice and substitutes:
        notices = [_l("This server cannot grade %(language)s calls by voice yet: a passed typed call counts "
                      "towards %(levels)s certification only after a trainer signs it off.",
                      language=language_label(language), levels=_levels_text(substitutes))]
        others = [level for level in voice_only if level not in substitutes]
        if others:
            notices.append(_l("Typed calls do not count towards %(levels)s certification.",
                              levels=_levels_text(others)))
        return notices
    if voice is not None and language not in voice:
        return [_l("This server cannot grade %(language)s calls by voice: typed calls do not count towards "
                   "%(levels)s certification.", language=language_label(language), levels=_levels_text(voice_only))]
    return [_l("Only calls answered by voice count towards %(levels)s certification; a typed call is practice.",
               levels=_levels_text(voice_only))]


LANGUAGE_LABELS = {"zh-CN": _l("Mandarin"), "en-US": _l("English"), "ko-KR": _l("Korean")}


def language_label(language: str) -> str:
    return str(LANGUAGE_LABELS.get(language, language))


def _levels_text(levels: list[str]) -> str:
    return "、".join(level_label(level) for level in levels) if chinese_ui() else \
        ", ".join(level_label(level) for level in levels)


def chinese_ui() -> bool:
    from flask_babel import get_locale
    locale = get_locale()
    return locale is not None and locale.language == "zh"


# --- audit log ------------------------------------------------------------------------


def _audit(action: str, subject_id: int, actor_id: int | None, certificate: Certificate | None, *,
           level: str | None = None, reason: str | None = None, evidence: dict | None = None,
           now: datetime | None = None) -> AuditEntry:
    entry = AuditEntry(action=action, subject_id=subject_id, actor_id=actor_id,
                       certificate_id=certificate.id if certificate is not None else None,
                       level=level or (certificate.level if certificate is not None else None),
                       reason=reason, evidence=evidence, created_at=now or utcnow())
    db.session.add(entry)
    if certificate is not None:  # told to the holder and HR by app.notifications (no commit there)
        names = LEVEL_NAMES.get(certificate.level)
        events.certificate_decided.send(subject_id, action=action, certificate_id=certificate.id,
                                        level=certificate.level,
                                        level_names={"zh-CN": names[0], "en": names[1]} if names else None)
    return entry


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


def learners(query: str = "", cohort: str = "") -> list[User]:
    statement = select(User).join(UserRole).where(UserRole.role == Role.LEARNER.value).order_by(User.name)
    if cohort:
        statement = statement.where(User.cohort == cohort)
    if query:
        like = f"%{query.strip().lower()}%"
        statement = statement.where(or_(db.func.lower(User.name).like(like), db.func.lower(User.username).like(like),
                                        db.func.lower(User.cohort).like(like)))
    return list(db.session.scalars(statement).unique())


def cohorts() -> list[str]:
    return sorted(c for c in db.session.scalars(
        select(User.cohort).join(UserRole).where(UserRole.role == Role.LEARNER.value).distinct()) if c)


def roster(*, query: str = "", cohort: str = "", level: str = "", status: str = "", expiring: bool = False,
           now: datetime | None = None) -> list[RosterRow]:
    now = now or utcnow()
    people = learners(query, cohort)
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
        row = RosterRow(person, current_level, certificates, current,
                        [c for c in certificates if c.status == PENDING], is_expiring)
        if level and row.level != level:
            continue
        if status and not any(c.status == status for c in certificates):
            continue
        if expiring and not is_expiring:
            continue
        rows.append(row)
    return rows


def expiring_certificates(days: int = EXPIRING_SOON_DAYS, now: datetime | None = None) -> list[Certificate]:
    now = now or utcnow()
    return list(db.session.scalars(
        select(Certificate).where(Certificate.status == ACTIVE, Certificate.expires_at > now,
                                  Certificate.expires_at <= now + timedelta(days=days))
        .order_by(Certificate.expires_at)))


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


def pass_rates(rows: list[RosterRow], now: datetime | None = None) -> list[CohortRates]:
    """Per cohort: certification exam and role-play call pass rates (graded certification-exam attempts and finished calls, with their passes), read
    for all the rows at once through app.core.progress (not a query per learner)."""
    now = now or utcnow()
    version = current_version()
    exam_slugs: list[str] = []
    if version is not None:
        exam_slugs = sorted({r.exam for level in spec_of(version).levels for r in level.requirements
                             if r.kind == "exam_passed"})
    ids = [row.user.id for row in rows]
    exams, drills = progress.exam_progress(ids), progress.drill_progress(ids)
    by_cohort: dict[str, CohortRates] = {}
    for row in rows:
        name = row.user.cohort or ""
        rates = by_cohort.setdefault(name, CohortRates(name, 0))
        rates.people += 1
        for slug in exam_slugs:
            attempted, passed = exams[row.user.id].graded.get(slug, (0, 0))
            rates.exam_attempted += attempted
            rates.exam_passed += passed
        rates.roleplay_attempted += drills[row.user.id].finished
        rates.roleplay_passed += len(drills[row.user.id].passes)
    return [by_cohort[name] for name in sorted(by_cohort)]


# --- exports ----------------------------------------------------------------------------


def _csv_bytes(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    return csv_bytes(header, rows)  # formula-escaped cells, UTF-8 with a BOM for Excel


def _when(moment: datetime | None) -> str:
    return local_datetime(moment, missing="")


# format=machine: these English snake_case headings and raw values, for integrations; columns are only
# ever added at the end. Times in the configured TIMEZONE, as on screen.
ROSTER_MACHINE_HEADER = ["username", "name", "cohort", "level", "level_zh", "certificate_status", "issued_at",
                         "expires_at", "requirement_version", "pending_approval", "next_level", "requirements_met",
                         "requirements_total", "last_activity"]


def roster_csv(rows: list[RosterRow], summaries: dict | None = None, *, machine: bool = False) -> bytes:
    """HR's roster as CSV: headings and values in the UI language, or (machine) the fixed header above.

    summaries: user id -> batch.LadderSummary (requirements met, last activity) for these rows."""
    from .batch import LadderSummary
    summaries = summaries or {}
    lines = []
    for row in rows:
        current = row.current
        latest = row.certificates[-1] if row.certificates else None
        shown = current or latest
        summary = summaries.get(row.user.id) or LadderSummary(row.level, rules.next_level(row.level), 0, 0, current)
        if machine:
            lines.append([row.user.username, row.user.name, row.user.cohort, row.level, LEVEL_NAMES[row.level][0],
                          shown.status if shown else "",
                          _when(current.issued_at) if current else "", _when(current.expires_at) if current else "",
                          current.requirement_version if current else "",
                          ",".join(c.level for c in row.pending), summary.next_level or "",
                          summary.met if summary.total else "", summary.total or "", _when(summary.last_activity)])
        else:
            lines.append([row.user.name, row.user.username, row.user.cohort, level_label(row.level),
                          str(STATUS_LABELS[shown.status]) if shown else "",
                          _when(current.issued_at) if current else "", _when(current.expires_at) if current else "",
                          current.requirement_version if current else "",
                          "、".join(level_label(c.level) for c in row.pending),
                          level_label(summary.next_level) if summary.next_level else "",
                          requirements_text(summary), _when(summary.last_activity)])
    if machine:
        return _csv_bytes(ROSTER_MACHINE_HEADER, lines)
    header = [_l("Name"), _l("Username"), _l("Cohort"), _l("Level"), _l("Certificate status"), _l("Issued"),
              _l("Valid until"), _l("Requirements version"), _l("Awaiting approval"), _l("Next level"),
              _l("Requirements met"), _l("Last activity")]
    return _csv_bytes([str(title) for title in header], lines)


def requirements_text(summary) -> str:
    """"3 of 5" toward the next level (never "3/5", which a spreadsheet reads as a date); "" at the top."""
    return str(_l("%(met)s of %(total)s", met=summary.met, total=summary.total)) if summary.total else ""


def audit_csv(entries: list[AuditEntry]) -> bytes:
    header = ["time", "actor", "subject_username", "subject_name", "action", "level", "certificate_id", "reason",
              "evidence"]
    lines = [[_when(e.created_at), e.actor.username if e.actor else "system", e.subject.username, e.subject.name,
              e.action, e.level, e.certificate_id, e.reason,
              json.dumps(e.evidence, ensure_ascii=False, sort_keys=True) if e.evidence else ""]
             for e in entries]
    return _csv_bytes(header, lines)


# --- verification and status ----------------------------------------------------------------


def find_by_code(code: str) -> Certificate | None:
    """A certificate that was issued (pending or rejected ones are not certificates yet)."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
    if certificate is None or certificate.issued_at is None:
        return None
    refresh_expiry(certificate.user_id)
    return certificate


def status_report(user: User, now: datetime | None = None) -> dict:
    """What `flask cert status` prints: level, next level, each requirement and its evidence."""
    now = now or utcnow()
    expire_due(now, user.id)
    result = standing(user, now)
    data: dict[str, Any] = {
        "username": user.username,
        "name": user.name,
        "current_level": result.current_level,
        "next_level": result.next_level,
        "requirement_version": result.version.version if result.version else None,
        "certificates": [{"id": c.id, "level": c.level, "level_zh": LEVEL_NAMES[c.level][0], "status": c.status,
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
            item = requirement.to_dict()
            for ref in item["used"]:
                href = evidence_href(ref)
                if href:
                    ref["href"] = href
            item["missing"] = [message.english() for message in requirement.missing]
            data["requirements"].append(item)
    return data


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
