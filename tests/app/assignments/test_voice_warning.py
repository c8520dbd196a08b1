"""Trainers are warned before assigning a voice-required drill in a language this server cannot grade."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.assignments.models import Assignment
from app.extensions import db
from tests.support.web import csrf_token, login_as

from .helpers import ZH_SLUG

SOON = date.today() + timedelta(days=7)


def test_a_voice_required_drill_without_a_speech_model_needs_a_confirmation(app, client, content, make_user):
    trainer = make_user("coach", "trainer")
    make_user("a1", "learner", cohort="2025-A")
    login_as(client, trainer)
    token = csrf_token(client, "/assignments/new")
    data = {"csrf_token": token, "work": f"drill:{ZH_SLUG}", "due_date": SOON.isoformat(), "cohort": "2025-A",
            "require_voice": "y", "note": "请用语音"}
    response = client.post("/assignments/new", data=data, headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="no-voice-warning"' in page
    assert "cannot grade Mandarin by voice" in page
    assert "请用语音" in page  # nothing the trainer typed is lost
    with app.app_context():
        assert db.session.scalars(select(Assignment)).all() == []
    # Confirmed on purpose: assigned as asked.
    response = client.post("/assignments/new", data={**data, "confirm_no_voice": "y"})
    assert response.status_code == 302
    # Without "voice required" there is nothing to warn about.
    response = client.post("/assignments/new", data={k: v for k, v in data.items() if k != "require_voice"})
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(Assignment).order_by(Assignment.id)).all()
        assert [row.require_voice for row in rows] == [True, False]
