"""The call screen in production mode (REDIS_URL set), in real Chromium: a spoken reply is queued
(202), the page polls the call state and shows the feedback once a real RQ worker has graded it.
The private redis-server and the in-process RQ worker come from tests/production/conftest.py."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.roleplays.models import Turn
from tests.browser.conftest import launch, log_in
from tests.browser.drill_helpers import korean_mic_wav, sync_with_korean
from tests.conftest import TEST_PASSWORD
from tests.production.conftest import queued, redis_url, run_jobs  # noqa: F401 - fixtures

KO_SLUG = "ko-thanks-for-waiting"
KO_SPEECH = "안녕하세요 기다려 주셔서 감사합니다"  # the first reply only
IN_CALL = "#drill[data-phase=customer], #drill[data-phase=reply]"
WAIT_MS = 90000


@pytest.fixture
def mic_page(playwright_instance, tmp_path):
    wav = korean_mic_wav(tmp_path, KO_SPEECH)
    browser = launch(playwright_instance, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                           f"--use-file-for-fake-audio-capture={wav}"])
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()
    browser.close()


def _queued_turn(app, deadline: float) -> int:
    while time.monotonic() < deadline:
        with app.app_context():
            turn = db.session.scalar(select(Turn).where(Turn.status == "received"))
            db.session.remove()
        if turn is not None:
            return turn.id
        time.sleep(0.1)
    raise AssertionError("no reply was queued")


@pytest.mark.browser
def test_a_queued_voice_reply_is_polled_until_graded_then_the_call_goes_on(queued, mic_page, live_server,  # noqa: F811
                                                                           make_user, tmp_path):
    app, page = queued, mic_page
    sync_with_korean(app, tmp_path)
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
    page.wait_for_timeout(1500)  # three polls
    assert page.get_attribute("#drill", "data-phase") == "sending"
    expect(page.locator("#drill-log li.drill-log-agent")).to_have_count(0)

    # A worker grades it: the page's next poll shows the feedback and the customer's next line.
    assert run_jobs(app) == 1
    entries = page.locator("#drill-log li.drill-log-agent")
    expect(entries).to_have_count(1)
    assert entries.first.get_attribute("data-turn-id") == str(turn_id)
    assert "안녕하세요" in entries.first.locator(".drill-log-text").inner_text()
    feedback = page.locator("#drill-feedback")
    expect(feedback.locator("li.ok[data-item-id=hello]")).to_be_visible()
    assert feedback.locator("h2").inner_text() == "本次回复得分：100%"
    page.wait_for_selector(IN_CALL)
    expect(page.locator("#drill-customer")).to_have_attribute("data-node-id", "order")
    expect(page.locator("#drill-pending")).to_be_hidden()
