"""A trainer's gradebook: filter by cohort, search by name, open the evidence behind a cell, download
the CSV; and the same table at a phone's width (scrolls sideways under a name column that stays put)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.app.certification.journey import complete_course
from tests.support.team import drill
from tests.support.browser import log_in
from tests.support.accounts import TEST_PASSWORD


@pytest.fixture
def team(app, content, make_user):
    make_user("g-coach", "trainer", name="培训师 周", cohort="春季A, 春季B")
    li = make_user("g-li", "learner", name="李明", cohort="春季A")
    make_user("g-wang", "learner", name="王伟", cohort="春季A")
    make_user("g-zhao", "learner", name="赵磊", cohort="春季B")
    make_user("g-other", "learner", name="钱多", cohort="秋季")  # not this trainer's cohort
    with app.app_context():
        complete_course(li.id, "call-centre-basics")  # lessons done and the quiz passed, through the services
        drill(li.id, 88, mode="voice")
        db.session.commit()
    return li


@pytest.mark.browser
def test_trainer_filters_searches_opens_evidence_and_downloads_csv(page, live_server, team, tmp_path):
    log_in(page, live_server, "g-coach", TEST_PASSWORD)
    page.locator("#main-nav a[href='/team']").click()
    rows = page.locator("#gradebook tbody tr")
    expect(rows).to_have_count(3)  # 李明, 王伟, 赵磊; 钱多 is in a cohort that is not theirs

    page.select_option("select[name=cohort]", "春季A")
    page.click(".team-filters button[type=submit]")
    expect(rows).to_have_count(2)
    page.fill("input[name=q]", "王")
    page.click(".team-filters button[type=submit]")
    expect(rows).to_have_count(1)
    assert page.locator('#gradebook tr[data-username="g-wang"]').count() == 1
    assert page.locator("select[name=cohort]").input_value() == "春季A"  # the filter is kept while searching

    # The CSV of what is shown: Chinese headings, a BOM for Excel, the one learner.
    with page.expect_download() as download:
        page.click("#export-gradebook")
    path = tmp_path / "gradebook.csv"
    download.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("姓名,用户名,批次,") and len(lines) == 2 and "王伟" in lines[1]

    # A cell opens the evidence behind it: 李明's best quiz score is their graded quiz attempt.
    page.fill("input[name=q]", "李")
    page.click(".team-filters button[type=submit]")
    row = page.locator('#gradebook tr[data-username="g-li"]')
    quiz = row.locator("td").nth(2).locator("a")
    score = quiz.inner_text()
    assert score.endswith("%")
    quiz.click()
    page.wait_for_load_state("networkidle")
    assert "/exams/attempts/" in page.url and page.url.endswith("/result")
    assert "李明" in page.content()
    page.go_back()
    row.locator("th a").click()  # the name: every piece of evidence on one page
    page.wait_for_load_state("networkidle")
    assert "/team/learners/" in page.url
    expect(page.locator("#courses li")).to_have_count(1)
    expect(page.locator("#drills a[href*='/roleplays/attempts/']")).not_to_have_count(0)


@pytest.mark.browser
def test_gradebook_at_phone_width_scrolls_under_a_fixed_name_column(phone_page, live_server, team):
    page = phone_page
    log_in(page, live_server, "g-coach", TEST_PASSWORD)
    page.goto(f"{live_server}/team")
    wrap = page.locator(".gradebook-wrap")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")  # scrolls sideways, not squeezed
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 390 + 1  # the page itself does not overflow
    level = page.locator('#gradebook tr[data-username="g-li"] td.level')
    box = level.bounding_box()
    line = float(level.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 24"))
    assert box["height"] < 2.5 * line + 20  # 实习座席 on one line, never one character per line
    name = page.locator('#gradebook tr[data-username="g-li"] th.name')
    before = name.bounding_box()["x"]
    wrap.evaluate("el => { el.scrollLeft = 300; }")
    page.wait_for_function("document.querySelector('.gradebook-wrap').scrollLeft > 0")
    assert abs(name.bounding_box()["x"] - before) < 2  # the name column stays in view


@pytest.mark.browser
def test_hr_roster_at_phone_width_keeps_the_level_on_one_line(phone_page, live_server, team, make_user):
    make_user("g-hr", "hr", name="人事 刘")
    page = phone_page
    log_in(page, live_server, "g-hr", TEST_PASSWORD)
    page.goto(f"{live_server}/certification/records")
    level = page.locator('#roster tr[data-username="g-li"] td.level')
    expect(level).to_have_text("实习座席")
    box = level.bounding_box()
    line = float(level.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 24"))
    assert box["height"] < 2.5 * line + 20 and box["width"] > 3 * 12  # four characters side by side
    heading = page.locator("#roster thead th").nth(3)  # 等级
    assert heading.bounding_box()["height"] < 2.5 * line + 20
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # the table scrolls, not the page
    requirements = page.locator('#roster tr[data-username="g-li"] td.requirements')
    assert requirements.inner_text().strip() != "—"  # requirements met, toward the next level
