"""Input the database or the parsers cannot take gets a clear 4xx, never a 500 (issue 19, item 13).

Every test talks HTTP to a served app (werkzeug in a thread), as an attacker would.
"""
from __future__ import annotations

import re
import threading

import pytest
import requests
from sqlalchemy import select
from werkzeug.routing import IntegerConverter
from werkzeug.serving import make_server

from app.core.access import Role
from app.core.inputs import MAX_DB_INT, check_json, db_int
from app.extensions import db
from tests.support.accounts import TEST_PASSWORD

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
# 20 KB: under the request size limits, and far deeper than Python's recursion limit.
DEEP_JSON = "[" * 10_000 + "]" * 10_000


@pytest.fixture
def served(app):
    # Built with SERVER_NAME=localhost for url_for outside requests; reached here as 127.0.0.1:port.
    app.config["SERVER_NAME"] = None
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    app.config["SERVER_NAME"] = "localhost"


class Browser:
    """A requests session that keeps cookies, reads the CSRF token like a page script and logs in by the form."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"
        self.token = ""

    def refresh_token(self, path: str = "/login") -> str:
        page = self.http.get(self.base + path, timeout=30)
        self.token = CSRF_META.search(page.text).group(1)
        return self.token

    def login(self, username: str) -> "Browser":
        self.refresh_token()
        response = self.http.post(self.base + "/login", data={"username": username, "password": TEST_PASSWORD,
                                                              "csrf_token": self.token},
                                  allow_redirects=False, timeout=30)
        assert response.status_code == 302, response.text[:500]
        self.refresh_token("/account/password")
        return self

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-CSRFToken": self.token, **kwargs.pop("headers", {})}
        return self.http.request(method, self.base + path, headers=headers, allow_redirects=False, timeout=60,
                                 **kwargs)

    def post_json_text(self, path: str, text: str) -> requests.Response:
        return self.request("POST", path, data=text.encode(), headers={"Content-Type": "application/json"})


# --- JSON bodies -------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ['{"seconds": NaN}', '{"seconds": Infinity}', '{"seconds": 1e400}',
                                  '{"seconds": 10000000000000000000000000000000}', DEEP_JSON,
                                  '{"seconds": 5, "x": "a\\u0000b"}'],
                         ids=["nan", "infinity", "1e400", "huge-int", "deeply-nested", "nul"])
def test_json_the_app_cannot_store_gets_400_on_a_json_api(app, served, content, make_user, body):
    from app.courses.models import Lesson
    make_user("reader", "learner")
    with app.app_context():
        lesson = db.session.scalars(select(Lesson).order_by(Lesson.id)).first()
        url = f"/courses/{lesson.course.slug}/lessons/{lesson.slug}/time"
    browser = Browser(served).login("reader")
    response = browser.post_json_text(url, body)
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    # The reason is in the answer (detail), not only "bad request".
    detail = response.json()["detail"]
    assert any(word in detail for word in ("NaN", "nested", "NUL")), detail
    # A sane body still works.
    assert browser.post_json_text(url, '{"seconds": 5}').status_code == 200


def test_deeply_nested_json_is_400_on_every_json_reader(served, make_user):
    make_user("writer", "trainer")
    browser = Browser(served).login("writer")
    # The authoring "try a reply" API parses the body before looking the scenario up.
    response = browser.post_json_text("/authoring/scenarios/no-such-thing/try", DEEP_JSON)
    assert response.status_code == 400 and "nested" in response.json()["detail"]


def test_check_json_accepts_ordinary_bodies_and_leaves_malformed_ones_to_the_view():
    check_json(b'{"response": ["a", 1, 2.5, {"k": null}], "text": "\\u4f60\\u597d"}')
    check_json(b"not json at all")  # get_json(silent=True) still returns None for it
    check_json("[" * 31 + "]" * 31)


# --- integers in addresses and queries ----------------------------------------------------------

def _int_routes(app):
    for rule in app.url_map.iter_rules():
        if any(isinstance(rule._converters[arg], IntegerConverter) for arg in rule.arguments):
            yield rule


def test_out_of_range_ids_are_404_on_every_int_route(app, served, make_user):
    make_user("everyone", *[role.value for role in Role])
    browser = Browser(served).login("everyone")
    rules = list(_int_routes(app))
    assert len(rules) > 20
    for rule in rules:
        # Built with a marker, then the marker replaced: the converter cannot build what it refuses.
        values = {arg: (987654321 if isinstance(rule._converters[arg], IntegerConverter) else "no-such-thing")
                  for arg in rule.arguments}
        template = rule.build(values, append_unknown=False)[1]
        for number in (str(MAX_DB_INT + 1), str(2**63), str(10**30), "9" * 5000):
            url = template.replace("987654321", number)
            method = ("GET" if "GET" in rule.methods else "POST" if "POST" in rule.methods
                      else sorted(rule.methods - {"HEAD", "OPTIONS"})[0])
            response = browser.request(method, url, data={"csrf_token": browser.token})
            assert response.status_code == 404, (rule.rule, number[:20], response.status_code)


def test_huge_numbers_in_query_strings_are_never_a_500(app, served, make_user):
    make_user("everyone", *[role.value for role in Role])
    browser = Browser(served).login("everyone")
    query = {"page": "1e22", "user": "99999999999999999999", "turn": "99999999999999999999"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        for value in ("1e22", "99999999999999999999", "-5", "9" * 5000):
            params = {name: value for name in query}
            response = browser.request("GET", rule.rule, params=params)
            assert response.status_code < 500, (rule.rule, value[:20], response.status_code)
            checked += 1
    assert checked > 40
    # The review queue reads ?page=: an out-of-range page is page 1, not an overflow in OFFSET.
    assert browser.request("GET", "/reviews", params={"page": "99999999999999999999"}).status_code == 200


def test_db_int_takes_only_what_an_integer_column_holds():
    assert db_int("42") == 42 and db_int(" 7 ") == 7 and db_int(str(MAX_DB_INT)) == MAX_DB_INT
    for bad in ("1e22", str(MAX_DB_INT + 1), "-1", "", "x", "٣", "9" * 5000):
        with pytest.raises(ValueError):
            db_int(bad)


# --- NUL characters -----------------------------------------------------------------------------

def test_nul_bytes_in_the_anonymous_login_form_and_verify_page_are_400(served, make_user):
    make_user("admin1", "admin")
    browser = Browser(served)
    browser.refresh_token()
    response = browser.request("POST", "/login", data={"username": "admin1\x00", "password": "x\x00",
                                                        "csrf_token": browser.token})
    assert response.status_code == 400 and "NUL" in response.text
    assert browser.request("GET", "/verify/ABC%00DEF").status_code == 400
    assert browser.request("GET", "/login", params={"next": "/\x00"}).status_code == 400
    # The ordinary login still works from the same session.
    assert browser.request("POST", "/login", data={"username": "admin1", "password": TEST_PASSWORD,
                                                    "csrf_token": browser.token}).status_code == 302


def test_nul_bytes_in_a_logged_in_form_or_query_are_400(served, make_user):
    make_user("hr1", "hr")
    browser = Browser(served).login("hr1")
    assert browser.request("GET", "/certification/records", params={"q": "a\x00b"}).status_code == 400
    response = browser.request("POST", "/account/password", data={"current_password": "a\x00",
                                                                   "csrf_token": browser.token})
    assert response.status_code == 400
