"""A QA lead's verdicts in the browser: a natural, polite typed call passes and a rude one fails,
and the report names every rule in words and offers a model reply for each moment.

The replies are written in an agent's own words, not taken from the rubric."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.roleplays.models import Attempt
from tests.support.browser import log_in
from tests.browser.drill_helpers import play_typed_call
from tests.support.accounts import TEST_PASSWORD

SLUG = "double-billing"
# Internal rule names people must never see.
INTERNAL = re.compile(r"\b(?:intent|forbidden|call|end|judgement|delivery):[a-z_]+")

NATURAL = {
    "opening": "您好，李女士，多扣了钱换谁都会着急，真是不好意思。我马上帮您查一下这两笔扣款，麻烦您报一下手机号码。",
    "verify-charge": "好的，我跟您核对一下，是一三八零五七一二二六五对吧？我这边查到了，五号早上确实扣了两次，"
                     "第二笔是重复扣费，实在抱歉。",
    "worried": "能退的，您放心，多扣的钱换谁都着急。重复扣的八十八元我现在就给您提交退款。",
    "suspicious": "真是抱歉，还让您自己去对流水才发现。谢谢您告诉我们，我现在马上给您提交退款。",
    "wants-manager": "我理解您的顾虑。我先把情况跟账务主管说明清楚，再帮您转接过去，您不用再重复一遍。",
    "refund-choice": "两种方式都可以，看您方便：原路退回银行卡，三到五个工作日到账；或者直接充进话费，马上就能用。",
    "wrap-up": "好的，那就退回银行卡。退款成功后系统会给您发短信，到时候不用再打电话来。谢谢您的理解，祝您生活愉快，再见。",
}
RUDE = {
    "opening": "你自己看清楚了再打电话，扣两次肯定是你操作错了。",
    "verify-charge": "行行行，知道了，系统就这样，这是公司的规定。",
    "worried": "我没办法，你必须自己去找银行。",
    "suspicious": "你吼什么？这事我不管，你爱找谁找谁。",
    "wants-manager": "领导来了也一样，我没办法。",
    "refund-choice": "你必须先选一个，不然我没办法。",
    "wrap-up": "你自己记着点，别再打来了。",
}


def run_call(page, base_url: str, replies: dict[str, str]) -> int:
    """Take the call typed from the scenario's page, answering each customer line; the report's id."""
    page.goto(f"{base_url}/roleplays/{SLUG}")
    page.check("input[name=mode][value=typed]")
    page.click("form[action$='/start'] button[type=submit]")

    def reply(node_id: str, first: bool) -> str:
        feedback = page.locator("#drill-feedback")
        if not first:
            # The verdict on the reply before: the three judgements, in words.
            expect(feedback.locator(".drill-judgements li")).to_have_count(3)
            assert not INTERNAL.search(feedback.inner_text())
        return replies[node_id]

    play_typed_call(page, reply)
    expect(page.locator("#drill-feedback .drill-judgements li")).to_have_count(3)
    page.click("#drill-report")
    page.wait_for_load_state("networkidle")
    return int(re.search(r"/attempts/(\d+)/report", page.url).group(1))


def check_report_words(page) -> None:
    text = page.locator("main").inner_text()
    assert not INTERNAL.search(text), INTERNAL.search(text).group(0)
    for label in ("回应客户", "推进问题解决", "遵守服务规范"):
        assert label in text
    # Every reply comes with a model reply for that moment.
    assert page.locator(".rp-model").count() == page.locator(".rp-turn").count() >= 1


@pytest.mark.browser
def test_a_natural_polite_call_passes_and_a_rude_one_fails(page, live_server, content, make_user, app):
    make_user("b-qa", "learner", name="学员 小周")
    log_in(page, live_server, "b-qa", TEST_PASSWORD)

    polite = run_call(page, live_server, NATURAL)
    assert page.locator("#rp-ending").inner_text() == "问题已解决"
    assert "未通过" not in page.locator("#rp-summary").inner_text()
    expect(page.locator(".rp-verdict .badge.bad")).to_have_count(0)
    check_report_words(page)

    rude = run_call(page, live_server, RUDE)
    summary = page.locator("#rp-summary").inner_text()
    assert page.locator("#rp-ending").inner_text() == "客户挂断了电话"
    assert page.locator(".rp-verdict .badge.bad").count() == page.locator(".rp-turn").count()
    check_report_words(page)
    # The forbidden behaviour is named in words, with the trainee's own words as evidence.
    first = page.locator(".rp-turn").first.inner_text()
    assert "指责客户" in first and "你操作错了" in first
    assert summary

    with app.app_context():
        attempts = {a.id: a for a in db.session.scalars(select(Attempt)).all()}
        assert attempts[polite].passed is True and attempts[polite].ending == "resolved"
        assert attempts[rude].passed is False and attempts[rude].ending == "hangup"
