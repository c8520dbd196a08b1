"""Browser tests: the real app served on 127.0.0.1, driven in Debian's Chromium by Playwright
(one browser and one server for the whole session; helpers: tests/support/browser.py)."""
from __future__ import annotations

import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tests.support.browser import launch


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(autouse=True)
def urls_for_the_browsers_host(app):
    """The app is built with SERVER_NAME=localhost so other tests can build URLs outside a
    request; the browser reaches it as 127.0.0.1:port. Set per test and restored, so the
    order tests run in cannot leak this into the others."""
    app.config["SERVER_NAME"] = None
    yield
    app.config["SERVER_NAME"] = "localhost"


@pytest.fixture(scope="session")
def playwright_instance():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = launch(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
