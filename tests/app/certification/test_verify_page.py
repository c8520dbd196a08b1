"""The public /verify page: a form for the code, a clear answer for an unknown one, nothing personal."""
from __future__ import annotations

from app.certification import operations
from app.extensions import db

from tests.support.certification import days

EN = {"Accept-Language": "en"}


def test_the_form_validates_the_code_and_redirects_to_its_page(client):
    page = client.get("/verify", headers=EN)
    assert page.status_code == 200 and 'id="verify-form"' in page.get_data(as_text=True)
    assert 'method="get"' in page.get_data(as_text=True)
    for bad in ("short", "has spaces in it!!!!", "x" * 33, "<script>alert(1)</script>"):
        response = client.get("/verify", query_string={"code": bad}, headers=EN)
        text = response.get_data(as_text=True)
        assert response.status_code == 400, bad
        assert "A verification code is 16 to 32 letters" in text or "at most 32 characters" in text
        assert "<script>alert(1)</script>" not in text
    assert "Enter the code printed on the certificate." in client.get("/verify?code=", headers=EN).get_data(as_text=True)
    response = client.get("/verify", query_string={"code": "  AbCdEfGhIjKlMnOpQrSt  "})
    assert response.status_code == 302 and response.headers["Location"].endswith("/verify/AbCdEfGhIjKlMnOpQrSt")


def test_an_unknown_code_is_a_clear_404_not_the_generic_page(client):
    for code in ("AbCdEfGhIjKlMnOpQrSt", "not-a-code"):
        response = client.get(f"/verify/{code}", headers=EN)
        text = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "No certificate with this code" in text and 'id="verify-unknown"' in text
        assert 'id="verify-form"' in text  # try again right there


def test_a_known_code_shows_name_level_dates_and_status_and_nothing_more(app, make_user, evidence, shipped_rules):
    from app.core.clock import utcnow
    learner = make_user("li", "learner", name="李明", cohort="2026-春", email="li@example.com")
    hr = make_user("liu", "hr", name="刘洋")
    evidence.agent(learner.id, utcnow() - days(1))
    with app.app_context():
        [certificate] = operations.reevaluate(learner.id)
        db.session.commit()
        code = certificate.code
    client = app.test_client()
    text = client.get(f"/verify/{code}", headers=EN).get_data(as_text=True)
    assert "李明" in text and "座席 · Agent" in text and "Valid until" in text and 'id="issued"' in text
    for private in ("li@example.com", "2026-春", ">li<", "cert-agent", "double-billing"):
        assert private not in text
    zh = client.get(f"/verify/{code}", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200 and "李明" in zh.get_data(as_text=True)
    with app.app_context():
        from app.accounts.models import User
        operations.revoke(db.session.get(type(certificate), certificate.id), db.session.get(User, hr.id), "fraud")
    text = client.get(f"/verify/{code}", headers=EN).get_data(as_text=True)
    assert "Revoked" in text and "fraud" not in text
