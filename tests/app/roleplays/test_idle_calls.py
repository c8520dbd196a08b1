"""A call left ringing or in progress past IDLE_ABANDON_AFTER: every page that reads it shows it abandoned
without writing anything; `flask roleplay expire-idle` and the next write on the call persist it."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core.clock import utcnow
from app.extensions import db
from app.roleplays.models import IDLE_ABANDON_AFTER, Attempt
from tests.support.db_writes import db_writes
from tests.support.roleplays import ZH_SLUG, Drill, good_reply, scenario_doc
from tests.support.web import csrf_token


@pytest.fixture
def idle_calls(app, client, content, make_user):
    """Three calls of one learner: one left ringing and one left mid-call (a reply graded), both idle for
    longer than IDLE_ABANDON_AFTER, and a fresh one still ringing."""
    drill = Drill(client, make_user("li", "learner"))
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    doc = scenario_doc(app, ZH_SLUG)
    ringing = drill.start(ZH_SLUG)
    in_call = drill.start(ZH_SLUG)
    assert drill.answer(in_call).status_code == 200
    assert drill.say(in_call, good_reply(doc, "opening", greeting=True)).status_code == 200
    fresh = drill.start(ZH_SLUG)
    with app.app_context():
        long_ago = utcnow() - IDLE_ABANDON_AFTER - timedelta(minutes=5)
        db.session.execute(update(Attempt).where(Attempt.id.in_((ringing, in_call))).values(last_activity_at=long_ago))
        db.session.commit()
        assert db.session.get(Attempt, in_call).status == "in_call"
    return {"drill": drill, "ringing": ringing, "in_call": in_call, "fresh": fresh}


def _statuses(app, *ids):
    with app.app_context():
        return [db.session.get(Attempt, attempt_id).status for attempt_id in ids]


def test_pages_show_an_idle_call_abandoned_without_writing(app, client, idle_calls):
    ringing, in_call, fresh = idle_calls["ringing"], idle_calls["in_call"], idle_calls["fresh"]
    with db_writes(app) as writes:
        library = client.get("/roleplays/")
        history = client.get("/roleplays/history")
        home = client.get("/")
        pages = {attempt_id: (client.get(f"/roleplays/attempts/{attempt_id}/call"),
                              client.get(f"/roleplays/attempts/{attempt_id}/report"),
                              client.get(f"/api/roleplays/attempts/{attempt_id}/state"))
                 for attempt_id in (ringing, in_call)}
    assert not writes, writes.describe()
    assert _statuses(app, ringing, in_call, fresh) == ["ringing", "in_call", "ringing"]

    for attempt_id, (call, report, state) in pages.items():
        assert call.status_code == report.status_code == state.status_code == 200
        assert state.json["status"] == "abandoned" and state.json["ended"] is True
        assert state.json["node"]["id"] is None
        assert "This call was left before it ended, so it has no score." in report.get_data(as_text=True)
    # The library offers to resume only the fresh call; history badges the idle ones as abandoned.
    library_html = library.get_data(as_text=True)
    assert f"/roleplays/attempts/{fresh}/call" in library_html
    assert f"/roleplays/attempts/{ringing}/call" not in library_html
    assert f"/roleplays/attempts/{in_call}/call" not in library_html
    rows = re.findall(r"<tr>.*?</tr>", history.get_data(as_text=True), re.S)
    badges = {attempt_id: next(row for row in rows if f"/roleplays/attempts/{attempt_id}/report" in row)
              for attempt_id in (ringing, in_call, fresh)}
    assert "Abandoned" in badges[ringing] and "Abandoned" in badges[in_call]
    assert "Abandoned" not in badges[fresh] and "Not answered" in badges[fresh]
    # The home page's last drill is the fresh call: still live, so "back to the call".
    assert f'href="/roleplays/attempts/{fresh}/call"' in home.get_data(as_text=True)


def test_the_home_panel_does_not_offer_an_idle_call(app, client, idle_calls):
    with app.app_context():
        db.session.delete(db.session.get(Attempt, idle_calls["fresh"]))
        db.session.commit()
    with db_writes(app) as writes:
        home = client.get("/").get_data(as_text=True)
    assert not writes, writes.describe()
    assert f'data-attempt="{idle_calls["ringing"]}"' in home or f'data-attempt="{idle_calls["in_call"]}"' in home
    assert f'/roleplays/attempts/{idle_calls["ringing"]}/call' not in home  # no "back to the call"
    assert f'/roleplays/attempts/{idle_calls["in_call"]}/call' not in home
    assert f'id="home-drill" href="/roleplays/{ZH_SLUG}"' in home  # "practise it again" instead


def test_the_command_persists_idle_calls_once(app, idle_calls):
    ringing, in_call, fresh = idle_calls["ringing"], idle_calls["in_call"], idle_calls["fresh"]
    runner = app.test_cli_runner()
    first = runner.invoke(args=["roleplay", "expire-idle"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "2 idle call(s) marked abandoned"
    assert _statuses(app, ringing, in_call, fresh) == ["abandoned", "abandoned", "ringing"]
    with app.app_context():
        assert db.session.get(Attempt, ringing).finished_at is not None
    again = runner.invoke(args=["roleplay", "expire-idle"])
    assert again.exit_code == 0 and again.output.strip() == "0 idle call(s) marked abandoned"


def test_a_reply_to_an_idle_call_is_refused_and_persists_it(app, idle_calls):
    drill, in_call = idle_calls["drill"], idle_calls["in_call"]
    refused = drill.say(in_call, "您好")
    assert refused.status_code == 409 and refused.json["error"] == "not_in_call"
    assert _statuses(app, in_call) == ["abandoned"]
    with app.app_context():
        assert len(db.session.get(Attempt, in_call).turns) == 1  # the refused reply was not stored


def test_answering_an_idle_call_does_not_pick_it_up(app, idle_calls):
    drill, ringing = idle_calls["drill"], idle_calls["ringing"]
    answered = drill.answer(ringing)
    assert answered.status_code == 200 and answered.json["status"] == "abandoned"
    with app.app_context():
        attempt = db.session.get(Attempt, ringing)
        assert attempt.status == "abandoned" and attempt.answered_at is None and attempt.rings is None


def test_hanging_up_an_idle_call_at_its_ending_does_not_grade_it(app, idle_calls):
    drill, fresh, in_call = idle_calls["drill"], idle_calls["fresh"], idle_calls["in_call"]
    with app.app_context():  # left at the customer's last line: hanging up there would end it with a grade
        db.session.execute(update(Attempt).where(Attempt.id == in_call).values(node_id="end:resolved"))
        db.session.commit()
    assert drill.abandon(in_call).json["status"] == "abandoned"
    assert _statuses(app, in_call, fresh) == ["abandoned", "ringing"]  # only the call hung up is written
    with app.app_context():
        assert db.session.get(Attempt, in_call).score is None
