"""Log in as each role, see that role's navigation, switch language, log out — on desktop and phone."""
import pytest

from tests.support.browser import log_in
from tests.support.accounts import TEST_PASSWORD

# Navigation each role must see (labels in Chinese, the default language) and must not see.
EXPECTED_NAV = {
    # learner: my learning, role-plays, certification; trainer: authoring, assignments, reviews;
    # HR: records; admin: users — and nobody sees another role's areas.
    "learner": ({"我的学习", "情景演练", "我的认证"}, {"用户", "认证档案", "内容编写", "质检复核"}),
    "trainer": ({"内容编写", "学习任务", "质检复核"}, {"用户", "认证档案", "我的学习"}),
    "hr": ({"用户", "认证档案"}, {"我的学习", "内容编写", "质检复核"}),
    "admin": ({"用户"}, {"我的学习", "认证档案", "内容编写"}),
}


def nav_labels(page) -> set[str]:
    return {text.strip() for text in page.locator("#main-nav a").all_inner_texts()}


@pytest.mark.browser
@pytest.mark.parametrize("role", sorted(EXPECTED_NAV))
def test_each_role_logs_in_sees_its_navigation_switches_language_and_logs_out(page, live_server, make_user, role):
    make_user(f"b-{role}", role, name=f"测试{role}")
    log_in(page, live_server, f"b-{role}", TEST_PASSWORD)
    assert page.locator(".who").inner_text() == f"测试{role}"
    must_see, must_not_see = EXPECTED_NAV[role]
    labels = nav_labels(page)
    assert must_see <= labels, labels
    assert not (must_not_see & labels), labels

    page.click("button[name=language][value=en]")
    page.wait_for_load_state("networkidle")
    page.click("#account-menu summary")  # log out is in the account menu
    assert page.locator("#logout").inner_text() == "Log out"
    assert page.locator("html").get_attribute("lang") == "en"

    page.click("#logout")
    page.wait_for_load_state("networkidle")
    assert "/login" in page.url
    assert page.locator("h1").inner_text() == "Log in"  # the choice survives logout in this browser
    page.goto(f"{live_server}/admin/users")
    assert "/login" in page.url  # logged out for real


@pytest.mark.browser
def test_phone_layout_has_a_menu_button_and_no_horizontal_scroll(phone_page, live_server, make_user):
    make_user("b-phone", "hr")
    log_in(phone_page, live_server, "b-phone", TEST_PASSWORD)
    nav = phone_page.locator("#main-nav")
    assert not nav.is_visible()
    phone_page.click(".menu-toggle")
    assert nav.is_visible() and "用户" in nav.inner_text()
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
