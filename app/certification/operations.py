"""Changing certification records: issuing, storing expiry, HR decisions, trainer sign-offs, each with its
entry in the hash-chained audit log.

Every operation changes state and flushes; those a person starts from a page (HR decisions, sign-offs)
commit, as the signals they send must only go out for what is stored. A refusal is a
:class:`CertificationError` (app.core.errors.UserError): the views flash it and go back.
"""
from __future__ import annotations

import calendar
import secrets
from dataclasses import replace
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from content_schema.models import CertificationSpec

from ..accounts.models import User

from ..core.clock import utcnow
from ..core.access import Role
from ..core.errors import UserError
from ..core import events
from ..extensions import db
from . import rules
from .evidence_sources import call_facts, gather_evidence, voice_languages
from .labels import LEVELS, level_names
from .links import with_hrefs
from .models import (ACTIVE, EXPIRED, PENDING, REJECTED, REVOKED, SUSPENDED, AuditEntry, Certificate,
                     RequirementVersion, SignOff)
from .queries import active_signoff, call_signoff, call_signoff_refusal, certificates_of, current_level_of, \
    held_levels
from .requirements import current_version, spec_of

DEFAULT_EXPIRY_MONTHS = 12


class CertificationError(UserError):
    """A refused certification action: the record is not in a state that allows it."""
    code = "certification_refused"
    status = 409


class NotYourOwn(CertificationError):
    """Separation of duties: a second person has to act on someone's own certificate or call."""
    code = "separation_of_duties"
    status = 403


class ReasonRequired(CertificationError):
    code = "reason_required"
    status = 400


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _audit(action: str, subject_id: int, actor_id: int | None, certificate: Certificate | None, *,
           level: str | None = None, reason: str | None = None, evidence: dict | None = None,
           now: datetime | None = None) -> AuditEntry:
    entry = AuditEntry(action=action, subject_id=subject_id, actor_id=actor_id,
                       certificate_id=certificate.id if certificate is not None else None,
                       level=level or (certificate.level if certificate is not None else None),
                       reason=reason, evidence=evidence, created_at=now or utcnow())
    db.session.add(entry)
    if certificate is not None:  # told to the holder and HR by app.notifications (no commit there)
        events.certificate_decided.send(subject_id, action=action, certificate_id=certificate.id,
                                        level=certificate.level, level_names=level_names(certificate.level))
    return entry


def _snapshot(evaluation: rules.LevelEvaluation, version: RequirementVersion, now: datetime,
              voice: frozenset[str] | None = None) -> dict:
    data = evaluation.to_dict()
    for requirement in data["requirements"]:
        with_hrefs(requirement)
    snapshot = {"evaluated_at": now.isoformat(), "requirement_version": version.version, "evaluation": data}
    if voice is not None:  # what "cannot be graded by voice" meant when it was granted
        snapshot["voice_languages"] = sorted(voice)
    return snapshot


# --- expiry ----------------------------------------------------------------------------


def expire_due(now: datetime | None = None, user_id: int | None = None) -> list[Certificate]:
    """Store "expired" on active certificates past their end date (with an audit entry each).

    Readers already see them as expired (Certificate.status_at); this makes it part of the record.
    Called by `flask cert expire` and by the write paths below, never by a page that only reads."""
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


# --- evaluation and issuing --------------------------------------------------------


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
    """For signal receivers: a certification problem never breaks the sender's request.

    Runs in a savepoint and only flushes: the sender commits what its listeners recorded together
    with its own work, so a certificate exists exactly when the evidence that earned it does."""
    try:
        with db.session.begin_nested():
            reevaluate(user_id)
    except Exception:  # logged; the learner's work is kept and `flask cert reevaluate` retries
        current_app.logger.exception("certification: re-evaluating user %s failed", user_id)


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
        raise NotYourOwn(_l("This is your own certificate: another HR person has to decide on it."))


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(_l("A reason is required."))
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


def give_signoff(trainer: User, learner: User, note: str = "", level: str = "expert",
                 now: datetime | None = None) -> SignOff:
    now = now or utcnow()
    if learner.id == trainer.id:  # separation of duties: the sign-off is a second person's judgement
        raise NotYourOwn(_l("You cannot sign yourself off: another trainer has to do it."))
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
    db.session.flush()
    events.signoff_changed.send(learner.id, level=level, signed_by=trainer.id)
    db.session.commit()
    return signoff


def withdraw_signoff(signoff: SignOff, trainer: User, reason: str = "", now: datetime | None = None) -> None:
    now = now or utcnow()
    if signoff.revoked_at is not None:
        raise CertificationError(_l("This sign-off was already withdrawn."))
    signoff.revoked_at = now
    signoff.revoked_by = trainer.id
    _audit("signoff_withdrawn", signoff.learner_id, trainer.id, None, level=signoff.level,
           reason=(reason or "").strip() or None, evidence={"signoff_id": signoff.id}, now=now)
    db.session.flush()
    events.signoff_changed.send(signoff.learner_id, level=signoff.level, signed_by=None)
    db.session.commit()


def sign_off_call(trainer: User, attempt_id: int, note: str = "", now: datetime | None = None) -> SignOff:
    """A trainer states that this passed typed call stands in for a voice pass (where the server cannot
    grade its language by voice). Recorded in the audit log like every other certification evidence."""
    now = now or utcnow()
    facts = call_facts(attempt_id)
    refusal = call_signoff_refusal(facts, trainer)
    if refusal is not None:
        raise (NotYourOwn if facts is not None and facts["user_id"] == trainer.id else CertificationError)(refusal)
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
    db.session.flush()
    events.signoff_changed.send(learner.id, level=level, signed_by=trainer.id)
    db.session.commit()
    return signoff
