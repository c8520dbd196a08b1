"""Issue 19 item 1: only administrators manage administrators and roles; HR manages learners only.

Every refusal is checked twice: the HTTP answer (403) and that nothing changed in the database.
"""
from __future__ import annotations

import pytest

from app.accounts import services
from app.accounts.models import User
from app.extensions import db
from tests.support.web import csrf_token, login_as


def _user(app, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username=username))
        if user is not None:
            user.role_set  # load roles before leaving the session
            db.session.expunge(user)
        return user


def _client_for(app, user):
    client = app.test_client()
    login_as(client, user)
    return client, csrf_token(client, "/admin/users")


@pytest.fixture
def people(app, make_user):
    return {"hr": make_user("hr1", "hr"), "admin": make_user("boss", "admin"), "trainer": make_user("tr1", "trainer"),
            "learner": make_user("le1", "learner"), "learner_trainer": make_user("lt1", "learner", "trainer"),
            "other_hr": make_user("hr2", "hr")}


@pytest.mark.parametrize("target", ["admin", "trainer", "learner_trainer", "other_hr"])
def test_hr_cannot_reset_the_password_of_anyone_but_a_learner(app, people, target):
    client, token = _client_for(app, people["hr"])
    victim = people[target]
    response = client.post(f"/admin/users/{victim.id}/reset-password", data={"csrf_token": token})
    assert response.status_code == 403
    after = _user(app, victim.username)
    assert after.password_hash == victim.password_hash and after.session_version == victim.session_version
    page = response.get_data(as_text=True)
    assert "<code>" not in page
    assert f"只有管理员可以修改账号“{victim.username}”" in page  # the refusal says why (services.NotAllowed)


def test_hr_resets_a_learners_password_and_admin_resets_a_trainers(app, people):
    client, token = _client_for(app, people["hr"])
    response = client.post(f"/admin/users/{people['learner'].id}/reset-password", data={"csrf_token": token})
    assert response.status_code == 200
    shown = response.get_data(as_text=True).split("<code>")[1].split("</code>")[0]
    assert _user(app, "le1").check_password(shown)
    client, token = _client_for(app, people["admin"])
    response = client.post(f"/admin/users/{people['trainer'].id}/reset-password", data={"csrf_token": token})
    assert response.status_code == 200
    shown = response.get_data(as_text=True).split("<code>")[1].split("</code>")[0]
    assert _user(app, "tr1").check_password(shown) and _user(app, "tr1").must_change_password


@pytest.mark.parametrize("roles", [["admin"], ["trainer"], ["hr"], ["learner", "admin"]])
def test_hr_cannot_create_anyone_but_learners(app, people, roles):
    client, token = _client_for(app, people["hr"])
    response = client.post("/admin/users/new", data={"csrf_token": token, "username": "sneaky", "name": "S",
                                                     "roles": roles})
    assert response.status_code == 403
    assert "Only an administrator" in response.get_data(as_text=True) or "管理员" in response.get_data(as_text=True)
    assert _user(app, "sneaky") is None


def test_hr_creates_a_learner_and_is_offered_only_that_role(app, people):
    client, token = _client_for(app, people["hr"])
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="learner"' in page and 'value="admin"' not in page and 'value="trainer"' not in page
    response = client.post("/admin/users/new", data={"csrf_token": token, "username": "fresh", "name": "F",
                                                     "roles": ["learner"]})
    assert response.status_code == 200 and {r.value for r in _user(app, "fresh").role_set} == {"learner"}


def test_hr_cannot_grant_roles_even_to_a_learner_or_itself(app, people):
    client, token = _client_for(app, people["hr"])
    learner = people["learner"]
    response = client.post(f"/admin/users/{learner.id}", data={
        "csrf_token": token, "name": "L", "roles": ["learner", "admin"], "active": "y"})
    assert response.status_code == 403
    assert {r.value for r in _user(app, "le1").role_set} == {"learner"}
    # its own account carries the HR role, so HR cannot open it here (no self-promotion)
    hr = people["hr"]
    assert client.get(f"/admin/users/{hr.id}").status_code == 403
    response = client.post(f"/admin/users/{hr.id}", data={"csrf_token": token, "name": "H", "roles": ["hr", "admin"],
                                                          "active": "y"})
    assert response.status_code == 403 and {r.value for r in _user(app, "hr1").role_set} == {"hr"}


@pytest.mark.parametrize("target", ["admin", "trainer", "other_hr"])
def test_hr_cannot_deactivate_or_edit_non_learners(app, people, target):
    client, token = _client_for(app, people["hr"])
    victim = people[target]
    assert client.get(f"/admin/users/{victim.id}").status_code == 403
    response = client.post(f"/admin/users/{victim.id}", data={
        "csrf_token": token, "name": "renamed", "roles": sorted(r.value for r in victim.role_set)})
    assert response.status_code == 403
    after = _user(app, victim.username)
    assert after.active and after.name == victim.name


def test_hr_deactivates_a_learner(app, people):
    client, token = _client_for(app, people["hr"])
    response = client.post(f"/admin/users/{people['learner'].id}", data={
        "csrf_token": token, "name": "Le1", "roles": ["learner"]})
    assert response.status_code == 302
    assert not _user(app, "le1").active


def test_admin_manages_admins_and_roles(app, people):
    client, token = _client_for(app, people["admin"])
    response = client.post("/admin/users/new", data={"csrf_token": token, "username": "boss2", "name": "B2",
                                                     "roles": ["admin"]})
    assert response.status_code == 200 and {r.value for r in _user(app, "boss2").role_set} == {"admin"}
    hr = people["hr"]
    response = client.post(f"/admin/users/{hr.id}", data={"csrf_token": token, "name": "H", "roles": ["hr", "trainer"],
                                                          "active": "y"})
    assert response.status_code == 302 and {r.value for r in _user(app, "hr1").role_set} == {"hr", "trainer"}
    boss2 = _user(app, "boss2")
    response = client.post(f"/admin/users/{boss2.id}", data={"csrf_token": token, "name": "B2", "roles": ["admin"]})
    assert response.status_code == 302 and not _user(app, "boss2").active


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, people):
    admin = people["admin"]
    with app.app_context():
        user = db.session.get(User, admin.id)
        with pytest.raises(services.AccountError):
            services.update_user(None, user, name="Boss", email=None, cohort=None, roles=["hr"], active=True)
        db.session.rollback()
        user = db.session.get(User, admin.id)
        with pytest.raises(services.AccountError):
            services.update_user(None, user, name="Boss", email=None, cohort=None, roles=["admin"], active=False)
        db.session.rollback()
    assert {r.value for r in _user(app, "boss").role_set} == {"admin"} and _user(app, "boss").active


def test_services_refuse_without_the_views(app, people):
    """The rule lives in the services: another caller (a new view, a script) gets the same refusal."""
    with app.app_context():
        hr = db.session.get(User, people["hr"].id)
        admin = db.session.get(User, people["admin"].id)
        learner = db.session.get(User, people["learner"].id)
        with pytest.raises(services.NotAllowed):
            services.reset_password(hr, admin)
        with pytest.raises(services.NotAllowed):
            services.create_user("x-admin", "X", ["admin"], actor=hr)
        with pytest.raises(services.NotAllowed):
            services.update_user(hr, learner, name="L", email=None, cohort=None, roles=["learner", "hr"], active=True)
        with pytest.raises(services.NotAllowed):
            services.update_user(hr, admin, name="A", email=None, cohort=None, roles=["admin"], active=False)
        db.session.rollback()
        assert services.reset_password(admin, hr)  # an administrator may


def test_hr_import_creates_learners_and_refuses_other_roles_by_line(app, people):
    import io
    client, token = _client_for(app, people["hr"])
    csv_text = ("username,name,email,cohort,roles\n"
                "ok1,OK,,c,learner\n"
                "evil1,E,,c,admin\n"
                "evil2,E,,c,learner;trainer\n")
    response = client.post("/admin/users/import", data={"csrf_token": token,
                                                        "file": (io.BytesIO(csv_text.encode()), "c.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("Line 3:" in page or "第 3 行" in page) and ("Line 4:" in page or "第 4 行" in page)
    assert _user(app, "ok1") is not None and _user(app, "evil1") is None and _user(app, "evil2") is None

