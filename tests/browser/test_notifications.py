"""Notifications and the account menu in real Chromium: a trainer reviews a trainee's call with a comment; the
trainee (on a phone) sees the unread count in the header, opens the notifications, reads the comment and marks
it read. The account menu leads to the profile; the admin's user search fits a phone in English."""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.roleplays.models import Attempt
from tests.app.assignments.helpers import Drill, good_call
from tests.support.browser import log_in
from tests.support.accounts import TEST_PASSWORD

COMMENT = "开场先道歉再共情，顺序不对。<b>注意</b>"


@pytest.mark.browser
def test_a_review_reaches_the_trainee_as_a_notification(browser, live_server, content, make_user, app):
    trainee = make_user("b-trainee", "learner", name="学员 小陈")
    make_user("b-coach", "trainer", name="质检 王老师")
    attempt_id = good_call(app, Drill(app.test_client(), trainee))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        turn, item = next((t, i) for t in attempt.turns for i in t.items
                          if i["kind"] == "intent" and i["matched"] and not i["rule"].startswith("call:"))
        turn_id, item_id = turn.id, item["item_id"]

    coach_ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    phone_ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                    has_touch=True)
    coach, phone = coach_ctx.new_page(), phone_ctx.new_page()
    for page in (coach, phone):
        page.set_default_timeout(15000)
    try:
        log_in(phone, live_server, "b-trainee", TEST_PASSWORD)
        expect(phone.locator("#notices-link")).to_be_visible()
        assert phone.locator("#unread-count").count() == 0  # nothing yet

        # --- the trainer overrides one item with a comment and marks the call reviewed
        log_in(coach, live_server, "b-coach", TEST_PASSWORD)
        coach.goto(f"{live_server}/reviews/attempts/{attempt_id}")
        entry = coach.locator(f"#turn-{turn_id} li[data-item-id='{item_id}']")
        entry.locator("summary").click()
        entry.locator("input[name=points]").fill("0")
        entry.locator("textarea[name=comment]").fill(COMMENT)
        entry.locator("button[type=submit]").click()
        expect(coach.locator(".flash-success")).to_be_visible()
        # An override already marks the call reviewed; the form's button now saves the overall comment.
        coach.click("#rv-reviewed-form button[type=submit]")
        expect(coach.locator(".flash-success")).to_be_visible()

        # --- the trainee sees the count in the header on the next page, opens the list and reads the comment
        phone.goto(f"{live_server}/account")
        expect(phone.locator("#unread-count")).to_have_text("1")
        phone.click("#notices-link")
        notice = phone.locator("#notices li.notice-item.unread")
        expect(notice).to_have_count(1)
        text = notice.inner_text()
        assert "质检 王老师" in text and COMMENT in text  # the comment as written, markup shown as text
        assert phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
        notice.locator("button.mark-read").click()
        expect(phone.locator("#notices li.notice-item.unread")).to_have_count(0)
        expect(phone.locator("#unread-count")).to_have_count(0)
        assert COMMENT in phone.locator("#notices").inner_text()  # still listed, as read

        # --- in English the same notice reads in English
        phone.click("button[name=language][value=en]")
        phone.wait_for_load_state("networkidle")
        assert "reviewed your call" in phone.locator("#notices").inner_text()
    finally:
        coach_ctx.close()
        phone_ctx.close()


def _search_fits(page) -> None:
    """The search button keeps its label on one line, and the placeholder fits in the field."""
    button = page.locator("form.search button[type=submit]").bounding_box()
    assert button["height"] < 60 and button["width"] > 50, button
    field = page.locator("form.search input[type=search]")
    fits = field.evaluate("""el => {
        const style = getComputedStyle(el);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = style.font;
        const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return ctx.measureText(el.placeholder).width <= room;
    }""")
    assert fits, field.get_attribute("placeholder")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


@pytest.mark.browser
def test_account_menu_and_user_search_on_a_phone(phone_page, live_server, make_user):
    make_user("b-admin", "admin", name="管理员 张")
    log_in(phone_page, live_server, "b-admin", TEST_PASSWORD)
    phone_page.goto(f"{live_server}/admin/users")
    _search_fits(phone_page)  # 搜索 used to break into one character per line

    phone_page.click("#account-menu summary")
    expect(phone_page.locator("#menu-profile")).to_be_visible()
    phone_page.click("h1")  # a click elsewhere closes the menu
    expect(phone_page.locator("#menu-profile")).to_be_hidden()
    phone_page.click("#account-menu summary")
    phone_page.click("#menu-profile")
    expect(phone_page.locator("#profile-roles")).to_have_text("管理员")
    phone_page.click("#profile-language button[name=language][value=en]")
    phone_page.wait_for_load_state("networkidle")
    expect(phone_page.locator("#profile-roles")).to_have_text("Administrator")
    expect(phone_page.locator("#profile-language")).to_contain_text("English")
    phone_page.click("#account-menu summary")
    expect(phone_page.locator("#menu-password")).to_be_visible()
    phone_page.click("#menu-password")
    expect(phone_page.locator("input[name=current_password]")).to_be_visible()

    phone_page.goto(f"{live_server}/admin/users")
    _search_fits(phone_page)  # the English placeholder is not cut off
