"""Stored times are UTC; people read them in the academy's time zone (TIMEZONE, default Asia/Shanghai)."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import update

from app.core.clock import local, local_date, local_datetime
from app.extensions import db
from app.roleplays.models import Attempt
from tests.app.assignments.helpers import good_call
from tests.support.roleplays import Drill
from tests.support.web import login_as

LATE_UTC = datetime(2026, 12, 6, 17, 30)  # 01:30 the next day in Beijing


def test_stored_utc_is_shown_in_the_configured_zone(app):
    with app.app_context():
        assert app.config["TIMEZONE"] == "Asia/Shanghai" == app.config["BABEL_DEFAULT_TIMEZONE"]
        assert local(LATE_UTC).isoformat() == "2026-12-07T01:30:00+08:00"
        assert local_datetime(LATE_UTC) == "2026-12-07 01:30"
        assert local_date(LATE_UTC) == "2026-12-07"
        assert local_date("2026-12-06T17:30:00") == "2026-12-07"  # evidence snapshots hold ISO strings
        assert local_date(date(2026, 12, 6)) == "2026-12-06"       # a calendar date (a due date) is not shifted
        assert local_date(None) == "—" and local_datetime(None, missing="") == ""
        app.config["TIMEZONE"] = "UTC"
        try:
            assert local_datetime(LATE_UTC) == "2026-12-06 17:30"
        finally:
            app.config["TIMEZONE"] = "Asia/Shanghai"


def test_an_unknown_time_zone_refuses_to_start(monkeypatch, tmp_path):
    from app.config import load_config
    monkeypatch.setenv("TIMEZONE", "Asia/Beijing-ish")
    with pytest.raises(RuntimeError, match="TIMEZONE='Asia/Beijing-ish' is not a known time zone"):
        load_config(tmp_path)


def test_pages_show_local_times(app, client, content, make_user):
    learner = make_user("li", "learner")
    attempt_id = good_call(app, Drill(client, learner))
    with app.app_context():
        db.session.execute(update(Attempt).where(Attempt.id == attempt_id).values(started_at=LATE_UTC))
        db.session.commit()
    history = client.get("/roleplays/history").get_data(as_text=True)
    assert "2026-12-07 01:30" in history and "2026-12-06 17:30" not in history
    trainer = app.test_client()
    login_as(trainer, make_user("qa", "trainer"))
    queue = trainer.get("/reviews?filter=all").get_data(as_text=True)
    assert "2026-12-07 01:30" in queue and "2026-12-06 17:30" not in queue
