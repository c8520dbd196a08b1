"""A trainee's evidence completes the agent level: everything is earned through the real services
(three voice calls recognised by Vosk among it) except the last lesson, which the trainee finishes
in the browser and sees the level change; HR then finds them on the roster, downloads the
certificate PDF and the roster CSV."""
from __future__ import annotations

import subprocess

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.certification import queries
from tests.app.certification.journey import AGENT_COURSES, earn_agent
from tests.support.browser import log_in
from tests.support.accounts import TEST_PASSWORD


LAST_COURSE = AGENT_COURSES[-1]


def _non_white_share(png_path) -> float:
    image = Image.open(png_path).convert("L")
    histogram = image.histogram()  # 256 grey levels
    return sum(histogram[:200]) / (image.width * image.height)


@pytest.mark.browser
def test_trainee_certified_and_hr_downloads_pdf_and_csv(page, live_server, ko_content, make_user, app, tmp_path,
                                                        korean_speech, monkeypatch):
    # The PDF's verify link and QR code come from the configured public address, never the Host header.
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server)
    trainee = make_user("b-trainee", "learner", name="学员 张伟", cohort="2026-春季班")
    make_user("b-hr", "hr", name="人事 刘洋")
    with app.app_context():
        # Courses, quizzes and the exam through their services; three real voice calls recognised by Vosk.
        earn_agent(trainee.id, korean_speech, leave_last_lesson=True)
        assert queries.certificates_of(trainee.id) == []

    # One lesson short: the trainee's page says which course is missing and links to it.
    log_in(page, live_server, "b-trainee", TEST_PASSWORD)
    page.click("#main-nav >> text=我的认证")
    assert page.locator("#current-level").inner_text() == "实习座席"
    expect(page.locator("li.requirement.unmet")).to_have_count(1)
    page.locator(f"li.requirement.unmet a[href='/courses/{LAST_COURSE}']").first.click()

    # The trainee finishes the last lesson in the browser: that completes the level.
    page.locator("ol.lesson-list a").last.click()
    page.click("#mark-done")
    expect(page.locator("#lesson-done")).to_be_visible()
    page.click("#main-nav >> text=我的认证")
    assert page.locator("#current-level").inner_text() == "座席"
    assert page.locator("text=验证页面").count() == 1
    page.click("#account-menu summary")  # log out is in the account menu
    page.click("#logout")

    # HR: the roster shows the person at the new level.
    log_in(page, live_server, "b-hr", TEST_PASSWORD)
    page.click("#main-nav >> text=认证档案")
    row = page.locator('#roster tr[data-username="b-trainee"]')
    assert row.locator("td.level").inner_text() == "座席"
    assert "学员 张伟" in row.inner_text()

    # The roster CSV opens in Excel with the Chinese name intact.
    with page.expect_download() as csv_download:
        page.click("#export-roster")
    csv_path = tmp_path / "roster.csv"
    csv_download.value.save_as(csv_path)
    data = csv_path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "学员 张伟" in data.decode("utf-8-sig") and "座席" in data.decode("utf-8-sig")

    # The person's record and the certificate PDF.
    row.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#current-level").inner_text() == "座席"
    with page.expect_download() as pdf_download:
        page.locator("a.pdf-link").first.click()
    pdf_path = tmp_path / "certificate.pdf"
    pdf_download.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "page")],
                   check=True)
    [png] = sorted(tmp_path.glob("page*.png"))
    share = _non_white_share(png)
    assert 0.02 < share < 0.9, share  # border, text and QR code drawn; not a blank page
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    assert "学员 张伟" in text and "座席" in text and f"{live_server}/verify/" in text
