"""Requests as a logged-in browser makes them: a session cookie without a password round trip, and
the CSRF token read from a rendered page."""
from __future__ import annotations

import re
import time

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def login_as(client, user) -> None:
    """Put a logged-in session in the client's cookie jar without a password round trip."""
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["seen"] = time.time()


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a rendered page like a browser would."""
    response = client.get(path, follow_redirects=True)
    match = CSRF_META.search(response.get_data(as_text=True))
    assert match, f"no csrf meta tag on {path}"
    return match.group(1)


def switch_to_english(client) -> None:
    """Choose English as a person does, with the language switch in the header."""
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})


def home_panel(html: str, key: str) -> str:
    """One panel of the home page (core/home.py renders each as section#panel-KEY)."""
    match = re.search(rf'<section class="card home-panel" id="panel-{key}".*?</section>', html, re.S)
    assert match, key
    return match.group(0)
