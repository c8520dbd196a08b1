"""Authoring is for trainers: learners and HR are refused everywhere, and only trainers see it in the menu."""
import pytest

from tests.support.authoring import scenario_yaml
from tests.support.web import csrf_token, login_as

PAGES = ["/authoring/", "/authoring/scenarios/new", "/authoring/scenarios/import", "/authoring/banks/new",
         "/authoring/banks/import", "/authoring/scenarios/broadband-outage-refund",
         "/authoring/scenarios/broadband-outage-refund/export", "/authoring/banks/quiz-call-handling"]


@pytest.mark.parametrize("role", ["learner", "hr"])
def test_learners_and_hr_are_refused(app, client, make_user, content, role):
    user = make_user(f"not-{role}", role)
    login_as(client, user)
    token = csrf_token(client, "/account/password")
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    assert client.post("/authoring/scenarios/import", data={"csrf_token": token, "text": scenario_yaml()}).status_code == 403
    tried = client.post("/authoring/scenarios/broadband-outage-refund/try", json={"node": "opening", "text": "您好"},
                        headers={"X-CSRFToken": token})
    assert tried.status_code == 403
    assert "/authoring/" not in client.get("/account/password").get_data(as_text=True)


def test_trainers_may_use_every_page_and_see_it_in_the_menu(app, author, content):
    for url in PAGES:
        assert author.get(url).status_code == 200, url
    assert 'href="/authoring/"' in author.get("/authoring/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(app, client):
    response = client.get("/authoring/")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_try_a_reply_needs_the_csrf_header(app, author, content):
    response = author.client.post("/authoring/scenarios/broadband-outage-refund/try",
                                  json={"node": "opening", "text": "您好"})
    assert response.status_code == 400
