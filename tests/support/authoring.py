"""Authoring as the tests drive it: a trainer's browser session (Author), the starter scenario and
question bank as YAML, the editor's form fields, draft rows."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.authoring.models import Draft
from app.authoring.starters import STARTER_BANK, STARTER_SCENARIO
from app.extensions import db
from tests.app.authoring.starter_text import BANK_TEXT, SCENARIO_TEXT, real_text as _real_text
from tests.support.web import csrf_token, login_as

SLUG = "parcel-late"


def scenario_yaml(slug: str = SLUG, **replace: str) -> str:
    """The starter scenario under another slug, its example text replaced, with text replacements {old: new}."""
    text = _real_text(STARTER_SCENARIO, SCENARIO_TEXT).replace("slug: new-scenario", f"slug: {slug}")
    for old, new in replace.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def bank_yaml(slug: str = "bank-basics") -> str:
    return _real_text(STARTER_BANK, BANK_TEXT).replace("slug: new-question-bank", f"slug: {slug}")


class Author:
    """A trainer's browser session: page fetches and form posts with the CSRF token."""

    def __init__(self, client, user):
        self.client = client
        self.user = user
        login_as(client, user)
        with client.session_transaction() as session:
            session["lang"] = "en"  # so the tests can read the messages
        self.token = csrf_token(client, "/authoring/")

    def get(self, url: str):
        return self.client.get(url)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def json(self, url: str, body: dict):
        return self.client.post(url, json=body, headers={"X-CSRFToken": self.token})

    def import_scenario(self, text: str):
        return self.post("/authoring/scenarios/import", {"text": text})

    def import_bank(self, text: str):
        return self.post("/authoring/banks/import", {"text": text})

    def form_fields(self, url: str) -> dict[str, str]:
        """Every named input/select/textarea of the editor page, as the browser would post them."""
        html = self.get(url).get_data(as_text=True)
        return form_fields(html)


def form_fields(html: str) -> dict[str, str]:
    import html as htmllib
    fields: dict[str, str] = {}
    form = html[html.index('<form method="post" class="editor'):]
    form = form[: form.index("</form>")]
    for match in re.finditer(r"<input([^>]*)>", form):
        attrs = match.group(1)
        name = re.search(r'name="([^"]+)"', attrs)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', attrs)
        value = re.search(r'value="([^"]*)"', attrs)
        if kind and kind.group(1) == "checkbox":
            if " checked" in attrs:
                fields[name.group(1)] = value.group(1) if value else "on"
            continue
        if kind and kind.group(1) == "file":
            continue
        fields[name.group(1)] = htmllib.unescape(value.group(1)) if value else ""
    for match in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[match.group(1)] = htmllib.unescape(match.group(2))
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        selected = re.search(r'<option value="([^"]*)" selected', match.group(2)) or \
            re.search(r'<option value="([^"]*)"', match.group(2))
        fields[match.group(1)] = htmllib.unescape(selected.group(1)) if selected else ""
    fields.pop("csrf_token", None)
    return fields


def draft_row(app, slug: str, kind: str = "scenario") -> Draft | None:
    with app.app_context():
        row = db.session.scalar(select(Draft).where(Draft.kind == kind, Draft.slug == slug))
        if row is not None:
            db.session.expunge(row)
        return row
