"""Issue 19 item 12: text over 128 KiB anywhere gets a clear 4xx, never a 500."""
from __future__ import annotations

from tests.support.web import csrf_token, login_as

OVER = "x" * (128 * 1024 + 1)


def test_a_form_field_over_128_kib_is_413_even_anonymous(app, client):
    token = csrf_token(client)
    response = client.post("/login", data={"csrf_token": token, "username": OVER, "password": "p"})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than the limit" in page or "超过" in page


def test_a_field_under_the_limit_reaches_the_form(app, client):
    token = csrf_token(client)
    response = client.post("/login", data={"csrf_token": token, "username": "x" * (100 * 1024), "password": "p"})
    assert response.status_code == 200


def test_a_json_body_over_128_kib_is_413_json(app, client, make_user):
    login_as(client, make_user("zhang", "learner"))
    token = csrf_token(client, "/account/password")
    response = client.put("/exams/attempts/1/answers/q1", json={"answer": OVER},
                          headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == 413 and response.is_json


def test_a_query_string_over_128_kib_is_414(app, client, make_user):
    login_as(client, make_user("boss", "admin"))
    response = client.get("/admin/users", query_string={"q": OVER})
    assert response.status_code == 414
