"""Login throttling and sessions (issue 19 items 5, 6, 7, 17, 18, 21)."""
from __future__ import annotations

import re
import threading

import pytest
import requests
from werkzeug.serving import make_server

from app.accounts import models as account_models
from app.accounts.models import LoginThrottle, User
from app.extensions import db
from tests.support.accounts import TEST_PASSWORD
from tests.support.web import CSRF_META, csrf_token, login_as

LOCKED = ("Too many failed attempts", "失败次数过多")
REFUSED = ("Wrong username or password", "用户名或密码错误")


def _login(client, username, password, address="10.0.0.1"):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _says(response, texts) -> bool:
    body = response.get_data(as_text=True)
    return any(text in body for text in texts)


def _flash(response) -> str:
    match = re.search(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    return match.group(1).strip() if match else response.get_data(as_text=True)


def _logged_in(client) -> bool:
    with client.session_transaction() as sess:
        return "_user_id" in sess


@pytest.fixture
def hashing(monkeypatch):
    """Counts every password hash computed or checked (the slow, timing-visible step)."""
    calls = {"check": 0, "make": 0}
    real_check, real_make = account_models.check_password_hash, account_models.generate_password_hash

    def check(*args, **kwargs):
        calls["check"] += 1
        return real_check(*args, **kwargs)

    def make(*args, **kwargs):
        calls["make"] += 1
        return real_make(*args, **kwargs)

    monkeypatch.setattr(account_models, "check_password_hash", check)
    monkeypatch.setattr(account_models, "generate_password_hash", make)
    return calls


# --- 5: concurrent wrong passwords cannot pass the limit -------------------------------------------

@pytest.fixture
def served(app):
    app.config["SERVER_NAME"] = None  # reached as 127.0.0.1:port, not "localhost"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.config["SERVER_NAME"] = "localhost"


def test_concurrent_wrong_passwords_never_check_more_than_the_limit(app, served, make_user, monkeypatch):
    make_user("zhang", "learner")
    limit = app.config["LOGIN_MAX_FAILURES"]
    checked = []
    real_check = User.check_password

    def slow_check(self, password):
        checked.append(password)
        threading.Event().wait(0.3)  # a slow hash: every request is inside it at the same time
        return real_check(self, password)

    monkeypatch.setattr(User, "check_password", slow_check)
    attackers = 30
    sessions, tokens = [], []
    for _ in range(attackers):
        browser = requests.Session()
        page = browser.get(f"{served}/login", timeout=10)
        sessions.append(browser)
        tokens.append(CSRF_META.search(page.text).group(1))
    start = threading.Barrier(attackers)
    statuses = []

    def guess(i):
        start.wait()
        response = sessions[i].post(f"{served}/login", timeout=30, allow_redirects=False,
                                    data={"username": "zhang", "password": f"guess-{i}", "csrf_token": tokens[i]})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(attackers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(set(statuses)) == [200]  # every guess refused cleanly, none a 500
    assert 0 < len(checked) <= limit, f"{len(checked)} passwords checked, limit {limit}"
    # The account is now locked from this address: even the right password is refused unchecked.
    browser = requests.Session()
    token = CSRF_META.search(browser.get(f"{served}/login", timeout=10).text).group(1)
    response = browser.post(f"{served}/login", timeout=30, allow_redirects=False,
                            data={"username": "zhang", "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 200 and any(text in response.text for text in LOCKED)
    assert len(checked) <= limit


# --- 6: per address as well as per account; admins unlock ------------------------------------------

def test_lockout_from_one_address_does_not_lock_the_owner_out_elsewhere(app, client, make_user):
    make_user("boss", "admin")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 3):
        _login(client, "boss", "wrong-password", address="203.0.113.66")
    assert _says(_login(client, "boss", TEST_PASSWORD, address="203.0.113.66"), LOCKED)
    assert not _logged_in(client)
    owner = app.test_client()
    assert _login(owner, "boss", TEST_PASSWORD, address="10.1.1.1").status_code == 302


def test_one_address_spraying_many_accounts_is_refused(app, client, make_user):
    make_user("zhang", "learner")
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    for i in range(limit):
        assert _says(_login(client, f"user{i}", "wrong-password", address="198.51.100.9"), REFUSED)
    # The address is refused for any name, even with a right password; other addresses are not.
    assert _says(_login(client, "zhang", TEST_PASSWORD, address="198.51.100.9"), LOCKED)
    assert _login(app.test_client(), "zhang", TEST_PASSWORD, address="198.51.100.10").status_code == 302


def test_guessing_from_many_addresses_locks_the_account_and_an_admin_unlocks_it(app, client, make_user):
    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 6
    try:
        target = make_user("zhang", "learner")
        admin = make_user("boss", "admin")
        for i in range(6):
            _login(client, "zhang", "wrong-password", address=f"192.0.2.{i}")
        assert _says(_login(app.test_client(), "zhang", TEST_PASSWORD, address="10.9.9.9"), LOCKED)

        admin_client = app.test_client()
        login_as(admin_client, admin)
        page = admin_client.get(f"/admin/users/{target.id}")
        assert page.status_code == 200 and "/unlock" in page.get_data(as_text=True)
        token = csrf_token(admin_client, f"/admin/users/{target.id}")
        assert admin_client.post(f"/admin/users/{target.id}/unlock", data={}).status_code == 400  # CSRF
        response = admin_client.post(f"/admin/users/{target.id}/unlock", data={"csrf_token": token})
        assert response.status_code == 302
        assert _login(app.test_client(), "zhang", TEST_PASSWORD, address="10.9.9.9").status_code == 302
    finally:
        app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 50


def test_only_admins_may_unlock(app, make_user):
    target = make_user("zhang", "learner")
    for role in ("hr", "trainer", "learner"):
        other = app.test_client()
        login_as(other, make_user(f"u-{role}", role))
        token = csrf_token(other, "/account/password")
        assert other.post(f"/admin/users/{target.id}/unlock", data={"csrf_token": token}).status_code == 403


def test_cli_unlock(app, client, make_user):
    make_user("zhang", "learner")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, "zhang", "wrong-password")
    assert _says(_login(client, "zhang", TEST_PASSWORD), LOCKED)
    result = app.test_cli_runner().invoke(args=["users", "unlock", "ZHANG"])
    assert result.exit_code == 0 and "unlocked zhang" in result.output
    assert _login(client, "zhang", TEST_PASSWORD).status_code == 302
    assert app.test_cli_runner().invoke(args=["users", "unlock", "nobody"]).exit_code != 0


def test_an_admins_password_reset_ends_the_lockout(app, client, make_user):
    target = make_user("zhang", "learner")
    admin = make_user("boss", "admin")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, "zhang", "wrong-password")
    admin_client = app.test_client()
    login_as(admin_client, admin)
    token = csrf_token(admin_client, f"/admin/users/{target.id}")
    page = admin_client.post(f"/admin/users/{target.id}/reset-password", data={"csrf_token": token})
    assert page.status_code == 200
    with app.app_context():
        assert db.session.scalars(db.select(LoginThrottle).filter_by(username="zhang")).all() == []
        new_password = next(p for p in re.findall(r"<code>([^<]+)</code>", page.get_data(as_text=True)))
    assert _login(client, "zhang", new_password).status_code == 302


# --- 7: logout ends the session on the server ---------------------------------------------------

def test_a_cookie_copied_before_logout_no_longer_works(app, client, make_user):
    make_user("zhang", "learner")
    assert _login(client, "zhang", TEST_PASSWORD).status_code == 302
    assert client.get("/account/password").status_code == 200
    copied = client.get_cookie("session").value
    token = csrf_token(client, "/account/password")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", copied, domain="localhost")
    response = thief.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- 17, 18: refusals say nothing about which names exist or whether the password was right -------

def test_lockout_reads_and_costs_the_same_for_unknown_usernames(app, client, make_user, hashing):
    make_user("zhang", "learner")
    answers = {}
    for name in ("zhang", "ghost"):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            assert _says(_login(client, name, "wrong-password"), REFUSED)
        before = dict(hashing)
        answers[name] = _flash(_login(client, name, "wrong-password"))
        # Locked: answered before any hashing, for the real name and the made-up one alike.
        assert hashing == before
    assert answers["zhang"] == answers["ghost"] and any(text in answers["zhang"] for text in LOCKED)


def test_unknown_username_costs_one_hash_like_a_real_one(app, client, make_user, hashing):
    make_user("zhang", "learner")

    def hashes_for(username):
        before = hashing["check"] + hashing["make"]
        assert _says(_login(client, username, "wrong-password"), REFUSED)
        return hashing["check"] + hashing["make"] - before

    assert hashes_for("zhang") == hashes_for("ghost") == 1


def test_deactivated_account_answers_the_same_for_right_and_wrong_passwords(app, client, make_user):
    user = make_user("zhang", "learner")
    with app.app_context():
        from app.accounts.services import set_active
        set_active(db.session.get(User, user.id), False)
    right = _login(client, "zhang", TEST_PASSWORD)
    wrong = _login(client, "zhang", "wrong-password")
    ghost = _login(client, "ghost", "wrong-password")
    assert right.status_code == wrong.status_code == 200 and not _logged_in(client)
    assert _flash(right) == _flash(wrong) == _flash(ghost)
    assert _says(right, REFUSED)
    # The right password counts as a failure too: the lockout cannot tell them apart either.
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 2):
        _login(client, "zhang", TEST_PASSWORD)
    assert _says(_login(client, "zhang", TEST_PASSWORD), LOCKED)


# --- 21: caching, HSTS, secure cookies ----------------------------------------------------------

def test_logged_in_pages_are_not_stored(app, client, make_user):
    user = make_user("boss", "admin")
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login_as(client, user)
    for path in ("/account/password", "/admin/users", f"/admin/users/{user.id}"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", path
    target = make_user("zhang", "learner")
    token = csrf_token(client, f"/admin/users/{target.id}")
    temporary = client.post(f"/admin/users/{target.id}/reset-password", data={"csrf_token": token})
    assert temporary.status_code == 200 and "no-store" in temporary.headers["Cache-Control"]


def test_hsts_only_over_https_or_with_an_https_public_address(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert "max-age=" in client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"]
    saved = app.config.get("PUBLIC_BASE_URL")
    app.config["PUBLIC_BASE_URL"] = "https://academy.example.com"
    try:
        assert "Strict-Transport-Security" in client.get("/login").headers
    finally:
        app.config["PUBLIC_BASE_URL"] = saved


@pytest.mark.parametrize("env, secure", [
    ({}, False),
    ({"PUBLIC_BASE_URL": "http://academy.example.com"}, False),
    ({"PUBLIC_BASE_URL": "https://academy.example.com"}, True),
    ({"PUBLIC_BASE_URL": "https://academy.example.com", "SESSION_COOKIE_SECURE": "0"}, False),
    ({"SESSION_COOKIE_SECURE": "1"}, True),
])
def test_secure_cookie_defaults_on_with_an_https_public_address(tmp_path, monkeypatch, env, secure):
    from app.config import load_config
    for name in ("PUBLIC_BASE_URL", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SECRET_KEY", "x")
    assert load_config(tmp_path)["SESSION_COOKIE_SECURE"] is secure


def test_trusted_proxy_gives_the_clients_address_and_scheme(app, make_user):
    from app import create_app
    proxied = create_app({key: app.config[key] for key in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "DATA_DIR", "UPLOAD_DIR", "RECORDINGS_DIR",
        "AUDIO_CACHE_DIR", "VOSK_MODEL_DIR", "SERVER_NAME")} | {"TRUSTED_PROXIES": 1})
    make_user("zhang", "learner")
    client = proxied.test_client()
    # Flask-WTF wants a same-site Referer on https requests.
    forwarded = {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}
    token = CSRF_META.search(client.get("/login", headers=forwarded).get_data(as_text=True)).group(1)
    response = client.post("/login", headers=forwarded,
                           data={"username": "zhang", "password": "wrong", "csrf_token": token})
    assert "Strict-Transport-Security" in response.headers
    with proxied.app_context():
        addresses = set(db.session.scalars(db.select(LoginThrottle.address)))
        db.session.remove()
    assert "203.0.113.5" in addresses and "127.0.0.1" not in addresses
