"""Home dashboards in the browser: a learner carries on with a lesson from home (on a phone), a trainer
opens a flagged call from home, HR approves a pending certificate from home, and the guided path:
"complete and continue" through a course to its quiz."""
import re

import pytest
from playwright.sync_api import expect

from app.accounts.models import User

from app.core.clock import utcnow
from app.certification import operations
from app.certification.models import ACTIVE, Certificate
from app.courses.models import Course
from app.extensions import db
from app.reviews import services as reviews
from app.roleplays.models import Attempt
from tests.app.assignments.helpers import Drill, failed_call
from tests.support.certification import days, install_spec, spec_dict  # noqa: F401
from tests.support.browser import log_in, open_lesson
from tests.support.accounts import TEST_PASSWORD

BASICS = "call-centre-basics"


def _lessons(app) -> list[str]:
    with app.app_context():
        course = db.session.scalar(db.select(Course).where(Course.slug == BASICS))
        return [lesson.slug for lesson in course.active_lessons]


def _no_horizontal_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, overflow


@pytest.mark.browser
def test_learner_continues_a_lesson_from_home_on_a_phone(phone_page, live_server, content, make_user, app):
    make_user("b-home-learner", "learner", name="学员 小周")
    lessons = _lessons(app)
    log_in(phone_page, live_server, "b-home-learner", TEST_PASSWORD)
    assert phone_page.url.rstrip("/") == live_server  # home, not a redirect to another page
    expect(phone_page.locator("#panel-continue .home-empty")).to_be_visible()
    _no_horizontal_scroll(phone_page)
    open_lesson(phone_page, f"{live_server}/courses/{BASICS}/lessons/{lessons[1]}")
    phone_page.click(".brand")
    link = phone_page.locator("#home-continue")
    expect(link).to_be_visible()
    _no_horizontal_scroll(phone_page)
    link.click()
    phone_page.wait_for_url(re.compile(rf"/courses/{BASICS}/lessons/{lessons[1]}$"))
    expect(phone_page.locator("#complete-continue")).to_be_visible()


@pytest.mark.browser
def test_trainer_opens_a_flagged_call_from_home(page, live_server, content, make_user, app):
    learner = make_user("b-home-li", "learner", name="学员小李", cohort="2026-春")
    make_user("b-home-qa", "trainer", name="质检王老师")
    attempt_id = failed_call(app, Drill(app.test_client(), learner))
    with app.app_context():
        reviews.flag(db.session.get(Attempt, attempt_id), db.session.get(User, learner.id), "客户其实没有挂断")
        db.session.commit()
    log_in(page, live_server, "b-home-qa", TEST_PASSWORD)
    flagged = page.locator("#panel-flagged-calls")
    expect(flagged).to_contain_text("客户其实没有挂断")
    flagged.locator("#home-open-flagged").click()
    page.wait_for_url(re.compile(rf"/reviews/attempts/{attempt_id}$"))
    expect(page.locator("body")).to_contain_text("学员小李")


@pytest.mark.browser
def test_hr_approves_a_pending_certificate_from_home(page, live_server, make_user, app, evidence):  # noqa: F811
    learner = make_user("b-home-cert", "learner", name="李明", cohort="2026-春")
    make_user("b-home-hr", "hr", name="人事 小陈")
    with app.app_context():
        install_spec(spec_dict(approval="hr"))
    evidence.agent(learner.id, utcnow() - days(1))
    with app.app_context():
        [certificate] = operations.reevaluate(learner.id)
        db.session.commit()
        certificate_id = certificate.id
    log_in(page, live_server, "b-home-hr", TEST_PASSWORD)
    pending = page.locator("#panel-pending-certificates")
    expect(pending).to_contain_text("李明")
    page.click(f"#approve-{certificate_id}")
    page.wait_for_load_state("networkidle")
    with app.app_context():
        assert db.session.get(Certificate, certificate_id).status == ACTIVE
    page.click(".brand")
    expect(page.locator(f"#approve-{certificate_id}")).to_have_count(0)
    expect(page.locator('#cohort-stats tr[data-cohort="2026-春"]')).to_be_visible()


@pytest.mark.browser
def test_guided_path_complete_and_continue_through_a_course_to_its_quiz(page, live_server, content, make_user, app):
    make_user("b-home-path", "learner", name="新员工 小吴")
    lessons = _lessons(app)
    log_in(page, live_server, "b-home-path", TEST_PASSWORD)
    page.goto(f"{live_server}/courses/{BASICS}/lessons/{lessons[0]}")
    for there in lessons[1:]:
        page.click("#complete-continue")
        page.wait_for_url(re.compile(rf"/courses/{BASICS}/lessons/{there}$"))
    expect(page.locator("#course-quiz #take-quiz")).to_be_visible()  # the last lesson offers the quiz
    page.click("#complete-continue")
    page.wait_for_url(re.compile(r"/exams/quiz-call-centre-basics$"))
    page.click("#main-nav a[href='/learning']")
    expect(page.locator("#in-progress .quiz-pending .badge.warn")).to_be_visible()
    expect(page.locator("#in-progress progress")).to_have_count(0)
    page.click(".brand")
    expect(page.locator("#panel-continue [data-kind='quiz']")).to_be_visible()


@pytest.mark.browser
def test_every_roles_home_fits_a_phone_in_both_languages(phone_page, live_server, make_user):
    make_user("b-home-all", "learner", "trainer", "hr", "admin", name="多角色 用户", cohort="2026-春")
    log_in(phone_page, live_server, "b-home-all", TEST_PASSWORD)
    for language in ("zh-CN", "en"):
        if language == "en":
            phone_page.click("button[name=language][value=en]")
            phone_page.wait_for_load_state("networkidle")
        groups = phone_page.locator(".home-group")
        expect(groups).to_have_count(4)
        expect(phone_page.locator(".home-panel")).to_have_count(16)
        _no_horizontal_scroll(phone_page)
    expect(phone_page.locator("#panel-continue")).to_contain_text("The lesson you opened last will appear here")
