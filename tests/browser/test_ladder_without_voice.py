"""A ladder that works where voice cannot be graded (this machine has no zh-CN speech model): a trainee
told up front what a typed call needs reaches 座席 with typed passes a trainer signs off; HR opens the demo
`agent`'s record, downloads the certificate PDF and checks its code on the public /verify page."""
from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect

from app.accounts.services import find_user
from app.certification import evidence_sources, queries
from tests.app.certification.journey import AGENT_COURSES, complete_course, pass_exam
from tests.app.certification.typed_journey import ZH_SCENARIOS, typed_call
from tests.support.browser import log_in
from tests.support.accounts import TEST_PASSWORD

# The notice in Chinese once the catalog has it, in the English msgid until then.
SIGNOFF_WORDS = ("签核", "signs it off")


def _says_signoff(text: str) -> bool:
    return any(word in text for word in SIGNOFF_WORDS)


@pytest.mark.browser
def test_typed_passes_and_a_trainers_sign_off_reach_agent(phone_page, browser, live_server, content, make_user,
                                                          app):
    page = phone_page  # the trainee on a 390 px phone
    trainee = make_user("t-trainee", "learner", name="学员 孙丽", cohort="2026-春季班")
    make_user("t-trainer", "trainer", name="培训师 王芳")
    with app.app_context():
        assert "zh-CN" not in evidence_sources.voice_languages()
        for slug in AGENT_COURSES:
            complete_course(trainee.id, slug)
        pass_exam(trainee.id, "cert-agent")
        calls = [typed_call(trainee.id, slug).id for slug in ZH_SCENARIOS]
        assert queries.certificates_of(trainee.id) == []

    # Told up front: on 我的认证 and on the scenario brief.
    log_in(page, live_server, "t-trainee", TEST_PASSWORD)
    page.goto(f"{live_server}/certification")
    assert page.locator("#current-level").inner_text() == "实习座席"
    notice = page.locator(".cert-typed-notice").first
    expect(notice).to_be_visible()
    assert _says_signoff(notice.inner_text())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server}/roleplays/{ZH_SCENARIOS[0]}")
    brief_notice = page.locator(".rp-cert-notice").first
    expect(brief_notice).to_be_visible()
    assert _says_signoff(brief_notice.inner_text())
    page.goto(f"{live_server}/roleplays/")
    assert _says_signoff(page.locator(".rp-cert-notice").first.inner_text())

    # A trainer signs each typed call off from its review page.
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    trainer_page = context.new_page()
    trainer_page.set_default_timeout(15000)
    try:
        log_in(trainer_page, live_server, "t-trainer", TEST_PASSWORD)
        for attempt_id in calls:
            trainer_page.goto(f"{live_server}/reviews/attempts/{attempt_id}")
            trainer_page.fill("#call-signoff-form textarea[name=note]", "文字记录已核对")
            trainer_page.click("#call-signoff")
            expect(trainer_page.locator("#call-signed-off")).to_be_visible()
            assert "培训师 王芳" in trainer_page.locator("#call-signed-off").inner_text()
    finally:
        context.close()

    page.goto(f"{live_server}/certification")
    assert page.locator("#current-level").inner_text() == "座席"
    with app.app_context():
        [certificate] = queries.certificates_of(trainee.id)
        assert certificate.level == "agent" and certificate.requirement_version == 2


@pytest.mark.browser
def test_hr_downloads_the_demo_agents_pdf_and_verifies_its_code(page, phone_page, live_server, content, app,
                                                               tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server)
    from app.demo.services import load_demo
    with app.app_context():
        lines = load_demo()
        assert any(line.startswith("agent: 座席 certificate issued") for line in lines), lines

    log_in(page, live_server, "hr", "academy-hr")
    page.click("#main-nav >> text=认证档案")
    row = page.locator('#roster tr[data-username="agent"]')
    assert row.locator("td.level").inner_text() == "座席"
    row.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#current-level").inner_text() == "座席"
    with page.expect_download() as pdf_download:
        page.locator("a.pdf-link").first.click()
    pdf_path = tmp_path / "agent.pdf"
    pdf_download.value.save_as(pdf_path)
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    assert "座席" in text and "座席 赵敏" in text
    with app.app_context():
        [certificate] = queries.certificates_of(find_user("agent").id)
        code = certificate.code
    assert f"{live_server}/verify/{code}" in text

    # Anyone, on a phone, not logged in: the public verification page.
    verify = phone_page
    verify.goto(f"{live_server}/verify")
    verify.fill("input[name=code]", code)
    verify.click("#verify-form button[type=submit]")
    expect(verify.locator("#holder")).to_have_text("座席 赵敏")
    assert "座席" in verify.locator("#level").inner_text()
    expect(verify.locator("#validity .badge.ok")).to_be_visible()
    assert verify.evaluate("document.documentElement.scrollWidth") <= 390
    # An unknown code: a clear page saying so (404), with the form to try again.
    response = verify.goto(f"{live_server}/verify/{'Z' * 22}")
    assert response.status == 404
    expect(verify.locator("#verify-unknown h1")).to_be_visible()
    expect(verify.locator("#verify-form input[name=code]")).to_be_visible()
