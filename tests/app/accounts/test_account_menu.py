"""Issue 17: everybody reaches their profile and the password change from the account menu in the header."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.models import User
from app.certification.models import AuditEntry
from app.extensions import db
from tests.support.accounts import TEST_PASSWORD
from tests.support.web import csrf_token, login_as


def _client(app, user, language=None):
    client = app.test_client()
    login_as(client, user)
    if language:
        with client.session_transaction() as sess:
            sess["lang"] = language
    return client


def test_the_header_menu_links_profile_password_and_logout(app, make_user):
    user = make_user("li", "learner", name="李明")
    html = _client(app, user).get("/account").get_data(as_text=True)
    menu = html[html.index('id="account-menu"'):html.index("</details>")]
    assert "李明" in menu and 'href="/account"' in menu and 'href="/account/password"' in menu
    assert 'action="/logout"' in menu and 'name="csrf_token"' in menu


def test_the_profile_shows_name_username_translated_roles_cohort_and_language(app, make_user):
    user = make_user("li", "learner", "trainer", name="李明", cohort="2026-春", email="li@example.com")
    with app.app_context():
        db.session.get(User, user.id).language = "en"
        db.session.commit()
    en = _client(app, user, "en").get("/account").get_data(as_text=True)
    assert 'id="profile-name">李明<' in en and re.search(r'id="profile-username"[^>]*>li<', en)
    assert 'id="profile-roles">Learner (new hire / trainee), Trainer<' in en
    assert 'id="profile-cohort">2026-春<' in en and "li@example.com" in en
    assert "English" in en[en.index('id="profile-language"'):]
    # The language can be changed here (the same CSRF-protected form as the header's).
    assert 'action="/language"' in en[en.index('id="profile-language"'):]


def test_a_profile_without_cohort_or_email_says_so(app, make_user):
    user = make_user("hr1", "hr")
    html = _client(app, user, "en").get("/account").get_data(as_text=True)
    assert 'id="profile-roles">HR<' in html and "No cohort" in html and "No email address" in html


def test_changing_ones_own_password_needs_the_current_one_and_is_audited(app, make_user):
    user = make_user("li", "learner")
    client = _client(app, user, "en")
    assert client.get("/account/password").status_code == 200  # reachable without being forced
    token = csrf_token(client, "/account/password")
    wrong = client.post("/account/password", data={"csrf_token": token, "current_password": "not-it",
                                                    "new_password": "a-new-secret-9", "confirm": "a-new-secret-9"})
    assert wrong.status_code == 200 and "The current password is wrong." in wrong.get_data(as_text=True)
    short = client.post("/account/password", data={"csrf_token": token, "current_password": TEST_PASSWORD,
                                                    "new_password": "short", "confirm": "short"})
    assert short.status_code == 200 and "at least 8" in short.get_data(as_text=True)
    no_token = client.post("/account/password", data={"current_password": TEST_PASSWORD,
                                                       "new_password": "a-new-secret-9", "confirm": "a-new-secret-9"})
    assert no_token.status_code == 400
    with app.app_context():
        assert db.session.get(User, user.id).check_password(TEST_PASSWORD)

    done = client.post("/account/password", data={"csrf_token": token, "current_password": TEST_PASSWORD,
                                                   "new_password": "a-new-secret-9", "confirm": "a-new-secret-9"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).check_password("a-new-secret-9")
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == user.id)).all()
        assert actions == ["password_changed"]
    assert client.get("/account").status_code == 200  # this session goes on


