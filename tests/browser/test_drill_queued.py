"""The call screen in production mode (REDIS_URL set), in real Chromium: a spoken reply is queued
(202), the page polls the call state and shows the feedback once a real RQ worker has graded it.
The private redis-server, the `queued` app and the in-process RQ worker: tests/support/production.py.

One short reply (the shortest words the Korean model still recognises, still a full answer to the
opening), the model loaded before the call, and waits on the page's polls instead of a fixed sleep."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.roleplays.models import Turn
from app.speechops.preload import preload_speech_models
from tests.browser.drill_helpers import korean_mic_wav
from tests.support.accounts import TEST_PASSWORD
from tests.support.browser import launch, log_in
from tests.support.production import run_jobs

KO_SLUG = "ko-thanks-for-waiting"
KO_SPEECH = "안녕하세요"  # the greeting: a full answer to the opening ("thanks-waiting" is then not needed)
IN_CALL = "#drill[data-phase=customer], #drill[data-phase=reply]"
WAIT_MS = 90000
POLLS_WHILE_QUEUED = 3


@pytest.fixture(scope="module")
def mic_wav(tmp_path_factory) -> Path:
    return korean_mic_wav(tmp_path_factory.mktemp("queued-mic"), KO_SPEECH)


@pytest.fixture(scope="module")
def mic_browser(playwright_instance, mic_wav, app):
    preload_speech_models(app, "ko-KR")
    browser = launch(playwright_instance, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                           f"--use-file-for-fake-audio-capture={mic_wav}"])
    yield browser
    browser.close()


@pytest.fixture
def mic_page(mic_browser):
    context = mic_browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()


def _queued_turn(app, deadline: float) -> int:
    while time.monotonic() < deadline:
        with app.app_context():
            turn = db.session.scalar(select(Turn).where(Turn.status == "received"))
            db.session.remove()
        if turn is not None:
            return turn.id
        time.sleep(0.1)
    raise AssertionError("no reply was queued")


def _is_poll(turn_id: int):
    return lambda response: (response.request.method == "GET" and "/state?" in response.url
                             and f"turn={turn_id}" in response.url)


@pytest.mark.browser
def test_a_queued_voice_reply_is_polled_until_graded_then_the_call_goes_on(queued, mic_page, live_server,
                                                                           ko_content, make_user):
    app, page = queued, mic_page
    make_user("q-voice", "learner")
    log_in(page, live_server, "q-voice", TEST_PASSWORD)
    page.goto(f"{live_server}/roleplays/{KO_SLUG}")
    page.check("input[name=mode][value=voice]")
    page.click("form[action$='/start'] button[type=submit]")
    page.click("#drill-answer")
    page.wait_for_selector(IN_CALL)

    # The fake microphone speaks; the reply is saved and queued, and nothing grades it yet.
    turn_id = _queued_turn(app, time.monotonic() + WAIT_MS / 1000)
    page.wait_for_selector("#drill[data-phase=sending]")
    for _ in range(POLLS_WHILE_QUEUED):  # the page asks again and again, and is told "not yet"
        with page.expect_response(_is_poll(turn_id)) as poll:
            pass
        assert poll.value.status == 200 and "turn_result" not in poll.value.json(), poll.value.json()
    assert page.get_attribute("#drill", "data-phase") == "sending"
    expect(page.locator("#drill-log li.drill-log-agent")).to_have_count(0)

    # A worker grades it: the page's next poll shows the feedback and the customer's next line.
    assert run_jobs(app) == 1
    entries = page.locator("#drill-log li.drill-log-agent")
    expect(entries).to_have_count(1, timeout=WAIT_MS)
    assert entries.first.get_attribute("data-turn-id") == str(turn_id)
    assert "안녕하세요" in entries.first.locator(".drill-log-text").inner_text()
    feedback = page.locator("#drill-feedback")
    expect(feedback.locator("li.ok[data-item-id=hello]")).to_be_visible()
    assert feedback.locator("h2").inner_text() == "本次回复得分：100%"
    page.wait_for_selector(IN_CALL)
    expect(page.locator("#drill-customer")).to_have_attribute("data-node-id", "order")
    expect(page.locator("#drill-pending")).to_be_hidden()
    with app.app_context():
        (turn,) = db.session.scalars(select(Turn)).all()
        assert (turn.id, turn.status, turn.claims, turn.graded_count) == (turn_id, "graded", 1, 1)
