"""A trainer authors a role-play in Chromium: writes it as YAML, changes a field through the form, reads the
diagram, plays a line's preview audio, tries a reply and publishes it for learners."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.roleplays import queries as roleplay_queries
from app.roleplays.models import Scenario
from tests.app.authoring.starter_text import starter_scenario
from tests.support.browser import log_in, media_duration
from tests.support.accounts import TEST_PASSWORD

SLUG = "browser-parcel-late"


@pytest.mark.browser
def test_trainer_authors_previews_tries_and_publishes(app, live_server, page, make_user, content):
    make_user("author1", "trainer")
    log_in(page, live_server, "author1", TEST_PASSWORD)
    page.goto(f"{live_server}/authoring/")
    page.click("#import-scenario")

    # The YAML view: the starter text, under our own slug.
    page.fill("#f-text", starter_scenario(SLUG))  # the starter, its example text replaced (refused at publish)
    page.click("#save")
    page.wait_for_url(re.compile(rf"/authoring/scenarios/{SLUG}$"))
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".status-draft")).to_be_visible()

    # One field through the form: the customer's name.
    page.click("#edit-form")
    expect(page.locator("#f-persona_name")).to_have_value("李女士")
    page.fill("#f-persona_name", "周女士")
    page.click("#save")
    page.wait_for_url(re.compile(rf"/authoring/scenarios/{SLUG}$"))
    expect(page.locator(".facts")).to_contain_text("周女士")

    # The diagram: four nodes, the start marked, three distinct endings, labelled edges.
    graph = page.locator("svg#graph")
    expect(graph.locator("a.node")).to_have_count(4)
    expect(graph.locator("a.node.start")).to_have_attribute("data-node", "opening")
    for ending in ("resolved", "transferred", "hangup"):
        expect(graph.locator(f"g.ending-{ending}")).to_have_count(1)
    expect(graph.locator('text.edge-label[data-outcomes~="escalate"]').first).to_be_visible()

    # The preview audio of a line loads and has a duration.
    audio = page.locator("#node-opening audio")
    expect(audio).to_have_attribute("src", re.compile(r"^/media/audio/[0-9a-f]+\.wav$"))
    assert media_duration(audio) > 0.5

    # Try a reply at the opening line: scored without leaving the page.
    node = page.locator("#node-opening")
    node.locator("textarea").fill("我理解您的心情，非常抱歉给您添麻烦了。")
    node.locator("form.try-reply button").click()
    expect(node.locator(".try-summary")).to_be_visible()
    expect(node.locator(".try-summary .outcome-deescalate")).to_be_visible()
    expect(node.locator(".try-summary code")).to_have_text("plan")
    assert page.url.endswith(f"/authoring/scenarios/{SLUG}")

    # Publish: learners get version 1.
    page.click("#publish")
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".status-published")).to_be_visible()
    expect(page.locator("#versions")).to_contain_text("v1")
    with app.app_context():
        row = db.session.scalar(select(Scenario).where(Scenario.slug == SLUG))
        assert row.source == "web" and row.current_version.version == 1
        assert row.current_version.spec["persona"]["name"] == "周女士"
        assert SLUG in [scenario.slug for scenario in roleplay_queries.library()]


@pytest.mark.browser
def test_form_errors_show_next_to_their_field_on_a_phone(app, live_server, phone_page, make_user, content):
    page = phone_page
    make_user("author2", "trainer")
    log_in(page, live_server, "author2", TEST_PASSWORD)
    page.goto(f"{live_server}/authoring/scenarios/new")
    # The starter's example text is a placeholder, not a value: write a title and the case facts.
    expect(page.locator("#f-case_facts_zh")).to_have_value("")
    page.fill("#f-slug", SLUG + "-2")
    page.fill("#f-title_zh", "包裹迟到")
    page.fill("#f-case_facts_zh", "李女士的包裹晚到三天。")
    page.fill("#f-n1-stay", "nowhere")
    page.click("#save")
    expect(page.locator("#error-summary")).to_be_visible()
    # in the page's language (Chinese by default)
    expect(page.locator("#e-n1-stay")).to_contain_text("“nowhere”不是本情景中的步骤")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    with app.app_context():
        assert db.session.scalar(select(Scenario).where(Scenario.slug == SLUG + "-2")) is None
