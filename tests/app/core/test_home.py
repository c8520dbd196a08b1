"""The home page: panels registered by each domain, grouped by role, never a redirect, read-only,
and a fixed number of queries however many learners there are."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.core.access import Role
from app.core.home import HomePanel, panels_for, register_home_panel
from app.extensions import db
from tests.support.web import csrf_token, login_as

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)\b", re.IGNORECASE)

LEARNER_PANELS = ["continue", "practice", "assigned", "next-certification", "feedback"]
TRAINER_PANELS = ["flagged-calls", "overdue", "failed-rules", "recent-calls"]
HR_PANELS = ["pending-certificates", "expiring-certificates", "cohort-levels"]
ADMIN_PANELS = ["system", "speech", "grading-queue", "user-imports"]


@contextmanager
def statements(app):
    """Every SQL statement the app runs inside the block."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def panel_ids(html: str) -> list[str]:
    return re.findall(r'<section class="card home-panel" id="panel-([a-z0-9-]+)"', html)


@pytest.mark.parametrize("role, expected", [("learner", LEARNER_PANELS), ("trainer", TRAINER_PANELS),
                                            ("hr", HR_PANELS), ("admin", ADMIN_PANELS)])
def test_each_role_gets_its_own_panels_on_home_and_no_redirect(app, client, make_user, role, expected):
    login_as(client, make_user(f"home-{role}", role))
    response = client.get("/")
    assert response.status_code == 200  # no redirect away from home any more
    html = response.get_data(as_text=True)
    assert panel_ids(html) == expected
    assert 'id="home-no-roles"' not in html
    # A single role: no group headings over the panels, the menu stays as it was.
    assert 'class="home-group-title"' not in html
    assert 'id="main-nav"' in html


def test_a_multi_role_user_sees_each_roles_panels_grouped(app, client, make_user):
    login_as(client, make_user("home-multi", "learner", "trainer", "hr"))
    html = client.get("/").get_data(as_text=True)
    assert panel_ids(html) == LEARNER_PANELS + TRAINER_PANELS + HR_PANELS
    groups = re.findall(r'<section class="home-group" id="home-([a-z]+)"', html)
    assert groups == ["learner", "trainer", "hr"]
    assert html.count('class="home-group-title"') == 3


def test_a_user_without_roles_is_told_to_ask_for_one(app, client, make_user):
    user = make_user("home-none", "learner")
    with app.app_context():
        from app.accounts.models import UserRole
        db.session.query(UserRole).filter_by(user_id=user.id).delete()
        db.session.commit()
    login_as(client, user)
    html = client.get("/").get_data(as_text=True)
    assert 'id="home-no-roles"' in html and panel_ids(html) == []


def test_registry_orders_by_role_then_order_and_shows_a_shared_panel_once(app):
    class Someone:
        role_set = {Role.TRAINER, Role.LEARNER}

    with app.test_request_context():
        registered = app.extensions["academy_home_panels"]
        before = list(registered)
        try:
            register_home_panel(app, HomePanel("zz-shared", "Shared", (Role.TRAINER, Role.LEARNER), 1, lambda u: ""))
            groups = panels_for(Someone())
            assert [role for role, _ in groups] == [Role.LEARNER, Role.TRAINER]
            assert groups[0][1][0].key == "zz-shared"  # first in the first group that sees it ...
            assert "zz-shared" not in [p.key for p in groups[1][1]]  # ... and only there
            with pytest.raises(ValueError):
                register_home_panel(app, HomePanel("zz-shared", "Again", (Role.HR,), 1, lambda u: ""))
        finally:
            registered[:] = before


def test_admin_system_panels_say_database_speech_and_queue_state(app, client, make_user):
    login_as(client, make_user("home-admin", "admin"))
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'id="system-database">Database:\s*<span class="badge ok">reachable', html)
    # Every language the speech set-up knows, each either graded by voice or typed-only.
    for language in ("zh-CN", "en-US", "ko-KR"):
        assert f'data-language="{language}"' in html
    assert "graded by voice" in html or "typed replies only" in html
    assert 'id="queue-embedded"' in html  # no REDIS_URL in the tests: said so, not an error
    assert "Cohort imports (Users → Import a cohort) will appear here" in html


def test_admin_sees_recent_imports_with_counts_and_who(app, client, make_user):
    from app.accounts.models import User
    from app.accounts.services import import_users_csv
    admin = make_user("home-imports", "admin", name="管理员老周")
    with app.app_context():
        report = import_users_csv("username,name,email,cohort,roles\nimp-a,甲,,2026-冬,learner\n"
                                  "imp-b,乙,,2026-冬,learner\nbad name,丙,,2026-冬,learner\n".encode(),
                                  db.session.get(User, admin.id))
        assert len(report.created) == 2 and len(report.errors) == 1
    login_as(client, admin)
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    html = client.get("/").get_data(as_text=True)
    assert "2 accounts created, 1 rows refused" in html
    assert "Cohorts: 2026-冬" in html and "by 管理员老周" in html


def _home_statements(app, client, user) -> list[str]:
    login_as(client, user)
    client.get("/")  # warm caches (the content library, compiled templates)
    with statements(app) as seen:
        assert client.get("/").status_code == 200
    return seen


def test_home_writes_nothing_and_runs_a_fixed_number_of_queries(app, client, content, make_user):
    """GET / for every role with data on the page: no INSERT/UPDATE/DELETE, and the same number of
    statements with 2 learners as with 12 (no query per learner)."""
    from datetime import timedelta

    from app.assignments.services import create_assignment, today
    from app.accounts.models import User
    everyone = make_user("home-all", "learner", "trainer", "hr", "admin", cohort="A")
    trainer = make_user("home-coach", "trainer")

    def add_learners(first: int, count: int):
        for n in range(first, first + count):
            make_user(f"home-l{n}", "learner", cohort="A" if n % 2 else "B")

    add_learners(0, 2)
    with app.app_context():
        for cohort in ("A", "B"):
            assignment = create_assignment(kind="course", slug="call-centre-basics", due_date=today(),
                                           created_by=db.session.get(User, trainer.id), cohort=cohort)
            assignment.due_date = today() - timedelta(days=2)  # overdue now
        db.session.commit()
    # A failed call of a learner, flagged and reviewed with a comment, so the trainer's and the
    # learner's call panels have rows too.
    from app.reviews import services as reviews
    from app.roleplays.models import Attempt
    from tests.app.assignments.helpers import Drill, failed_call
    attempt_id = failed_call(app, Drill(app.test_client(), everyone))
    with app.app_context():
        reviews.flag(db.session.get(Attempt, attempt_id), db.session.get(User, everyone.id), "请复核")
        turn = db.session.get(Attempt, attempt_id).turns[0]
        item = next(i for i in turn.items if i["kind"] == "intent")
        reviews.override_item(attempt_id, turn.id, item["item_id"], item["points_possible"], "其实说到了",
                              db.session.get(User, trainer.id))
        db.session.commit()
    few = _home_statements(app, client, everyone)
    html = client.get("/").get_data(as_text=True)
    assert f"/reviews/attempts/{attempt_id}" in html and "其实说到了" in html
    assert not [s for s in few if WRITES.match(s)], [s for s in few if WRITES.match(s)]
    add_learners(2, 10)
    many = _home_statements(app, client, everyone)
    assert not [s for s in many if WRITES.match(s)]
    assert len(many) == len(few), (len(few), len(many))


def test_admin_queue_panel_shows_counts_or_says_the_queue_is_unreachable(app, client, make_user, monkeypatch):
    import app.jobs.queue as queue
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(queue, "queue_counts", lambda connection=None: {
        "queue": "grading", "queued": 4, "started": 1, "scheduled": 2, "failed": 3, "finished": 9})
    login_as(client, make_user("home-queue", "admin"))
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    html = client.get("/").get_data(as_text=True)
    counts = re.search(r'<ul class="home-list" id="queue-counts">.*?</ul>', html, re.S).group(0)
    assert re.search(r"Waiting: <strong>4</strong>", counts) and re.search(r"Failed: <strong[^>]*>3</strong>", counts)

    def refuse(connection=None):
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(queue, "queue_counts", refuse)
    response = client.get("/")
    assert response.status_code == 200 and 'id="queue-error"' in response.get_data(as_text=True)
