"""A new hire finds a course, reads a lesson, marks it done and sees the progress move, in both languages."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.courses.models import LessonProgress
from app.extensions import db
from tests.support.browser import log_in, open_lesson
from tests.support.accounts import TEST_PASSWORD

BASICS_CARD = '[data-course="call-centre-basics"]'


def progress_value(page, scope: str) -> str:
    return page.locator(f"{scope} progress").first.get_attribute("value")


@pytest.mark.browser
def test_new_hire_reads_a_lesson_marks_it_done_and_switches_to_english(page, live_server, content, make_user, app):
    newhire = make_user("b-newhire", "learner", name="新员工 小李")
    log_in(page, live_server, "b-newhire", TEST_PASSWORD)
    page.click("#main-nav >> text=课程")
    assert page.locator("h1").inner_text() == "课程"
    assert progress_value(page, BASICS_CARD) == "0"
    assert "已锁定" in page.locator('[data-course="call-handling"]').inner_text()

    page.click(f"{BASICS_CARD} h2 a")
    # The page reports itself open as it loads; the reading clock runs from that report.
    with page.expect_response(lambda r: r.url.endswith("/time") and r.request.method == "POST"):
        page.click("text=什么是呼叫中心")
    assert page.locator("article.lesson-body h1").inner_text() == "什么是呼叫中心"
    # The page reports reading time when it is left (here: a pagehide, as when the tab closes);
    # the server credits at most the time since the last report, so some must really pass.
    page.wait_for_timeout(1500)
    with page.expect_response(lambda r: r.url.endswith("/time")) as reported:
        page.evaluate("window.dispatchEvent(new PageTransitionEvent('pagehide'))")
    # (The body of a keepalive request sent while the page goes is not readable in Chromium once the
    # response is no-store, as every logged-in response now is; what was credited is checked below.)
    assert reported.value.status == 200
    with app.app_context():
        row = db.session.scalar(select(LessonProgress).where(LessonProgress.user_id == newhire.id))
        assert row is not None and row.seconds_spent >= 1

    page.click("#mark-done")
    # Waiting on what the page shows, not on network quiet: the lesson page reports itself opened
    # (a POST) as it loads, and "network idle" is a race against that report.
    expect(page.locator("#lesson-done")).to_be_visible()
    assert progress_value(page, ".course-progress") == "1"
    page.goto(f"{live_server}/courses")
    assert progress_value(page, BASICS_CARD) == "1"
    with app.app_context():
        row = db.session.scalar(select(LessonProgress).where(LessonProgress.user_id == newhire.id))
        assert row.completed_at is not None and row.seconds_spent >= 1

    page.goto(f"{live_server}/courses/call-centre-basics/lessons/01-what-is-a-call-centre")
    page.click("button[name=language][value=en]")
    expect(page.locator("article.lesson-body h1")).to_have_text("What is a call centre?")
    assert page.locator(".breadcrumb").inner_text() == "The call centre and the agent's job"
    assert page.locator("#lesson-done").inner_text().endswith("Done")


@pytest.mark.browser
def test_dashboard_on_a_phone(phone_page, live_server, content, make_user, app):
    make_user("b-phone-learner", "learner")
    log_in(phone_page, live_server, "b-phone-learner", TEST_PASSWORD)
    open_lesson(phone_page, f"{live_server}/courses/call-centre-basics/lessons/02-roles-and-duties")
    phone_page.click(".menu-toggle")
    phone_page.click("#main-nav >> text=我的学习")
    assert phone_page.locator("h1").inner_text() == "我的学习"
    assert phone_page.locator("#resume-lesson").inner_text() == "座席岗位与职责"
    assert "呼叫中心与座席岗位" in phone_page.locator("#in-progress").inner_text()
    assert "目前没有分配给您的学习任务" in phone_page.locator("#assigned").inner_text()
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    phone_page.goto(f"{live_server}/courses")
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    phone_page.go_back()
    phone_page.click("#resume-lesson")
    assert phone_page.locator("article.lesson-body h1").inner_text() == "座席岗位与职责"
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
