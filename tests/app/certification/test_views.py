"""Pages and downloads: learner, public verification, HR records, trainer sign-off, CLI."""
from __future__ import annotations

import json
import logging
import re
import subprocess

from sqlalchemy import select

from app.accounts.models import User

from app.core.clock import utcnow
from app.certification import operations, queries
from app.certification.models import ACTIVE, PENDING, REVOKED, SUSPENDED, AuditEntry, Certificate, SignOff
from app.core.clock import local_date
from app.extensions import db
from tests.support.web import csrf_token, login_as

from tests.support.certification import days, install_spec, spec_dict


def _issue_agent(app, evidence, learner, when=None):
    evidence.agent(learner.id, (when or utcnow()) - days(1))
    with app.app_context():
        [certificate] = operations.reevaluate(learner.id, when)
        db.session.commit()
        return certificate.id, certificate.code


def _cert(app, certificate_id) -> Certificate:
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        db.session.expunge(certificate)
        return certificate


# --- learner -------------------------------------------------------------------------


def test_my_certification_shows_progress_links_and_certificates(app, client, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner", name="李明")
    now = utcnow()
    evidence.courses(learner.id, ["call-centre-basics"], now)
    login_as(client, learner)
    page = client.get("/certification").get_data(as_text=True)
    assert page.count("<progress") == 5  # previous level + the four requirements of agent
    assert 'value="25"' in page  # one course of four
    if "courses.course" in app.view_functions:
        assert 'href="/courses/call-handling"' in page
    if "exams.start" in app.view_functions:
        with app.test_request_context():
            from flask import url_for
            assert f'href="{url_for("exams.start", slug="cert-agent")}"' in page
    assert "style=" not in page and "<script>" not in page

    certificate_id, code = _issue_agent(app, evidence, learner)
    page = client.get("/certification").get_data(as_text=True)
    assert f"/verify/{code}" in page
    assert f"/certification/certificates/{certificate_id}.pdf" in page


def test_learner_sees_only_their_own_pdf(app, client, make_user, evidence, shipped_rules):
    mine, theirs = make_user("li", "learner", name="李明"), make_user("wang", "learner", name="王伟")
    mine_id, _ = _issue_agent(app, evidence, mine)
    theirs_id, _ = _issue_agent(app, evidence, theirs)
    login_as(client, mine)
    response = client.get(f"/certification/certificates/{mine_id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get(f"/certification/certificates/{theirs_id}.pdf").status_code == 404


# --- public verification --------------------------------------------------------------


def test_verify_shows_holder_level_and_validity_only(app, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner", name="李明", email="li.ming@example.com", cohort="2026-春季班")
    certificate_id, code = _issue_agent(app, evidence, learner)
    certificate = _cert(app, certificate_id)
    anonymous = app.test_client()
    response = anonymous.get(f"/verify/{code}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "李明" in page and "座席" in page and "Agent" in page
    with app.app_context():
        assert local_date(certificate.expires_at) in page  # in the academy's time zone
    for secret in ("li.ming@example.com", "2026-春季班", "cert-agent", "call-handling", ">li<", "1000",
                   "double-billing"):
        assert secret not in page, secret
    assert anonymous.get("/verify/no-such-code-at-all").status_code == 404


def test_verify_shows_revoked_and_expired_and_hides_pending(app, make_user, evidence):
    learner, other = make_user("li", "learner", name="李明"), make_user("wang", "learner")
    hr = make_user("hr1", "hr")
    with app.app_context():
        install_spec()
    certificate_id, code = _issue_agent(app, evidence, learner, utcnow() - days(400))
    client = app.test_client()
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client)})
    assert "Expired on" in client.get(f"/verify/{code}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Certificate, certificate_id).status == ACTIVE  # derived on read, not written
        certificate = db.session.get(Certificate, certificate_id)
        operations.revoke(certificate, db.session.get(User, hr.id), "fraud")
    assert "Revoked" in client.get(f"/verify/{code}").get_data(as_text=True)
    with app.app_context():
        install_spec(spec_dict(version=3, approval="hr"))
    evidence.agent(other.id, utcnow())
    with app.app_context():
        [pending] = operations.reevaluate(other.id)
        db.session.commit()
        assert pending.status == PENDING
        assert client.get(f"/verify/{pending.code}").status_code == 404


# --- HR -----------------------------------------------------------------------------------


def test_roster_filters_charts_and_sections(app, client, make_user, evidence, shipped_rules):
    certified = make_user("li", "learner", name="李明", cohort="A班")
    make_user("wang", "learner", name="王伟", cohort="B班")
    hr = make_user("hr1", "hr")
    _issue_agent(app, evidence, certified)
    login_as(client, hr)
    page = client.get("/certification/records").get_data(as_text=True)
    assert "李明" in page and "王伟" in page and page.split("<main", 1)[1].count("<svg") == 2  # the two charts
    assert 'data-username="li"' in page
    row = re.search(r'<tr data-username="li">.*?</tr>', page, re.S).group(0)
    assert "座席" in row or "Agent" in row
    only_agents = client.get("/certification/records?level=agent").get_data(as_text=True)
    assert 'data-username="li"' in only_agents and 'data-username="wang"' not in only_agents
    cohort_b = client.get("/certification/records?cohort=B班").get_data(as_text=True)
    assert 'data-username="wang"' in cohort_b and 'data-username="li"' not in cohort_b
    search = client.get("/certification/records?q=王").get_data(as_text=True)
    assert 'data-username="wang"' in search and 'data-username="li"' not in search
    active = client.get("/certification/records?status=active").get_data(as_text=True)
    assert 'data-username="li"' in active and 'data-username="wang"' not in active
    assert 'data-username="li"' not in client.get("/certification/records?expiring=1").get_data(as_text=True)


def test_roster_and_audit_csv_have_a_bom_and_chinese_names(app, client, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner", name="李明", cohort="A班")
    hr = make_user("hr1", "hr")
    _issue_agent(app, evidence, learner)
    login_as(client, hr)
    response = client.get("/certification/records.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    assert "李明" in text and "A班" in text
    machine = client.get("/certification/records.csv?format=machine").data.decode("utf-8-sig")
    assert "李明" in machine and "A班" in machine and ",agent,座席," in machine
    audit = client.get(f"/certification/audit.csv?user={learner.id}")
    assert audit.data.startswith(b"\xef\xbb\xbf")
    audit_text = audit.data.decode("utf-8-sig")
    assert "李明" in audit_text and ",issued,agent," in audit_text


def test_person_page_and_hr_decisions_through_the_forms(app, client, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner", name="李明")
    hr = make_user("hr1", "hr")
    certificate_id, _ = _issue_agent(app, evidence, learner)
    login_as(client, hr)
    page = client.get(f"/certification/records/{learner.id}").get_data(as_text=True)
    assert "李明" in page and f"/certification/certificates/{certificate_id}/suspend" in page
    assert 'id="audit"' in page
    token = csrf_token(client, "/certification/records")
    # A reason is required: nothing changes without one.
    client.post(f"/certification/certificates/{certificate_id}/suspend", data={"csrf_token": token, "reason": ""})
    assert _cert(app, certificate_id).status == ACTIVE
    response = client.post(f"/certification/certificates/{certificate_id}/suspend",
                           data={"csrf_token": token, "reason": "调查"})
    assert response.status_code == 302 and _cert(app, certificate_id).status == SUSPENDED
    client.post(f"/certification/certificates/{certificate_id}/reinstate", data={"csrf_token": token, "reason": "ok"})
    assert _cert(app, certificate_id).status == ACTIVE
    client.post(f"/certification/certificates/{certificate_id}/revoke", data={"csrf_token": token, "reason": "违规"})
    assert _cert(app, certificate_id).status == REVOKED
    # Without the CSRF token the form is refused.
    assert client.post(f"/certification/certificates/{certificate_id}/reinstate",
                       data={"reason": "x"}).status_code == 400
    with app.app_context():
        actors = {e.action: e.actor_id for e in db.session.scalars(select(AuditEntry))}
    assert actors["suspended"] == actors["reinstated"] == actors["revoked"] == hr.id


def test_trainers_and_learners_cannot_decide_on_certificates(app, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner")
    trainer = make_user("coach", "trainer")
    certificate_id, _ = _issue_agent(app, evidence, learner)
    for who in (trainer, learner):
        client = app.test_client()
        login_as(client, who)
        token = csrf_token(client, "/")
        for action in ("revoke", "suspend", "approve", "reject", "reinstate"):
            response = client.post(f"/certification/certificates/{certificate_id}/{action}",
                                   data={"csrf_token": token, "reason": "x"})
            assert response.status_code == 403, (who.username, action)
        assert client.get("/certification/records").status_code == 403
        assert client.get("/certification/records.csv").status_code == 403
    assert _cert(app, certificate_id).status == ACTIVE


def test_pdf_has_the_chinese_name_level_and_code(app, client, make_user, evidence, shipped_rules, tmp_path):
    learner = make_user("li", "learner", name="李明")
    hr = make_user("hr1", "hr")
    certificate_id, code = _issue_agent(app, evidence, learner)
    login_as(client, hr)
    response = client.get(f"/certification/certificates/{certificate_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "李明" in text and "座席" in text and "Agent" in text and code in text
    assert f"/verify/{code}" in text


def test_pdf_without_the_font_is_a_clear_500(app, client, make_user, evidence, shipped_rules, monkeypatch):
    learner = make_user("li", "learner", name="李明")
    hr = make_user("hr1", "hr")
    certificate_id, _ = _issue_agent(app, evidence, learner)
    monkeypatch.setitem(app.config, "CERT_FONT_PATH", "/nonexistent/wqy-zenhei.ttc")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())
    handler = Keep(level=logging.ERROR)
    app.logger.addHandler(handler)
    try:
        login_as(client, hr)
        response = client.get(f"/certification/certificates/{certificate_id}.pdf")
    finally:
        app.logger.removeHandler(handler)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "fonts-wqy-zenhei" in response.get_data(as_text=True)
    assert any("fonts-wqy-zenhei" in message for message in records)


# --- trainer sign-off -------------------------------------------------------------------------


def test_trainer_signs_off_and_only_the_same_trainer_withdraws(app, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner", name="李明")
    coach, other = make_user("coach", "trainer", name="王芳"), make_user("other", "trainer")
    client = app.test_client()
    login_as(client, coach)
    page = client.get("/certification/signoffs").get_data(as_text=True)
    assert 'data-username="li"' in page
    token = csrf_token(client, "/certification/signoffs")
    response = client.post(f"/certification/signoffs/learners/{learner.id}",
                           data={"csrf_token": token, "note": "能独立处理升级投诉"})
    assert response.status_code == 302
    with app.app_context():
        signoff = db.session.scalar(select(SignOff))
        assert signoff.trainer_id == coach.id and signoff.note == "能独立处理升级投诉"
        signoff_id = signoff.id
    # Signing off twice is refused.
    client.post(f"/certification/signoffs/learners/{learner.id}", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(SignOff)) == 1
    stranger = app.test_client()
    login_as(stranger, other)
    response = stranger.post(f"/certification/signoffs/{signoff_id}/withdraw",
                             data={"csrf_token": csrf_token(stranger, "/certification/signoffs")})
    assert response.status_code == 403
    client.post(f"/certification/signoffs/{signoff_id}/withdraw", data={"csrf_token": token, "reason": "再观察"})
    with app.app_context():
        assert db.session.get(SignOff, signoff_id).revoked_at is not None
        actions = [e.action for e in queries.audit_trail(learner.id)]
        assert actions == ["signoff_withdrawn", "signoff_given"]
    # Trainers cannot sign off non-learners, and HR cannot use the trainer page.
    hr = make_user("hr1", "hr")
    hr_client = app.test_client()
    login_as(hr_client, hr)
    assert hr_client.get("/certification/signoffs").status_code == 403
    assert client.post(f"/certification/signoffs/learners/{other.id}", data={"csrf_token": token}).status_code == 404


# --- command line ----------------------------------------------------------------------------


def test_cli_status_expiring_expire_and_reevaluate(app, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner", name="李明")
    runner = app.test_cli_runner()
    status = json.loads(runner.invoke(args=["cert", "status", "li"]).output)
    assert status["current_level"] == "trainee" and status["next_level"] == "agent"
    assert all(not r["met"] for r in status["requirements"][1:])
    course = next(r for r in status["requirements"] if r["kind"] == "courses_completed")
    assert any("call-handling" in text for text in course["missing"])

    evidence.agent(learner.id, utcnow() - days(1))
    result = runner.invoke(args=["cert", "reevaluate", "li"])
    assert result.exit_code == 0 and "li: agent active" in result.output
    status = json.loads(runner.invoke(args=["cert", "status", "li"]).output)
    assert status["current_level"] == "agent" and status["next_level"] == "senior"
    assert status["certificates"][0]["requirement_version"] == 2

    assert json.loads(runner.invoke(args=["cert", "expiring", "--days", "30"]).output) == []
    year = json.loads(runner.invoke(args=["cert", "expiring", "--days", "400"]).output)
    assert [item["username"] for item in year] == ["li"] and year[0]["name"] == "李明"

    with app.app_context():
        certificate = db.session.scalar(select(Certificate))
        certificate.expires_at = utcnow() - days(1)
        db.session.commit()
    result = runner.invoke(args=["cert", "expire"])
    assert "1 certificate(s) expired" in result.output
    assert runner.invoke(args=["cert", "status", "nobody"]).exit_code != 0
