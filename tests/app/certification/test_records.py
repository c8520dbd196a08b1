"""Issuing, approval, expiry and re-certification, suspension and revocation, the audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from app.accounts.models import User

from app.core.clock import utcnow
from app.certification import evidence_sources, operations, queries
from app.certification.models import (ACTIVE, EXPIRED, PENDING, REJECTED, REVOKED, SUSPENDED, AuditEntry,
                                      AuditLogIsAppendOnly, RequirementVersion)
from app.core import events
from app.extensions import db

from tests.support.certification import days, install_spec, months_later, spec_dict


def _user(app, user_id) -> User:
    return db.session.get(User, user_id)


def _certificates(user_id):
    return queries.certificates_of(user_id)


def _actions(user_id):
    return [(e.action, e.level, e.actor_id) for e in reversed(queries.audit_trail(user_id))]


def test_evidence_signal_issues_the_agent_certificate_automatically(app, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner", name="李明")
    now = utcnow()
    evidence.agent(learner.id, now - days(1))
    with app.app_context():
        events.exam_attempt_graded.send(learner.id, attempt_id=1, exam_slug="cert-agent", passed=True, score=80)
        [certificate] = _certificates(learner.id)
        assert certificate.level == "agent" and certificate.status == ACTIVE
        assert certificate.requirement_version == 2
        assert certificate.expires_at == months_later(certificate.issued_at, 12)
        assert len(certificate.code) >= 20
        # The evidence it rests on: every requirement met, with the exact attempts.
        evaluation = certificate.evidence["evaluation"]
        assert evaluation["met"] and evaluation["level"] == "agent"
        used = {(ref["kind"], ref["id"]) for r in evaluation["requirements"] for ref in r["used"]}
        assert ("exam_attempt", 1000) in used and ("course", "call-handling") in used
        assert _actions(learner.id) == [("issued", "agent", None)]
        entry = queries.audit_trail(learner.id)[0]
        assert entry.certificate_id == certificate.id and entry.evidence["evaluation"]["met"]
        assert queries.standing(_user(app, learner.id)).current_level == "agent"
        # Nothing new: evaluating again issues nothing more.
        assert operations.reevaluate(learner.id) == []


def test_missing_evidence_issues_nothing_and_says_what_is_missing(app, make_user, evidence, shipped_rules):
    learner = make_user("wang", "learner")
    now = utcnow()
    evidence.agent(learner.id, now - days(1), exam_score=74.9)
    with app.app_context():
        assert operations.reevaluate(learner.id) == []
        report = queries.status_report(_user(app, learner.id))
        assert report["current_level"] == "trainee" and report["next_level"] == "agent"
        assert report["next_level_met"] is False
        exam = next(r for r in report["requirements"] if r["kind"] == "exam_passed")
        assert not exam["met"] and "74.9%" in exam["missing"][0] and "75%" in exam["missing"][0]


def test_the_ladder_is_climbed_in_one_evaluation_when_everything_is_there(app, make_user, evidence,
                                                                         shipped_rules):
    learner = make_user("zhao", "learner")
    trainer = make_user("coach", "trainer")
    now = utcnow()
    evidence.agent(learner.id, now - days(3))
    evidence.senior(learner.id, now - days(2))
    evidence.expert(learner.id, now - days(1))
    with app.app_context():
        issued = operations.reevaluate(learner.id)
        assert [c.level for c in issued] == ["agent", "senior"]  # expert still lacks the sign-off
        db.session.commit()
        operations.give_signoff(_user(app, trainer.id), _user(app, learner.id), "独立处理投诉电话")
        levels = {c.level: c.status for c in _certificates(learner.id)}
        assert levels == {"agent": ACTIVE, "senior": ACTIVE, "expert": ACTIVE}
        expert = next(c for c in _certificates(learner.id) if c.level == "expert")
        signoff_refs = [ref for r in expert.evidence["evaluation"]["requirements"] for ref in r["used"]
                        if ref["kind"] == "signoff"]
        assert signoff_refs and signoff_refs[0]["detail"]["trainer"] == "Coach"
        actions = [a for a, _level, _who in _actions(learner.id)]
        assert actions == ["issued", "issued", "signoff_given", "issued"]


def test_hr_approval_mode_holds_then_approves(app, make_user, evidence):
    learner = make_user("chen", "learner", name="陈静")
    hr = make_user("hr1", "hr")
    now = utcnow()
    evidence.agent(learner.id, now - days(1))
    evidence.senior(learner.id, now - days(1))
    with app.app_context():
        install_spec(spec_dict(approval="hr"))
        [pending] = operations.reevaluate(learner.id)
        db.session.commit()
        assert pending.status == PENDING and pending.issued_at is None and pending.expires_at is None
        assert queries.standing(_user(app, learner.id)).current_level == "trainee"
        assert queries.find_by_code(pending.code) is None  # not a certificate yet
        assert operations.reevaluate(learner.id) == []  # still one pending, not two
        operations.approve(pending, _user(app, hr.id), "材料齐全")
        certificates = {c.level: c for c in _certificates(learner.id)}
        assert certificates["agent"].status == ACTIVE and certificates["agent"].issued_at is not None
        # Holding agent now, the senior level (also met) is held for approval in turn.
        assert certificates["senior"].status == PENDING
        assert [(a, lvl) for a, lvl, _ in _actions(learner.id)] == [
            ("held_for_approval", "agent"), ("approved", "agent"), ("held_for_approval", "senior")]
        assert queries.audit_trail(learner.id)[1].actor_id == hr.id


def test_hr_rejection_is_not_undone_by_the_same_evidence(app, make_user, evidence):
    learner = make_user("sun", "learner")
    hr = make_user("hr1", "hr")
    now = utcnow()
    evidence.agent(learner.id, now - days(1))
    with app.app_context():
        install_spec(spec_dict(approval="hr"))
        [pending] = operations.reevaluate(learner.id)
        db.session.commit()
        with pytest.raises(operations.CertificationError) as refused:
            operations.reject(pending, _user(app, hr.id), "   ")
        assert (refused.value.code, refused.value.status) == ("reason_required", 400)
        operations.reject(pending, _user(app, hr.id), "考试作弊嫌疑")
        assert pending.status == REJECTED
        assert operations.reevaluate(learner.id) == []
        # New evidence (a better exam attempt) is a new case for HR.
        evidence.exam(learner.id, "cert-agent", 95, now, attempt_id=4242)
        [again] = operations.reevaluate(learner.id)
        assert again.status == PENDING and again.id != pending.id


def test_expiry_drops_back_to_the_highest_level_still_held_and_recertification(app, make_user, evidence):
    learner = make_user("zhou", "learner")
    trainer = make_user("coach", "trainer")
    t0 = utcnow()
    evidence.agent(learner.id, t0 - days(2))
    evidence.senior(learner.id, t0 - days(1))
    with app.app_context():
        install_spec()  # v2 (the shipped file): 12 months
        assert [c.level for c in operations.reevaluate(learner.id, t0)] == ["agent", "senior"]
        db.session.commit()
        # v3 shortens the validity to 3 months; the expert level is earned under it a month later.
        install_spec(spec_dict(version=3, expiry_months=3))
        t1 = months_later(t0, 1)
        evidence.expert(learner.id, t1 - days(1))
        operations.give_signoff(_user(app, trainer.id), _user(app, learner.id), now=t1 - days(1))
        [expert] = operations.reevaluate(learner.id, t1)
        db.session.commit()
        assert expert.level == "expert" and expert.requirement_version == 3
        assert expert.expires_at == months_later(t1, 3)
        assert queries.standing(_user(app, learner.id), t1).current_level == "expert"

        # Read lazily just after its end: it counts as expired even before anything persists it.
        t2 = expert.expires_at + days(1)
        assert not expert.is_valid(t2)
        assert queries.standing(_user(app, learner.id), t2).current_level == "senior"
        # `flask cert expire` (expire_due) persists it with an audit entry from the system.
        assert operations.expire_due(t2) == [expert]
        db.session.commit()
        assert expert.status == EXPIRED
        assert ("expired", "expert", None) in _actions(learner.id)
        senior = next(c for c in _certificates(learner.id) if c.level == "senior")
        assert senior.status == ACTIVE and senior.requirement_version == 2

        # Re-certification: the old role-plays are outside the 60-day window, fresh ones count.
        assert operations.reevaluate(learner.id, t2) == []
        evidence.roleplays(learner.id, 5, 3, 90, t2 - days(1))
        [renewed] = operations.reevaluate(learner.id, t2)
        assert renewed.level == "expert" and renewed.status == ACTIVE and renewed.id != expert.id
        assert renewed.expires_at == months_later(t2, 3)
        assert queries.standing(_user(app, learner.id), t2).current_level == "expert"


def test_suspend_reinstate_and_revoke(app, make_user, evidence, shipped_rules):
    learner = make_user("qian", "learner")
    hr = make_user("hr1", "hr")
    now = utcnow()
    evidence.agent(learner.id, now - days(1))
    with app.app_context():
        [certificate] = operations.reevaluate(learner.id)
        db.session.commit()
        boss = _user(app, hr.id)
        with pytest.raises(operations.CertificationError):
            operations.suspend(certificate, boss, "")
        operations.suspend(certificate, boss, "客户投诉调查中")
        assert certificate.status == SUSPENDED
        assert queries.standing(_user(app, learner.id)).current_level == "trainee"
        assert operations.reevaluate(learner.id) == []  # a suspension is HR's to lift, not the rules'
        operations.reinstate(certificate, boss, "调查结束，无问题")
        assert certificate.status == ACTIVE
        assert queries.standing(_user(app, learner.id)).current_level == "agent"
        operations.revoke(certificate, boss, "违规操作")
        assert certificate.status == REVOKED and certificate.status_reason == "违规操作"
        assert queries.standing(_user(app, learner.id)).current_level == "trainee"
        # The same evidence never brings a revoked certificate back...
        assert operations.reevaluate(learner.id) == []
        # ...and new evidence after a revocation goes to HR even though approval is automatic.
        evidence.exam(learner.id, "cert-agent", 90, now, attempt_id=777)
        [renewed] = operations.reevaluate(learner.id)
        assert renewed.status == PENDING
        assert [a for a, _l, _w in _actions(learner.id)] == [
            "issued", "suspended", "reinstated", "revoked", "held_for_approval"]
        assert all(who == hr.id for a, _l, who in _actions(learner.id) if a in ("suspended", "reinstated", "revoked"))


def test_audit_log_refuses_update_and_delete(app, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner")
    evidence.agent(learner.id, utcnow() - days(1))
    with app.app_context():
        operations.reevaluate(learner.id)
        db.session.commit()
        entry = db.session.scalar(select(AuditEntry))
        entry.reason = "rewritten history"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        entry = db.session.scalar(select(AuditEntry))
        db.session.delete(entry)
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(update(AuditEntry).values(reason="x"))
        db.session.rollback()
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(delete(AuditEntry))
        db.session.rollback()
        assert db.session.scalar(select(AuditEntry)).reason is None
        assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == 1


def test_no_route_edits_or_deletes_audit_entries_or_grades(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("certification.")]
    writes = {r.endpoint for r in rules if r.methods & {"POST", "PUT", "PATCH", "DELETE"}}
    assert writes == {"certification.approve", "certification.reject", "certification.suspend",
                      "certification.reinstate", "certification.revoke", "certification.signoff_give",
                      "certification.signoff_withdraw", "certification.call_signoff"}
    assert not any(r.methods & {"PUT", "PATCH", "DELETE"} for r in rules)
    assert all("audit" not in r.rule or r.methods <= {"GET", "HEAD", "OPTIONS"} for r in app.url_map.iter_rules())
    assert not any("grade" in r.rule or "score" in r.rule for r in rules)


def test_a_failing_evaluation_does_not_break_the_sender(app, make_user, evidence, shipped_rules, monkeypatch):
    learner = make_user("li", "learner")

    def broken(*args, **kwargs):
        raise RuntimeError("exams service down")
    monkeypatch.setattr(evidence_sources, "exam_evidence", broken)
    with app.app_context():
        events.course_completed.send(learner.id, course_slug="call-handling", completed_at=utcnow())
        assert _certificates(learner.id) == []


def test_only_learners_are_certified(app, make_user, evidence, shipped_rules):
    trainer = make_user("coach", "trainer")
    evidence.agent(trainer.id, utcnow())
    with app.app_context():
        assert operations.reevaluate(trainer.id) == []


def test_expiring_list(app, make_user, evidence, shipped_rules):
    soon, later = make_user("soon", "learner"), make_user("later", "learner")
    now = utcnow()
    earlier = months_later(now, -12) + days(20)
    evidence.agent(soon.id, earlier - days(1))
    evidence.agent(later.id, now - days(1))
    with app.app_context():
        operations.reevaluate(soon.id, earlier)
        operations.reevaluate(later.id, now)
        db.session.commit()
        expiring = queries.expiring_certificates(30, now)
        assert [c.holder.username for c in expiring] == ["soon"]


def test_add_months_clamps_to_the_month_end():
    from datetime import datetime
    assert operations.add_months(datetime(2026, 1, 31, 9), 1) == datetime(2026, 2, 28, 9)
    assert operations.add_months(datetime(2024, 2, 29), 12) == datetime(2025, 2, 28)
    assert operations.add_months(datetime(2026, 11, 15), 14) == datetime(2028, 1, 15)


def test_versions_are_stored_once_and_a_silent_change_is_an_error(app):
    from content_schema import ContentValidationError
    with app.app_context():
        report = install_spec()
        assert "version 2 stored" in " ".join(report.lines)
        install_spec()  # unchanged: nothing to do
        assert db.session.scalar(select(db.func.count()).select_from(RequirementVersion)) == 1
        changed = spec_dict()
        changed["levels"][1]["requirements"][1]["min_score"] = 90
        with pytest.raises(ContentValidationError, match="bump version"):
            install_spec(changed)
        db.session.rollback()
        stored = db.session.scalar(select(RequirementVersion))
        assert stored.spec["levels"][1]["requirements"][1]["min_score"] == 75
