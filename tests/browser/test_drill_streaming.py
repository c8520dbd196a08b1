"""Streamed voice replies in real Chromium: the fake microphone's Korean speech goes to the server in
chunks while it is spoken (live caption of the words heard), and a stream that breaks mid-reply still
ends in exactly one grade from the saved recording."""
from __future__ import annotations

import time
import wave
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.roleplays.models import Turn
from tests.browser.conftest import launch, log_in
from tests.browser.drill_helpers import korean_mic_wav, sync_with_korean
from tests.conftest import TEST_PASSWORD

KO_SLUG = "ko-thanks-for-waiting"
KO_SPEECH = "안녕하세요 기다려 주셔서 감사합니다 죄송합니다 확인하겠습니다"
IN_CALL = "#drill[data-phase=customer], #drill[data-phase=reply]"
VOICE_WAIT_MS = 90000
GRADED_WITHIN_S = 90  # upper bound for the server to finish a broken stream; the loop ends when it has


@pytest.fixture(scope="module")
def streaming_mic_wav(tmp_path_factory) -> Path:
    return korean_mic_wav(tmp_path_factory.mktemp("stream-mic"), KO_SPEECH)


@pytest.fixture
def mic_browser(playwright_instance, streaming_mic_wav):
    browser = launch(playwright_instance, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                           f"--use-file-for-fake-audio-capture={streaming_mic_wav}"])
    yield browser
    browser.close()


def _open_call(browser, live_server, app, tmp_path, make_user, username):
    sync_with_korean(app, tmp_path)
    make_user(username, "learner")
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(VOICE_WAIT_MS)
    requests = {"stream": 0, "stream_done": 0, "upload": 0}

    def seen(request):
        if request.method == "POST" and "/stream?" in request.url:
            requests["stream"] += 1
        elif request.method == "POST" and request.url.endswith("/turns"):
            requests["upload"] += 1
    page.on("request", seen)
    page.on("requestfinished", lambda r: requests.__setitem__(
        "stream_done", requests["stream_done"] + ("/stream?" in r.url)))
    log_in(page, live_server, username, TEST_PASSWORD)
    page.goto(f"{live_server}/roleplays/{KO_SLUG}")
    page.check("input[name=mode][value=voice]")
    page.click("form[action$='/start'] button[type=submit]")
    page.click("#drill-answer")
    page.wait_for_selector(IN_CALL)
    return context, page, requests


def _turns(app):
    with app.app_context():
        db.session.expire_all()
        return db.session.scalars(select(Turn).order_by(Turn.id)).all()


def _stream_leftovers(saved: Path) -> list[Path]:
    return [p for p in (saved.with_suffix(".stream"), saved.with_suffix(".stream.json")) if p.exists()]


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as reader:
        return reader.getnframes() / reader.getframerate()


@pytest.mark.browser
def test_a_streamed_voice_reply_shows_the_words_while_spoken_and_is_graded(mic_browser, live_server, make_user,
                                                                           app, tmp_path):
    context, page, requests = _open_call(mic_browser, live_server, app, tmp_path, make_user, "b-stream")
    try:
        # Difficulty 1: the trainee's words appear while they speak, before the reply is sent.
        expect(page.locator("#drill-partial")).to_be_visible(timeout=VOICE_WAIT_MS)
        expect(page.locator("#drill-partial-text")).to_contain_text("안녕하세요", timeout=VOICE_WAIT_MS)
        expect(page.locator("#drill-log li.drill-log-agent")).to_have_count(1, timeout=VOICE_WAIT_MS)
        expect(page.locator("#drill-feedback h2")).to_be_visible()
        transcript = page.locator("#drill-log li.drill-log-agent .drill-log-text").first.inner_text()
        assert "안녕하세요" in transcript, transcript
        assert requests["stream"] >= 5 and requests["upload"] == 0, requests
        assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    finally:
        context.close()
    turn = _turns(app)[0]  # the looping microphone may already be on the next reply
    assert (turn.mode, turn.status, turn.claims, turn.graded_count) == ("voice", "graded", 1, 1)
    assert turn.speech_ended_ms and turn.metrics["duration_s"] > 2
    assert _seconds(Path(app.config["RECORDINGS_DIR"]) / turn.recording_path) > 2


@pytest.mark.browser
def test_a_stream_cut_off_mid_reply_falls_back_to_the_whole_recording_graded_once(mic_browser, live_server,
                                                                                   make_user, app, tmp_path):
    context, page, requests = _open_call(mic_browser, live_server, app, tmp_path, make_user, "b-cut")
    passed = {"n": 0}

    def cut_after_three(route):
        passed["n"] += 1
        if passed["n"] <= 3:
            route.continue_()
        else:
            route.abort("connectionreset")
    page.route("**/stream?*", cut_after_three)
    try:
        expect(page.locator("#drill-log li.drill-log-agent")).to_have_count(1, timeout=VOICE_WAIT_MS)
        expect(page.locator("#drill-feedback h2")).to_be_visible()
        assert passed["n"] >= 4 and requests["upload"] == 1, (passed, requests)
    finally:
        context.close()
    turn = _turns(app)[0]
    assert (turn.status, turn.claims, turn.graded_count) == ("graded", 1, 1)
    assert "안녕하세요" in turn.transcript
    # The whole reply was saved, not only the three chunks that got through (0.72 s).
    saved = Path(app.config["RECORDINGS_DIR"]) / turn.recording_path
    assert _seconds(saved) > 2
    assert _stream_leftovers(saved) == []


@pytest.mark.browser
def test_a_tab_closed_mid_reply_is_graded_once_from_what_was_streamed(mic_browser, live_server, make_user, app,
                                                                      tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STREAM_IDLE_SECONDS", 2)
    context, page, requests = _open_call(mic_browser, live_server, app, tmp_path, make_user, "b-close")
    page.wait_for_function("() => document.querySelector('#drill').hasAttribute('data-recording')")
    expect(page.locator("#drill-partial")).to_be_visible(timeout=VOICE_WAIT_MS)  # a few chunks have been answered
    sent = requests["stream_done"]
    context.close()  # the trainee closes the tab while still speaking
    assert sent >= 1
    deadline = time.monotonic() + GRADED_WITHIN_S
    turns = _turns(app)
    while not (turns and turns[0].status == "graded") and time.monotonic() < deadline:
        time.sleep(0.5)
        turns = _turns(app)
    (turn,) = turns
    assert (turn.status, turn.claims, turn.graded_count) == ("graded", 1, 1), turn.error
    saved = Path(app.config["RECORDINGS_DIR"]) / turn.recording_path
    assert saved.read_bytes()[:4] == b"RIFF" and _seconds(saved) >= 0.24 * sent - 1e-6
    assert _stream_leftovers(saved) == []
