import io

from app.accounts.models import User
from app.extensions import db
from tests.support.web import csrf_token, login_as

CSV = (
    "username,name,email,cohort,roles\n"
    "wangwu,王五,wangwu@example.com,2026-03,learner\n"
    "bad name,坏行,,2026-03,learner\n"          # line 3: invalid username
    "zhaoliu,赵六,not-an-email,2026-03,learner\n"  # line 4: bad email
    "sunqi,孙七,,2026-03,learner;trainer\n"
    "zhouba,周八,,2026-03,pilot\n"              # line 6: unknown role
    "wangwu,王五重复,,2026-03,learner\n"          # line 7: duplicate username
)


def test_csv_import_keeps_good_rows_and_reports_bad_ones_by_line(app, client, make_user):
    admin = make_user("boss", "admin")
    login_as(client, admin)
    token = csrf_token(client, "/admin/users/import")
    response = client.post("/admin/users/import", data={
        "csrf_token": token, "file": (io.BytesIO(("\ufeff" + CSV).encode()), "cohort.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for line in (3, 4, 6, 7):
        assert f"Line {line}:" in page or f"第 {line} 行" in page, line
    # Line 2 is good: it is never reported (another line may name it as the first of a duplicate).
    assert "Line 2:" not in page and "第 2 行：" not in page
    with app.app_context():
        names = set(db.session.scalars(db.select(User.username)).all())
        assert names == {"boss", "wangwu", "sunqi"}
        sunqi = db.session.scalar(db.select(User).filter_by(username="sunqi"))
        assert {r.value for r in sunqi.role_set} == {"learner", "trainer"}
        assert sunqi.must_change_password and sunqi.cohort == "2026-03"


def test_csv_without_required_columns_is_rejected_whole(app, client, make_user):
    login_as(client, make_user("boss", "hr"))
    token = csrf_token(client, "/admin/users/import")
    response = client.post("/admin/users/import", data={
        "csrf_token": token, "file": (io.BytesIO(b"username,name\nx,y\n"), "c.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "roles" in page and ("Line 1:" in page or "第 1 行" in page)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_admin_creates_user_in_browser_form(app, client, make_user):
    login_as(client, make_user("boss", "admin"))
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={"csrf_token": token, "username": "newbie", "name": "新人",
                                                     "roles": ["learner"], "cohort": "c1"})
    assert response.status_code == 200
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="newbie"))
        assert user is not None and user.must_change_password
        # the temporary password shown once is the real one
        shown = response.get_data(as_text=True).split("<code>")[1].split("</code>")[0]
        assert user.check_password(shown)


def test_cli_users_create(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "cliuser", "--role", "trainer", "--role", "hr"])
    assert result.exit_code == 0, result.output
    assert "initial password:" in result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="cliuser"))
        assert {r.value for r in user.role_set} == {"trainer", "hr"}
    again = runner.invoke(args=["users", "create", "cliuser", "--role", "trainer"])
    assert again.exit_code != 0 and "already taken" in again.output


def test_demo_load_is_idempotent(app):
    app.config["DEMO_MODE"] = True
    try:
        runner = app.test_cli_runner()
        first = runner.invoke(args=["demo", "load"])
        assert first.exit_code == 0, first.output
        with app.app_context():
            before = [(u.username, u.password_hash) for u in db.session.scalars(db.select(User).order_by(User.id))]
        second = runner.invoke(args=["demo", "load"])
        assert second.exit_code == 0
        with app.app_context():
            after = [(u.username, u.password_hash) for u in db.session.scalars(db.select(User).order_by(User.id))]
        assert before == after
        assert {u for u, _ in after} == {"newhire", "trainee", "trainer", "hr", "admin", "agent"}
    finally:
        app.config["DEMO_MODE"] = False


def test_demo_load_refused_outside_demo_mode(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "DEMO_MODE" in result.output
