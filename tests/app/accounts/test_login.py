import time

from app.accounts.models import User

from app.core.clock import utcnow
from app.extensions import db
from tests.support.accounts import TEST_PASSWORD
from tests.support.web import csrf_token, login_as


def _login(client, username, password):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_login_with_right_password_reaches_home_and_rotates_session(client, make_user):
    user = make_user("zhang", "learner")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker-chosen"
    response = _login(client, "zhang", TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    with client.session_transaction() as sess:
        assert "planted" not in sess  # nothing from before login survives
        assert sess["_user_id"] == f"{user.id}:{user.session_version}"


def test_wrong_password_is_refused_with_generic_message(client, make_user):
    make_user("zhang", "learner")
    response = _login(client, "zhang", "wrong-password")
    assert response.status_code == 200
    assert "Wrong username or password" in response.get_data(as_text=True) or "用户名或密码错误" in response.get_data(as_text=True)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_login_throttled_after_repeated_failures(app, client, make_user):
    make_user("zhang", "learner")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, "zhang", "wrong-password")
    # Now even the right password is refused until the lockout passes.
    response = _login(client, "zhang", TEST_PASSWORD)
    assert response.status_code == 200
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
    with app.app_context():
        from app.accounts.models import LoginThrottle
        locks = db.session.scalars(db.select(LoginThrottle).filter_by(username="zhang")).all()
        assert any(lock.locked_until is not None for lock in locks)
        for lock in locks:
            lock.locked_until = utcnow()  # lockout over
        db.session.commit()
    assert _login(client, "zhang", TEST_PASSWORD).status_code == 302


def test_deactivated_user_cannot_log_in_and_loses_session(app, client, make_user):
    user = make_user("zhang", "learner")
    other = app.test_client()
    login_as(other, user)
    assert other.get("/account/password").status_code == 200
    with app.app_context():
        from app.accounts.services import set_active
        set_active(db.session.get(User, user.id), False)
    # The existing session no longer works ...
    response = other.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # ... and a new login is refused.
    _login(client, "zhang", TEST_PASSWORD)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_first_login_forces_password_change(app, client, make_user):
    make_user("zhang", "learner", must_change_password=True)
    _login(client, "zhang", TEST_PASSWORD)
    response = client.get("/")
    assert response.status_code == 302 and "/account/password" in response.headers["Location"]
    token = csrf_token(client, "/account/password")
    response = client.post("/account/password", data={"current_password": TEST_PASSWORD, "new_password": "a-new-pass-99",
                                                      "confirm": "a-new-pass-99", "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code in (200, 302)
    assert "/account/password" not in client.get("/").headers.get("Location", "")
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="zhang"))
        assert not user.must_change_password and user.check_password("a-new-pass-99")


def test_idle_session_expires(app, client, make_user):
    user = make_user("zhang", "learner")
    login_as(client, user)
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - app.config["IDLE_TIMEOUT"].total_seconds() - 5
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_open_redirect_after_login_is_refused(client, make_user):
    make_user("zhang", "learner")
    token = csrf_token(client)
    response = client.post("/login?next=https://evil.example/", data={"username": "zhang", "password": TEST_PASSWORD,
                                                                      "csrf_token": token})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


def test_passwords_are_hashed(app, make_user):
    make_user("zhang", "learner")
    with app.app_context():
        stored = db.session.scalar(db.select(User.password_hash).filter_by(username="zhang"))
    assert TEST_PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
