"""Taking an exam in Chromium: the call-handling course quiz end to end (ordering with the
up/down buttons, a reload mid-way keeping the answers), on a desktop and on a phone."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core.clock import utcnow
from app.content.services import load_bundle
from app.exams.models import ExamAttempt
from app.extensions import db
from tests.support.exams import sync_bundle
from tests.support.browser import log_in
from tests.support.accounts import TEST_PASSWORD

QUIZ = "quiz-call-handling"


@pytest.fixture
def shipped_exams(app):
    with app.app_context():
        bundle = load_bundle()
    sync_bundle(app, bundle)


def paper_of(app, attempt_id: int) -> list[dict]:
    with app.app_context():
        return db.session.get(ExamAttempt, attempt_id).paper


def attempt_id_of(page) -> int:
    """The attempt the page shows, once its scripts have run (answers made earlier would not autosave)."""
    page.wait_for_url(re.compile(r"/exams/attempts/\d+$"), wait_until="load")
    return int(re.search(r"/exams/attempts/(\d+)", page.url).group(1))


def answer_correctly(page, entry: dict) -> None:
    question = page.locator(f'fieldset[data-question="{entry["id"]}"]')
    if entry["type"] in ("single", "multiple"):
        for option in entry["options"]:
            if option.get("correct"):
                question.locator(f'input[value="{option["id"]}"]').check()
    elif entry["type"] == "true_false":
        question.locator(f'input[value="{"true" if entry["answer"] else "false"}"]').check()
    elif entry["type"] == "ordering":
        put_in_order(question, [item["id"] for item in entry["items"]])
    else:
        raise AssertionError(f"the quiz has no {entry['type']} questions")


def shown_order(question) -> list[str]:
    return question.locator("li.ordering-item").evaluate_all("items => items.map(li => li.dataset.item)")


def put_in_order(question, correct: list[str]) -> None:
    """Move each item up into place with its "move up" button, as a keyboard or touch user would."""
    for target, item in enumerate(correct):
        position = shown_order(question).index(item)
        for _ in range(position - target):
            question.locator(f'li[data-item="{item}"] button.move-up').click()
        assert shown_order(question)[target] == item
    # Buttons that would move past either end are disabled.
    expect(question.locator("li.ordering-item").first.locator("button.move-up")).to_be_disabled()
    expect(question.locator("li.ordering-item").last.locator("button.move-down")).to_be_disabled()


def wait_until_saved(page) -> None:
    expect(page.locator("#autosave-status")).to_have_class(re.compile(r"autosave-saved"))


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


@pytest.mark.browser
def test_take_the_call_handling_quiz_end_to_end(page, live_server, app, shipped_exams, make_user):
    make_user("b-quiz", "learner")
    log_in(page, live_server, "b-quiz", TEST_PASSWORD)
    page.goto(f"{live_server}/exams")
    page.locator(f'li[data-exam="{QUIZ}"] a.button').click()
    expect(page.locator("h1")).to_contain_text("课程测验：呼叫处理流程")
    page.click("#start-attempt")
    expect(page.locator("fieldset.question")).to_have_count(8)
    attempt_id = attempt_id_of(page)
    paper = paper_of(app, attempt_id)
    assert "flow-1" in [entry["id"] for entry in paper]  # the draw always includes the ordering question
    shown = page.locator("fieldset.question").evaluate_all("sets => sets.map(f => f.dataset.question)")
    assert shown == [entry["id"] for entry in paper]

    ordering_first = sorted(paper, key=lambda entry: entry["type"] != "ordering")
    first_half, second_half = ordering_first[:4], ordering_first[4:]
    for entry in first_half:
        answer_correctly(page, entry)
    wait_until_saved(page)
    expect(page.locator("#unanswered")).to_contain_text("4")

    page.reload()
    flow = page.locator('fieldset[data-question="flow-1"]')
    assert shown_order(flow) == ["s1", "s2", "s3", "s4", "s5", "s6"]
    for entry in first_half:
        if entry["type"] in ("single", "multiple"):
            for option in entry["options"]:
                box = page.locator(f'fieldset[data-question="{entry["id"]}"] input[value="{option["id"]}"]')
                assert box.is_checked() == bool(option.get("correct"))
    expect(page.locator("#exam-timer")).to_have_text(re.compile(r"^1?\d:\d\d$"))

    for entry in second_half:
        answer_correctly(page, entry)
    wait_until_saved(page)
    page.click("#submit-attempt")

    expect(page.locator("#result-score")).to_have_text("100.0 %")
    expect(page.locator(".exam-result .badge.ok")).to_have_text("已通过")
    expect(page.locator(".question-result")).to_have_count(8)
    expect(page.locator(".question-result .explanation")).to_have_count(8)
    expect(page.locator("#r-flow-1 .correct-order li").first).to_have_text("在响铃三声之内接起电话")
    # Going back to the paper after submitting shows the result instead.
    page.goto(f"{live_server}/exams/attempts/{attempt_id}")
    expect(page.locator("#result-score")).to_be_visible()
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        assert attempt.score == 100.0 and attempt.passed


@pytest.mark.browser
def test_quiz_on_a_phone(phone_page, live_server, app, shipped_exams, make_user):
    page = phone_page
    make_user("b-phone-quiz", "learner")
    log_in(page, live_server, "b-phone-quiz", TEST_PASSWORD)
    page.goto(f"{live_server}/exams/{QUIZ}")
    assert no_horizontal_scroll(page)
    page.click("#start-attempt")
    attempt_id = attempt_id_of(page)
    assert no_horizontal_scroll(page)
    flow = page.locator('fieldset[data-question="flow-1"]')
    put_in_order(flow, ["s1", "s2", "s3", "s4", "s5", "s6"])
    wait_until_saved(page)
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        assert attempt.answer_for("flow-1").response == ["s1", "s2", "s3", "s4", "s5", "s6"]
    page.click("#submit-attempt")
    # Seven questions are unanswered: the summary asks first, and fits the phone too.
    expect(page.locator("#summary-unanswered")).to_have_attribute("data-count", "7")
    assert no_horizontal_scroll(page)
    page.click("#confirm-submit-attempt")
    expect(page.locator("#result-score")).to_be_visible()
    expect(page.locator("#r-flow-1")).to_contain_text("2 分")
    assert no_horizontal_scroll(page)


@pytest.mark.browser
def test_listen_and_type_is_timed_from_when_the_server_sends_the_audio(page, live_server, app, shipped_exams,
                                                                       make_user):
    make_user("b-listen", "learner")
    log_in(page, live_server, "b-listen", TEST_PASSWORD)
    page.goto(f"{live_server}/exams/cert-agent")
    page.click("#start-attempt")
    attempt_id = attempt_id_of(page)
    listen = next(entry for entry in paper_of(app, attempt_id) if entry["type"] == "listen_type")
    question = page.locator(f'fieldset[data-question="{listen["id"]}"]')
    # Typing before the recording was ever sent is refused, and the page says why.
    question.locator("textarea").fill(listen["text"])
    expect(page.locator("#autosave-status")).to_have_class(re.compile("autosave-error"))
    with app.app_context():
        assert db.session.get(ExamAttempt, attempt_id).answer_for(listen["id"]).response is None
    # Fetching the recording (what pressing play does, with the page's cookies) starts the clock.
    audio_src = question.locator("audio").get_attribute("src")
    assert audio_src == f"/exams/attempts/{attempt_id}/audio/{listen['id']}"
    assert page.request.get(f"{live_server}{audio_src}").headers["content-type"] == "audio/wav"
    with app.app_context():  # the learner then listens and types for half a minute
        answer = db.session.get(ExamAttempt, attempt_id).answer_for(listen["id"])
        answer.audio_served_at -= timedelta(seconds=30)
        db.session.commit()
    question.locator("textarea").fill("")
    question.locator("textarea").fill(listen["text"])
    wait_until_saved(page)
    with app.app_context():
        answer = db.session.get(ExamAttempt, attempt_id).answer_for(listen["id"])
        assert answer.response == listen["text"]
        assert answer.audio_served_at is not None and answer.answered_at >= answer.audio_served_at


@pytest.mark.browser
def test_lost_session_and_time_running_out(page, live_server, app, shipped_exams, make_user):
    make_user("b-clock", "learner")
    log_in(page, live_server, "b-clock", TEST_PASSWORD)
    page.goto(f"{live_server}/exams/{QUIZ}")
    page.click("#start-attempt")
    attempt_id = attempt_id_of(page)
    paper = paper_of(app, attempt_id)
    first, second = [entry for entry in paper if entry["type"] in ("single", "true_false")][:2]
    answer_correctly(page, first)
    wait_until_saved(page)

    # The login session idles out: the next save says so and links to the login page.
    idle_timeout = app.config["IDLE_TIMEOUT"]
    app.config["IDLE_TIMEOUT"] = timedelta(0)
    try:
        answer_correctly(page, second)
        expect(page.locator("#autosave-status")).to_have_class(re.compile("autosave-error"))
    finally:
        app.config["IDLE_TIMEOUT"] = idle_timeout
    login_link = page.locator("#autosave-status a")
    expect(login_link).to_have_attribute("href", f"/login?next=/exams/attempts/{attempt_id}")
    login_link.click()
    page.fill("input[name=username]", "b-clock")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form button[type=submit].primary")
    assert attempt_id_of(page) == attempt_id
    # The answer refused while logged out was kept as a local draft: back in, the page restores and saves it.
    wait_until_saved(page)
    with app.app_context():
        saved = db.session.get(ExamAttempt, attempt_id)
        assert saved.answer_for(first["id"]).response is not None
        assert saved.answer_for(second["id"]).response is not None

    # Two seconds left on the server's clock: the page submits by itself when the display reaches zero.
    answer_correctly(page, second)
    wait_until_saved(page)
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        attempt.deadline = utcnow() + timedelta(seconds=2)
        db.session.commit()
    page.reload()
    expect(page.locator("#result-score")).to_be_visible()
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        assert attempt.status == "graded"
        assert attempt.answer_for(first["id"]).fraction == 1.0 and attempt.answer_for(second["id"]).fraction == 1.0


@pytest.mark.browser
def test_saved_never_shows_while_an_answer_is_unsent(page, live_server, app, shipped_exams, make_user):
    """The page may only say "saved" once the server has the last change: a learner (or a test) who
    reloads on "saved" must find every answer there."""
    make_user("b-unsent", "learner")
    log_in(page, live_server, "b-unsent", TEST_PASSWORD)
    page.goto(f"{live_server}/exams/{QUIZ}")
    page.click("#start-attempt")
    attempt_id = attempt_id_of(page)
    first, second = [entry for entry in paper_of(app, attempt_id) if entry["type"] in ("single", "true_false")][:2]
    answer_correctly(page, first)
    wait_until_saved(page)

    held = []  # the server does not answer the next save until the test lets it
    saves = re.compile(rf"/exams/attempts/{attempt_id}/answers/")

    def hold(route):
        held.append(route)

    page.route(saves, hold)
    choice = (next(o["id"] for o in second["options"] if o.get("correct")) if second["type"] == "single"
              else ("true" if second["answer"] else "false"))
    box = page.locator(f'fieldset[data-question="{second["id"]}"] input[value="{choice}"]')
    # Click and read the status in one task of the page: no timer or response can run in between.
    status_class = box.evaluate("el => { el.click(); return document.getElementById('autosave-status').className; }")
    assert "autosave-saved" not in status_class and "autosave-saving" in status_class
    # The save is held by the route, however long the machine takes to get it there.
    deadline = time.monotonic() + 15
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(held) == 1
    assert "autosave-saved" not in page.get_attribute("#autosave-status", "class")

    held[0].continue_()
    page.unroute(saves, hold)
    wait_until_saved(page)
    page.reload()
    assert page.locator(f'fieldset[data-question="{second["id"]}"] input[value="{choice}"]').is_checked()
