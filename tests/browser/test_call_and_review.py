"""The call and its review in real Chromium on a phone (390 px): the customer record on the call screen,
an unsent reply kept over a reload, a reply that already answers the next moment (the customer skips
it), the customer's last line and the trainee's goodbye; then a trainer's override read consistently
everywhere and the overall comment the trainee sees on the report. Screenshots go to /tmp/shots/."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.roleplays.models import Attempt
from tests.support.roleplays import Drill, good_reply as rubric_reply
from tests.support.browser import log_in
from tests.browser.drill_helpers import IN_CALL, scenario_doc
from tests.support.accounts import TEST_PASSWORD

ZH_SLUG = "broadband-outage-refund"
SHOTS = Path("/tmp/shots")
WAIT_MS = 30000
# At "ticket-status" this also gives the refund route that "refund-demand" would ask for next.
COVERS_REFUND = ("非常抱歉，我理解您的心情。我马上帮您加急派单，最早明天上午九点到十二点师傅上门。"
                 "断网期间的费用会按天给您减免，我现在帮您登记费用减免，三个工作日内处理完成。")


def _phone(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return context, page


def _send(page, text: str, replies: int) -> None:
    page.fill("#drill-text", text)
    page.click("#drill-send")
    expect(page.locator("#drill-log li.drill-log-agent")).to_have_count(replies)
    page.wait_for_selector(f"{IN_CALL}, #drill[data-phase=ended]")


@pytest.mark.browser
def test_a_typed_call_skips_what_was_answered_and_ends_with_a_goodbye(browser, live_server, content, make_user,
                                                                      app):
    make_user("b-call", "learner", name="学员 小周")
    doc = scenario_doc(app, ZH_SLUG)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _phone(browser)
    try:
        log_in(page, live_server, "b-call", TEST_PASSWORD)
        page.goto(f"{live_server}/roleplays/{ZH_SLUG}")
        page.check("input[name=mode][value=typed]")
        page.click("form[action$='/start'] button[type=submit]")
        page.tap("#drill-answer")
        page.wait_for_selector(IN_CALL)

        # The customer record: collapsed on a phone, the case facts inside.
        facts = page.locator("#drill-facts")
        expect(facts).to_be_visible()
        assert facts.get_attribute("open") is None
        page.tap("#drill-facts summary")
        expect(page.locator("#drill-case")).to_be_visible()
        assert "KD0571-886203" in page.locator("#drill-case").inner_text()
        expect(page.locator("#drill-text-help")).to_be_hidden()  # no "Enter sends" on a phone
        assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0

        _send(page, rubric_reply(doc, "opening", greeting=True), 1)
        assert page.get_attribute("#drill-customer", "data-node-id") == "ticket-status"

        # An unsent reply survives a reload, and is forgotten once sent.
        page.fill("#drill-text", COVERS_REFUND)
        page.dispatch_event("#drill-text", "input")
        page.reload()
        page.wait_for_selector(IN_CALL)
        expect(page.locator("#drill-text")).to_have_value(COVERS_REFUND)
        expect(page.locator("#drill-draft-note")).to_be_visible()

        page.click("#drill-send")
        expect(page.locator("#drill-log li.drill-log-agent")).to_have_count(2)
        page.wait_for_selector(IN_CALL)
        # The refund was already answered: the customer goes straight to confirming the plan.
        assert page.get_attribute("#drill-customer", "data-node-id") == "confirm-plan"
        assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('drill-draft:')).length") == 0

        _send(page, rubric_reply(doc, "confirm-plan"), 3)
        # The case is resolved: the customer's last line, shown even without captions, and the trainee's turn.
        assert page.get_attribute("#drill-customer", "data-node-id") == "end:resolved"
        expect(page.locator("#drill-line")).to_have_text(doc.last_line("resolved"))
        expect(page.locator("#drill-typed")).to_be_visible()
        page.screenshot(path=str(SHOTS / "call-390-last-line.png"), full_page=True)

        _send(page, "感谢您的来电，祝您生活愉快，再见。", 4)
        expect(page.locator("#drill-ended")).to_be_visible()
        assert "100%" in page.locator("#drill-log li.drill-log-agent").nth(3).inner_text()

        page.click("#drill-report")
        page.wait_for_load_state("networkidle")
        assert page.locator(".rp-turn").count() == 4
        assert doc.nodes["refund-demand"].line in page.locator(".rp-skipped").inner_text()
        assert doc.last_line("resolved") in page.locator(".rp-turn").nth(3).inner_text()
        assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
        page.screenshot(path=str(SHOTS / "report-390.png"), full_page=True)
        with app.app_context():
            attempt = db.session.scalar(db.select(Attempt))
            assert attempt.status == "ended" and attempt.ending == "resolved"
            assert [t.node_id for t in attempt.turns] == ["opening", "ticket-status", "confirm-plan", "end:resolved"]
    finally:
        context.close()


@pytest.mark.browser
def test_the_review_after_an_override_reads_consistently_and_the_trainee_sees_the_comment(
        browser, live_server, content, make_user, app):
    learner = make_user("b-rv-learner", "learner", name="学员 小陈")
    make_user("b-rv-trainer", "trainer", name="质检 王老师")
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(app.test_client(), learner)
    attempt_id = drill.start(ZH_SLUG, "typed")
    drill.answer(attempt_id)
    for text in (rubric_reply(doc, "opening", greeting=True), rubric_reply(doc, "ticket-status"),
                 rubric_reply(doc, "refund-demand", only=("ack",)), rubric_reply(doc, "supervisor"),
                 doc.closing.phrases[0]):
        assert drill.say(attempt_id, text).status_code == 200
    with app.app_context():
        refund_turn = next(t.id for t in db.session.get(Attempt, attempt_id).turns if t.node_id == "refund-demand")

    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _phone(browser)
    try:
        log_in(page, live_server, "b-rv-trainer", TEST_PASSWORD)
        page.goto(f"{live_server}/reviews/attempts/{attempt_id}")
        turn = page.locator(f"#turn-{refund_turn}")
        expect(turn.locator(".rp-percent")).to_have_text("67%")
        item = turn.locator("li.rv-item[data-item-id=refund-route]")
        expect(item).to_have_class("rv-item rv-miss")
        item.locator("details.rv-override summary").click()
        item.locator("input[name=points]").fill("3")
        item.locator("textarea[name=comment]").fill("录音里他说了会登记减免")
        item.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")

        turn = page.locator(f"#turn-{refund_turn}")
        item = turn.locator("li.rv-item[data-item-id=refund-route]")
        expect(item).to_have_class("rv-item rv-ok rv-overridden")
        expect(turn.locator(".rp-percent")).to_have_text("100%")
        expect(turn.locator(".rp-judgements li.rp-miss")).to_have_count(0)
        expect(turn.locator(".rp-verdict .badge.ok")).to_be_visible()
        expect(page.locator("#rv-reviewed")).to_be_visible()  # the override made it reviewed
        expect(page.locator("#mark-reviewed")).to_have_count(0)
        page.fill("#rv-comment", "整体处理得很好，退费途径要主动说全。")
        page.click("#save-review-comment")
        page.wait_for_load_state("networkidle")
        expect(page.locator("#rv-overall-comment")).to_have_text("整体处理得很好，退费途径要主动说全。")
    finally:
        context.close()

    context, page = _phone(browser)
    try:
        log_in(page, live_server, "b-rv-learner", TEST_PASSWORD)
        page.goto(f"{live_server}/roleplays/attempts/{attempt_id}/report")
        expect(page.locator("#rp-overall-comment")).to_have_text("整体处理得很好，退费途径要主动说全。")
        expect(page.locator("#rp-reviewed")).to_contain_text("质检 王老师")
        turn = page.locator(f"#turn-{refund_turn}")
        expect(turn.locator(".rp-percent")).to_have_text("100%")
        expect(turn.locator(".rp-judgements li.rp-miss")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
        page.screenshot(path=str(SHOTS / "report-reviewed-390.png"), full_page=True)
    finally:
        context.close()
