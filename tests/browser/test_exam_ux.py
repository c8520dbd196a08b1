"""The exam page in Chromium: the summary before submitting, ordering by drag and drop and by
keyboard, the question navigator and flags, typed text surviving a quick reload, and the
listen-and-type differences on the result."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.exams.models import ExamAttempt
from app.extensions import db
from tests.support.browser import log_in
from tests.browser.test_exams_quiz import (
    QUIZ,
    answer_correctly,
    attempt_id_of,
    paper_of,
    shipped_exams,  # noqa: F401  (fixture)
    shown_order,
    wait_until_saved,
)
from tests.support.accounts import TEST_PASSWORD


def start(page, live_server, slug: str) -> int:
    page.goto(f"{live_server}/exams/{slug}")
    page.click("#start-attempt")
    return attempt_id_of(page)


def saved_answer(app, attempt_id: int, question_id: str):
    with app.app_context():
        return db.session.get(ExamAttempt, attempt_id).answer_for(question_id)


@pytest.mark.browser
def test_submit_summary_go_back_then_submit(page, live_server, app, shipped_exams, make_user):  # noqa: F811
    make_user("b-summary", "learner")
    log_in(page, live_server, "b-summary", TEST_PASSWORD)
    attempt_id = start(page, live_server, QUIZ)
    paper = paper_of(app, attempt_id)
    choices = [entry for entry in paper if entry["type"] in ("single", "true_false")]
    answer_correctly(page, choices[0])
    # Flag the second one for review without answering it: the navigator shows both states.
    flagged = page.locator(f'fieldset[data-question="{choices[1]["id"]}"] .flag-input')
    flagged.check()
    first_link = page.locator(f'#exam-nav a[data-nav="{choices[0]["id"]}"]')
    second_link = page.locator(f'#exam-nav a[data-nav="{choices[1]["id"]}"]')
    expect(first_link).to_have_class(re.compile(r"\banswered\b"))
    expect(second_link).to_have_class(re.compile(r"\bflagged\b"))
    expect(second_link).not_to_have_class(re.compile(r"\banswered\b"))
    wait_until_saved(page)
    page.wait_for_function(f"""() => fetch('/exams/attempts/{attempt_id}/summary').then(r => r.text())
                               .then(t => t.includes('data-count="1"'))""")
    assert saved_answer(app, attempt_id, choices[1]["id"]).flagged is True

    page.click("#submit-attempt")
    page.wait_for_url(re.compile(rf"/exams/attempts/{attempt_id}/summary$"))
    expect(page.locator("#summary-unanswered")).to_have_attribute("data-count", str(len(paper) - 1))
    expect(page.locator("#summary-unanswered")).to_contain_text(str(len(paper) - 1))
    expect(page.locator("#summary-flagged")).to_have_attribute("data-count", "1")
    expect(page.locator(f'tr[data-question="{choices[1]["id"]}"]')).to_have_class(re.compile("flagged"))

    # Back to the question from its row: everything is still there, nothing was submitted.
    page.locator(f'tr[data-question="{choices[1]["id"]}"] a.summary-go').click()
    page.wait_for_url(re.compile(rf"/exams/attempts/{attempt_id}#q-{choices[1]['id']}$"))
    expect(page.locator(f'fieldset[data-question="{choices[1]["id"]}"] .flag-input')).to_be_checked()
    with app.app_context():
        assert db.session.get(ExamAttempt, attempt_id).status == "in_progress"
    answer_correctly(page, choices[1])
    wait_until_saved(page)

    page.click("#submit-attempt")
    page.wait_for_url(re.compile(r"/summary$"))
    expect(page.locator("#summary-unanswered")).to_have_attribute("data-count", str(len(paper) - 2))
    page.click("#confirm-submit-attempt")
    expect(page.locator("#result-score")).to_be_visible()
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        assert attempt.status == "graded"
        assert attempt.answer_for(choices[0]["id"]).fraction == 1.0
        assert attempt.answer_for(choices[1]["id"]).fraction == 1.0


def item_box(question, item_id: str) -> dict:
    return question.locator(f'li[data-item="{item_id}"]').bounding_box()


@pytest.mark.browser
def test_ordering_by_mouse_drag_and_by_keyboard(page, live_server, app, shipped_exams, make_user):  # noqa: F811
    make_user("b-drag", "learner")
    log_in(page, live_server, "b-drag", TEST_PASSWORD)
    attempt_id = start(page, live_server, QUIZ)
    flow = page.locator('fieldset[data-question="flow-1"]')
    flow.scroll_into_view_if_needed()
    start_order = shown_order(flow)
    expect(flow.locator(".ordering-untouched")).to_be_visible()
    expect(page.locator('#exam-nav a[data-nav="flow-1"]')).not_to_have_class(re.compile(r"\banswered\b"))

    # Mouse: drag the last step by its handle to the top of the list.
    last = start_order[-1]
    handle = flow.locator(f'li[data-item="{last}"] .ordering-handle').bounding_box()
    top = item_box(flow, start_order[0])
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(handle["x"] + handle["width"] / 2, top["y"] + 3, steps=12)
    page.mouse.up()
    dragged = [last] + start_order[:-1]
    assert shown_order(flow) == dragged
    expect(flow.locator(".ordering-untouched")).to_be_hidden()
    expect(page.locator("#ordering-live")).to_have_text(re.compile(r"1\D+6"))
    wait_until_saved(page)
    assert saved_answer(app, attempt_id, "flow-1").response == dragged
    expect(page.locator('#exam-nav a[data-nav="flow-1"]')).to_have_class(re.compile(r"\banswered\b"))

    # Keyboard: focus a step and move it with the arrow keys; focus stays on it.
    second = dragged[1]
    flow.locator(f'li[data-item="{second}"]').focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expected = [dragged[0], dragged[2], dragged[3], second] + dragged[4:]
    assert shown_order(flow) == expected
    assert page.evaluate("document.activeElement.dataset.item") == second
    expect(page.locator("#ordering-live")).to_have_text(re.compile(r"4\D+6"))
    page.keyboard.press("Home")
    expected = [second] + [item for item in expected if item != second]
    assert shown_order(flow) == expected
    expect(flow.locator(f'li[data-item="{second}"] button.move-up')).to_be_disabled()
    wait_until_saved(page)
    assert saved_answer(app, attempt_id, "flow-1").response == expected
    page.reload()
    assert shown_order(page.locator('fieldset[data-question="flow-1"]')) == expected


@pytest.mark.browser
def test_quick_reload_keeps_typed_text(page, live_server, app, shipped_exams, make_user):  # noqa: F811
    make_user("b-reload", "learner")
    log_in(page, live_server, "b-reload", TEST_PASSWORD)
    attempt_id = start(page, live_server, "quiz-service-language")
    rewrites = [entry for entry in paper_of(app, attempt_id) if entry["type"] == "phrase_rewrite"]
    first, second = rewrites[0], rewrites[1]
    saves = re.compile(rf"/exams/attempts/{attempt_id}/answers/")

    # The save never reaches the server before the reload (the network drops it)…
    page.route(saves, lambda route: route.abort())
    box = page.locator(f'fieldset[data-question="{first["id"]}"] textarea')
    box.fill("您好，我马上为您寄出")
    page.unroute(saves)
    page.reload()
    # …yet the page shows what was typed, and saves it.
    box = page.locator(f'fieldset[data-question="{first["id"]}"] textarea')
    expect(box).to_have_value("您好，我马上为您寄出")
    wait_until_saved(page)
    assert saved_answer(app, attempt_id, first["id"]).response == "您好，我马上为您寄出"
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('exam-draft:')).length") == 0

    # Type and reload at once, while "saving…" shows: nothing typed is lost.
    other = page.locator(f'fieldset[data-question="{second["id"]}"] textarea')
    other.fill("请您稍等，我帮您查一下")
    expect(page.locator("#autosave-status")).to_have_class(re.compile("autosave-saving"))
    page.reload()
    expect(page.locator(f'fieldset[data-question="{second["id"]}"] textarea')).to_have_value("请您稍等，我帮您查一下")
    wait_until_saved(page)
    assert saved_answer(app, attempt_id, second["id"]).response == "请您稍等，我帮您查一下"


@pytest.mark.browser
def test_listen_and_type_differences_after_submitting(page, live_server, app, shipped_exams, make_user):  # noqa: F811
    make_user("b-diff", "learner")
    log_in(page, live_server, "b-diff", TEST_PASSWORD)
    attempt_id = start(page, live_server, "cert-agent")
    listen = next(entry for entry in paper_of(app, attempt_id) if entry["type"] == "listen_type")
    question = page.locator(f'fieldset[data-question="{listen["id"]}"]')
    page.request.get(f"{live_server}{question.locator('audio').get_attribute('src')}")
    with app.app_context():  # the learner listens and types for half a minute
        answer = db.session.get(ExamAttempt, attempt_id).answer_for(listen["id"])
        answer.audio_served_at -= timedelta(seconds=30)
        db.session.commit()
    said = listen["text"]
    swaps = {"昨天": "今天", "上个月": "这个月", "不": ""}
    key = next(word for word in swaps if word in said)
    typed = said.replace(key, swaps[key], 1)
    question.locator("textarea").fill(typed)
    wait_until_saved(page)
    page.click("#submit-attempt")
    page.wait_for_url(re.compile(r"/summary$"))
    page.click("#confirm-submit-attempt")
    result = page.locator(f"#r-{listen['id']}")
    expect(result).to_be_visible()
    diff = result.locator(".typing-diff")
    expect(diff.locator(".diff-critical").first).to_be_visible()
    assert int(diff.get_attribute("data-critical")) >= 1
    # The characters said are marked as inserted (<ins>) where the typing left them out or changed them.
    said_marks = "".join(diff.locator(".diff-critical ins").all_inner_texts())
    assert said_marks and all(char in said for char in said_marks)
    expect(diff.locator(".diff-same").first).to_be_visible()
    # Screen readers hear what each mark means.
    expect(diff.locator(".diff-critical .visually-hidden").first).to_have_text(re.compile(r"\S"))
    with app.app_context():
        graded = db.session.get(ExamAttempt, attempt_id).answer_for(listen["id"])
        assert graded.accuracy < 0.9 and graded.fraction < 1.0  # one meaning-changing slip: no full marks


@pytest.mark.browser
def test_ordering_by_touch_drag_on_a_phone(phone_page, live_server, app, shipped_exams, make_user):  # noqa: F811
    page = phone_page
    make_user("b-touch", "learner")
    log_in(page, live_server, "b-touch", TEST_PASSWORD)
    attempt_id = start(page, live_server, QUIZ)
    flow = page.locator('fieldset[data-question="flow-1"]')
    flow.scroll_into_view_if_needed()
    start_order = shown_order(flow)
    first = start_order[0]
    # A finger on the first step's handle, dragged below the last step (Pointer Events, as a touch
    # screen sends them).
    flow.evaluate("""(fieldset, first) => {
        const item = fieldset.querySelector(`li[data-item="${first}"]`);
        const handle = item.querySelector('.ordering-handle');
        const items = fieldset.querySelectorAll('li.ordering-item');
        const from = handle.getBoundingClientRect();
        const last = items[items.length - 1].getBoundingClientRect();
        const x = from.left + from.width / 2;
        const send = (target, type, y) => target.dispatchEvent(new PointerEvent(type, {
            bubbles: true, cancelable: true, pointerId: 7, pointerType: 'touch', isPrimary: true,
            clientX: x, clientY: y}));
        send(handle, 'pointerdown', from.top + from.height / 2);
        for (let step = 1; step <= 10; step++) {
            send(item, 'pointermove', from.top + (last.bottom - 4 - from.top) * step / 10);
        }
        send(item, 'pointerup', last.bottom - 4);
    }""", first)
    moved = start_order[1:] + [first]
    assert shown_order(flow) == moved
    wait_until_saved(page)
    assert saved_answer(app, attempt_id, "flow-1").response == moved
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
