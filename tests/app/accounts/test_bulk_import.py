"""Issue 19 items 11 and 12: bulk user import, the password sheet, bad rows and oversized cells."""
from __future__ import annotations

import base64
import csv
import io
import re
import time

from app.accounts import services
from app.accounts.models import TEMPORARY_HASH_METHOD, User
from app.extensions import db
from tests.support.web import csrf_token, login_as

SHEET = re.compile(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"')
CONFUSABLE = set("0Oo1lIi")


def _import(client, data: bytes):
    token = csrf_token(client, "/admin/users/import")
    return client.post("/admin/users/import", data={"csrf_token": token, "file": (io.BytesIO(data), "cohort.csv")},
                       content_type="multipart/form-data")


def _sheet(response) -> list[list[str]]:
    match = SHEET.search(response.get_data(as_text=True))
    assert match, "no password sheet on the result page"
    return list(csv.reader(io.StringIO(base64.b64decode(match.group(1)).decode("utf-8-sig"))))


def _count(app, prefix: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(User.id)).where(User.username.like(f"{prefix}%")))


def test_a_large_import_is_fast_and_every_password_is_on_the_sheet(app, client, make_user):
    login_as(client, make_user("boss", "admin"))
    rows = 3000
    data = ("username,name,email,cohort,roles\n"
            + "".join(f"bulk{i:05d},学员{i},bulk{i}@example.com,2026-05,learner\n" for i in range(rows))).encode()
    started = time.perf_counter()
    response = _import(client, data)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    # bench/user_import.py measures the real figure (10,000 rows); this bound is loose for busy
    # test machines yet far below the old one-row-at-a-time import (about 8 rows/s).
    assert elapsed < 10, f"{rows} rows took {elapsed:.1f} s"
    sheet = _sheet(response)
    assert sheet[0] == ["username", "name", "cohort", "temporary_password"] and len(sheet) == rows + 1
    assert _count(app, "bulk") == rows
    with app.app_context():
        for username, _, cohort, password in (sheet[1], sheet[rows // 2], sheet[-1]):
            user = db.session.scalar(db.select(User).filter_by(username=username))
            assert user.check_password(password) and user.must_change_password and user.cohort == cohort
            assert {r.value for r in user.role_set} == {"learner"}
    assert not CONFUSABLE & set("".join(row[3] for row in sheet[1:]))


def test_an_imported_temporary_password_logs_in_and_must_be_changed(app, client, make_user):
    login_as(client, make_user("boss", "admin"))
    sheet = _sheet(_import(client, b"username,name,email,cohort,roles\nnewbie,New,,c,learner\n"))
    anonymous = app.test_client()
    token = csrf_token(anonymous)
    response = anonymous.post("/login", data={"csrf_token": token, "username": "newbie", "password": sheet[1][3]})
    assert response.status_code == 302
    assert "/account/password" in anonymous.get("/").headers.get("Location", "")


def test_the_cheap_temporary_hash_does_not_make_login_faster(app, make_user):
    """A bulk-imported account must not answer a login check faster than any other (timing would tell)."""
    make_user("normal", "learner")
    with app.app_context():
        services.import_users_csv(b"username,name,email,cohort,roles\ncheap,C,,c,learner\n")
        cheap = db.session.scalar(db.select(User).filter_by(username="cheap"))
        normal = db.session.scalar(db.select(User).filter_by(username="normal"))
        assert cheap.password_hash.startswith(TEMPORARY_HASH_METHOD + "$")

        def seconds(user):
            started = time.perf_counter()
            user.check_password("wrong-guess-123")
            return time.perf_counter() - started
        assert min(seconds(cheap) for _ in range(3)) > 0.5 * min(seconds(normal) for _ in range(3))


def test_generated_passwords_avoid_confusable_characters():
    passwords = {services.generate_password() for _ in range(2000)}
    assert len(passwords) == 2000
    assert not CONFUSABLE & set("".join(passwords))
    assert all(re.fullmatch(r"[A-Za-z2-9]{5}-[A-Za-z2-9]{5}-[A-Za-z2-9]{5}", p) for p in passwords)


def test_the_sheet_neutralises_formulas_in_names(app, client, make_user):
    login_as(client, make_user("boss", "admin"))
    data = ('username,name,email,cohort,roles\n'
            'f1,"=HYPERLINK(""http://evil/"",""x"")",,+cmd|calc,learner\n'
            'f2,@SUM(A1),,-1,learner\n').encode()
    sheet = _sheet(_import(client, data))
    assert sheet[1][1].startswith("'=") and sheet[1][2].startswith("'+")
    assert sheet[2][1].startswith("'@") and sheet[2][2] == "'-1"


def test_the_sheet_is_only_in_the_result_page(app, client, make_user):
    """The passwords are stored nowhere: the page that shows them is the only copy."""
    login_as(client, make_user("boss", "admin"))
    response = _import(client, b"username,name,email,cohort,roles\nonce,O,,c,learner\n")
    password = _sheet(response)[1][3]
    assert password not in client.get("/admin/users").get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="once"))
        assert password not in user.password_hash


def test_nul_bytes_and_over_long_cells_are_per_row_errors(app, client, make_user):
    """On PostgreSQL either would fail the whole insert with a 500; they are refused per row first."""
    login_as(client, make_user("boss", "admin"))
    data = ("username,name,email,cohort,roles\n"
            "good1,Good,,c,learner\n"
            "nul1,Bad\x00Name,,c,learner\n"                 # line 3
            f"long1,{'长' * 121},,c,learner\n"              # line 4: name over 120
            f"long2,L,,{'c' * 65},learner\n"               # line 5: cohort over 64
            f"long3,L,{'e' * 250}@x.cn,c,learner\n"         # line 6: email over 254
            "good2,Good,,c,learner\n").encode()
    response = _import(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for line in (3, 4, 5, 6):
        assert f"Line {line}:" in page or f"第 {line} 行" in page, line
    with app.app_context():
        names = set(db.session.scalars(db.select(User.username)).all())
    assert names == {"boss", "good1", "good2"}


def test_a_cell_over_128_kib_is_a_clear_error_not_a_500(app, client, make_user):
    login_as(client, make_user("boss", "admin"))
    data = ("username,name,email,cohort,roles\nfine,F,,c,learner\n"
            f"huge,{'x' * (129 * 1024)},,c,learner\n").encode()
    response = _import(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and ("nothing was imported" in page or "未导入" in page or "没有导入" in page)
    assert _count(app, "fine") == 0 and _count(app, "huge") == 0


def test_duplicates_within_the_file_name_the_first_line(app, client, make_user):
    login_as(client, make_user("boss", "admin"))
    response = _import(client, b"username,name,email,cohort,roles\ntwin,A,,c,learner\nTWIN,B,,c,learner\n")
    page = response.get_data(as_text=True)
    assert "Line 3:" in page or "第 3 行" in page
    assert _count(app, "twin") == 1
