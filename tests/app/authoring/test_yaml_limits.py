"""The YAML alias bomb and other oversized YAML are refused in authoring with a clear message (issue 19, item 9)."""
import io
import time

from sqlalchemy import func, select

from app.authoring.models import Draft
from app.extensions import db
from tests.content_schema.test_yaml_lines import billion_laughs


def _draft_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Draft))


def test_alias_bomb_import_is_refused_quickly_with_a_clear_message(app, author):
    start = time.perf_counter()
    response = author.import_scenario(billion_laughs())
    pasted_seconds = time.perf_counter() - start
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "expands to more than 50000 values" in page and "alias (*name)" in page
    assert pasted_seconds < 5  # the whole request: the document is parsed a few times, each capped

    # The same file uploaded, and the bank import: the same refusal, nothing stored.
    upload = author.post("/authoring/banks/import",
                         {"upload": (io.BytesIO(billion_laughs().encode()), "bomb.yaml"), "text": ""},
                         content_type="multipart/form-data")
    assert upload.status_code == 422 and "expands to more than" in upload.get_data(as_text=True)
    assert _draft_count(app) == 0


def test_deeply_nested_yaml_is_refused_with_a_clear_message(app, author):
    response = author.import_scenario("slug: deep\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    assert response.status_code == 422
    assert "nested more than 50 levels deep" in response.get_data(as_text=True)
    assert _draft_count(app) == 0
