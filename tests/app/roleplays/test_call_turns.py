"""The call as a demanding trainee meets it (issue 17): a reply that already answers the next moment
skips it, the caller's anger never rises once their demand was met, the customer's last line and the
trainee's closing turn, one percentage for a reply everywhere, the customer record on the call
screen, and the library's search, filters, attempt counts and "assigned to me" badge."""
from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db
from app.roleplays import presenters, text_scoring
from app.roleplays.models import Attempt
from tests.support.web import csrf_token

from tests.support.roleplays import ZH_SLUG, Drill, good_reply, scenario_doc

# At "ticket-status" (the caller wants a repair time) this reply also gives the refund route that
# "refund-demand" (the next moment: "refund this month's fee") asks for.
COVERS_REFUND = ("非常抱歉，我理解您的心情。我马上帮您加急派单，最早明天上午九点到十二点师傅上门。"
                 "断网期间的费用会按天给您减免，我现在帮您登记费用减免，三个工作日内处理完成。")


def _start(drill: Drill) -> int:
    attempt_id = drill.start(ZH_SLUG, "typed")
    assert drill.answer(attempt_id).json["status"] == "in_call"
    return attempt_id


def test_a_reply_that_answers_the_next_moment_skips_it(app, client, content, make_user):
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = _start(drill)
    first = drill.say(attempt_id, good_reply(doc, "opening", greeting=True)).json
    assert first["state"]["node"]["id"] == "ticket-status" and first["turn"]["skipped"] == []

    body = drill.say(attempt_id, COVERS_REFUND).json
    assert body["outcome"] == "deescalate"
    assert body["turn"]["skipped"] == ["refund-demand"]  # the refund was already answered
    assert body["state"]["node"]["id"] == "confirm-plan"
    with app.app_context():
        turn = db.session.get(Attempt, attempt_id).turns[-1]
        assert turn.skipped == ["refund-demand"] and turn.next_node == "confirm-plan"

    # A reply at the same moment that does not give the refund route does not skip it.
    other = _start(drill)
    drill.say(other, good_reply(doc, "opening", greeting=True))
    plain = drill.say(other, good_reply(doc, "ticket-status")).json
    assert plain["turn"]["skipped"] == [] and plain["state"]["node"]["id"] == "refund-demand"

    page = client.get(f"/roleplays/attempts/{attempt_id}/report").get_data(as_text=True)
    assert 'class="muted rp-skipped"' in page and doc.nodes["refund-demand"].line in page


def test_anger_never_rises_once_the_demand_was_met(app, client, content, make_user):
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = _start(drill)
    first = drill.say(attempt_id, good_reply(doc, "opening", greeting=True)).json
    assert first["turn"]["judgements"][1]["name"] == "advances" and first["turn"]["judgements"][1]["held"]
    calm = first["anger"]
    # Only acknowledging the feeling: one judgement of two, which would keep the temperature (+5).
    stay = drill.say(attempt_id, good_reply(doc, "ticket-status", only=("ack",))).json
    assert stay["outcome"] == "stay"
    assert stay["anger"] == calm  # the case already moved on: the caller does not get angrier

    # Without any reply that moved the case on, the same "stay" does raise it.
    fresh = _start(drill)
    opening_ack = drill.say(fresh, good_reply(doc, "opening", greeting=True, only=("ack", "apologise"))).json
    assert opening_ack["outcome"] == "stay"
    assert opening_ack["anger"] > int(doc.starting_anger)


def test_the_customer_says_a_last_line_and_the_trainee_closes_the_call(app, client, content, make_user):
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = _start(drill)
    for node in ["opening", "ticket-status", "refund-demand", "confirm-plan"]:
        body = drill.say(attempt_id, good_reply(doc, node, greeting=node == "opening")).json
    state = body["state"]
    assert state["node"] == {"id": "end:resolved", "line": doc.last_line("resolved"), "audio_url": None,
                             "closing": True}
    assert state["status"] == "in_call" and state["ended"] is False
    page = client.get(f"/roleplays/attempts/{attempt_id}/report").get_data(as_text=True)
    assert f"/roleplays/attempts/{attempt_id}/call" in page  # still in progress: resume it

    goodbye = drill.say(attempt_id, "好的，感谢您的来电，再见。").json
    assert goodbye["turn"]["closing"] is True and goodbye["turn"]["passed"] is True
    assert goodbye["turn"]["percent"] == 100
    assert [i["rule"] for i in goodbye["turn"]["items"]] == ["call:closing"]
    assert goodbye["state"]["ended"] is True and goodbye["state"]["ending"] == "resolved"
    report = client.get(f"/roleplays/attempts/{attempt_id}/report").get_data(as_text=True)
    assert doc.last_line("resolved") in report and "感谢您的来电，再见" in report

    # Hanging up instead of saying goodbye ends the call with its grade (not abandoned).
    other = _start(drill)
    for node in ["opening", "ticket-status", "refund-demand", "confirm-plan"]:
        drill.say(other, good_reply(doc, node, greeting=node == "opening"))
    left = drill.abandon(other).json
    assert left["status"] == "ended" and left["ending"] == "resolved"
    with app.app_context():
        attempt = db.session.get(Attempt, other)
        assert attempt.score is not None and attempt.score < 100  # no goodbye: the closing was missed
        closing = [i for i in attempt.call_items if i["rule"] == "call:closing"]
        assert len(closing) == 1 and not closing[0]["matched"] and closing[0]["points_possible"] > 0


def test_a_reply_reads_the_same_percentage_on_the_call_screen_and_in_the_report(app, client, content, make_user):
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = _start(drill)
    drill.say(attempt_id, good_reply(doc, "opening", greeting=True))
    drill.say(attempt_id, good_reply(doc, "ticket-status"))
    # Responds but does not move the refund on: two judgements of three.
    body = drill.say(attempt_id, good_reply(doc, "refund-demand", only=("ack",))).json["turn"]
    assert abs(body["score_fraction"] - 2 / 3) < 0.001
    assert body["percent"] == presenters.reply_percent(body["score_fraction"]) == 67
    state = drill.state(attempt_id).json
    assert state["turns"][-1]["percent"] == 67
    page = client.get(f"/roleplays/attempts/{attempt_id}/report").get_data(as_text=True)
    assert '<span class="badge rp-percent">67%</span>' in page
    assert '<span class="badge rp-percent">66%</span>' not in page


def test_the_call_screen_keeps_the_customer_record(app, client, content, make_user):
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = _start(drill)
    page = client.get(f"/roleplays/attempts/{attempt_id}/call").get_data(as_text=True)
    assert 'id="drill-facts"' in page and doc.data["case_facts"]["zh-CN"] in page
    assert doc.persona["name"] in page
    assert 'data-attempt-id="%d"' % attempt_id in page and "js/drill-extras.js" in page
    assert 'class="muted drill-enter-hint"' in page
    assert ">zh-CN<" not in page  # the language by its name
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    english = client.get(f"/roleplays/attempts/{attempt_id}/call").get_data(as_text=True)
    assert "Customer record" in english and doc.data["case_facts"]["en"].split()[0] in english


def test_the_library_searches_filters_counts_and_shows_assignments(app, client, content, make_user):
    from app.accounts.models import User
    from app.assignments import services as assignments
    trainer = make_user("qa", "trainer")
    learner = make_user("li", "learner")
    drill = Drill(client, learner)
    _start(drill)
    _start(drill)
    due = assignments.today() + timedelta(days=3)
    with app.app_context():
        assignments.create_assignment(kind="drill", slug=ZH_SLUG, due_date=due,
                                      created_by=db.session.get(User, trainer.id), user_ids=[learner.id])
    page = client.get("/roleplays/").get_data(as_text=True)
    assert 'id="rp-filters"' in page
    card = page[page.index(f'/roleplays/{ZH_SLUG}"'):]
    card = card[:card.index("</li>")]
    assert "2 times" in card or "2 次" in card
    assert "rp-due" in card
    assert "尚未练习" in page  # other scenarios: "Not taken yet"

    mine = client.get("/roleplays/?mine=1").get_data(as_text=True)
    assert mine.count('class="card rp-card"') == 1 and f"/roleplays/{ZH_SLUG}\"" in mine
    doc = scenario_doc(app, ZH_SLUG)
    found = client.get("/roleplays/", query_string={"q": "KD0571"}).get_data(as_text=True)  # in the case facts
    assert f"/roleplays/{ZH_SLUG}\"" in found and found.count('class="card rp-card"') == 1
    nothing = client.get("/roleplays/", query_string={"q": "没有这个场景xyz"}).get_data(as_text=True)
    assert 'id="rp-no-match"' in nothing and 'class="card rp-card"' not in nothing
    level = client.get("/roleplays/?difficulty=%d" % doc.difficulty).get_data(as_text=True)
    assert f"/roleplays/{ZH_SLUG}\"" in level
    other_level = client.get("/roleplays/?difficulty=%d" % (1 if doc.difficulty != 1 else 3)).get_data(as_text=True)
    assert f"/roleplays/{ZH_SLUG}\"" not in other_level
    english = client.get("/roleplays/?language=en-US").get_data(as_text=True)
    assert f"/roleplays/{ZH_SLUG}\"" not in english
    assert client.get("/roleplays/?difficulty=99999999999999999999&language=xx").status_code == 200


def test_history_filters_by_scenario_and_dates_its_chart(app, client, content, make_user):
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = _start(drill)
    for node in ["opening", "ticket-status", "refund-demand", "confirm-plan", "end:resolved"]:
        drill.say(attempt_id, good_reply(doc, node, greeting=node == "opening"))
    page = client.get("/roleplays/history").get_data(as_text=True)
    assert 'class="rp-chart-date"' in page
    assert re.search(r'class="rp-chart-date"[^>]*>\d{4}-\d{2}-\d{2}<', page)
    only = client.get("/roleplays/history", query_string={"scenario": ZH_SLUG}).get_data(as_text=True)
    assert "<polyline" in only
    unknown = client.get("/roleplays/history", query_string={"scenario": "nope"}).get_data(as_text=True)
    assert "<polyline" in unknown  # an unknown scenario shows every call


def test_try_a_reply_lists_items_as_they_counted(app, content):
    doc = scenario_doc(app, ZH_SLUG)
    with app.test_request_context():
        result = text_scoring.score_text(doc, "refund-demand", "我理解您的心情。断网期间的费用会按天给您减免。")
    statuses = {item["item_id"]: item["status"] for item in result["items"]}
    assert statuses["ack"] == "met" and statuses["refund-route"] == "met"
    assert statuses["apologise"] == "not_needed"  # responds held through the acknowledgement
    assert statuses["no-policy"] == "avoided"
    held = sum(1 for j in result["judgements"].values() if j["applies"] and j["held"])
    assert result["earned"] == held  # the summary is the judgements listed with the items
