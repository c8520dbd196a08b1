"""The call flow through the JSON API in typed mode, on a shipped zh-CN scenario, with replies
scripted from its rubric: the three endings, scores, the report, ownership and refusals."""
from __future__ import annotations


import pytest

from app.core import events
from app.extensions import db
from app.core import progress
from app.roleplays import errors, grader, operations, presenters
from app.roleplays.models import Attempt, Turn
from grading.scoring import is_passed, percent
from tests.support.web import login_as

from tests.support.roleplays import ZH_SLUG, Drill, bad_reply, good_reply, scenario_doc


@pytest.fixture
def graded_events():
    received = []

    def listen(sender, **details):
        received.append((sender, details))

    events.roleplay_attempt_graded.connect(listen)
    yield received
    events.roleplay_attempt_graded.disconnect(listen)


def _call(drill: Drill, attempt_id: int, replies: list[str]) -> list[dict]:
    assert drill.answer(attempt_id, rings=2).json["status"] == "in_call"
    bodies = []
    for text in replies:
        response = drill.say(attempt_id, text)
        assert response.status_code == 200, response.get_data(as_text=True)
        bodies.append(response.json)
    return bodies


def _call_more(drill: Drill, attempt_id: int, replies: list[str]) -> list[dict]:
    bodies = []
    for text in replies:
        response = drill.say(attempt_id, text)
        assert response.status_code == 200, response.get_data(as_text=True)
        bodies.append(response.json)
    return bodies


def test_resolved_call_end_to_end(app, client, content, make_user, graded_events):
    user = make_user("li", "learner")
    drill = Drill(client, user)
    doc = scenario_doc(app, ZH_SLUG)
    attempt_id = drill.start(ZH_SLUG, "typed")

    state = drill.state(attempt_id).json
    assert state["status"] == "ringing" and state["mode"] == "typed" and state["language"] == "zh-CN"
    assert state["difficulty"] == 2 and state["show_caption"] is False and state["rings_allowed"] == 3
    assert state["node"]["id"] == "opening" and state["node"]["line"] is None  # captions off at difficulty 2
    assert state["node"]["audio_url"].startswith("/media/audio/") and state["anger"] == 60
    assert client.get(state["node"]["audio_url"]).status_code == 200  # synthesized at sync

    path = ["opening", "ticket-status", "refund-demand", "confirm-plan"]
    replies = [good_reply(doc, node, greeting=node == "opening") for node in path]
    assert drill.answer(attempt_id, rings=2).json["status"] == "in_call"
    assert drill.answer(attempt_id, rings=5).json["status"] == "in_call"  # answering again is harmless
    bodies = _call(drill, attempt_id, replies)

    assert [b["outcome"] for b in bodies] == ["deescalate"] * 4
    assert [b["anger"] for b in bodies] == [45, 30, 15, 0]
    # The case is resolved: the customer says a last line and the trainee closes the call.
    closing_state = bodies[-1]["state"]
    assert closing_state["status"] == "in_call" and not closing_state["ended"]
    assert closing_state["node"]["id"] == "end:resolved" and closing_state["node"]["closing"] is True
    assert closing_state["node"]["line"] == grader.last_line(doc, "resolved")
    bodies += _call_more(drill, attempt_id, [doc.closing.phrases[0]])
    first = bodies[0]["turn"]
    assert first["score_fraction"] == 1.0 and first["transcript"] == replies[0]
    greeting = [i for i in first["items"] if i["rule"] == "call:greeting"]
    assert greeting and greeting[0]["matched"] and greeting[0]["evidence"]
    ack = next(i for i in first["items"] if i["item_id"] == "ack")
    assert ack["points_awarded"] == 2 and ack["evidence"] == ["我理解您的心情"] and ack["explanation"]
    assert first["delivery"] == []  # typed: nothing to measure
    last = bodies[-1]
    assert last["state"]["ended"] is True and last["state"]["ending"] == "resolved"
    assert last["state"]["status"] == "ended" and last["state"]["node"]["id"] is None
    assert any(i["rule"] == "call:closing" and i["matched"] for i in last["turn"]["items"])

    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.status == "ended" and attempt.ending == "resolved" and attempt.finished_at
        earned = sum(t.earned for t in attempt.turns) + sum(i["points_awarded"] for i in attempt.call_items)
        possible = sum(t.possible for t in attempt.turns) + sum(i["points_possible"] for i in attempt.call_items)
        assert attempt.score == percent(earned, possible) == 100.0
        assert attempt.passed is is_passed(attempt.score, 70) is True
        assert [i["rule"] for i in attempt.call_items] == ["call:answer_within_rings"]
        assert attempt.rings == 1 and attempt.mode == "typed"  # measured by the server: answered at once
    assert graded_events == [(user.id, {"attempt_id": attempt_id, "scenario_slug": ZH_SLUG, "passed": True,
                                        "score": 100.0})]

    # No more replies once the call is over.
    refused = drill.say(attempt_id, replies[0])
    assert refused.status_code == 409 and refused.json["error"] == "not_in_call" and refused.json["message"]

    page = client.get(f"/roleplays/attempts/{attempt_id}/report").get_data(as_text=True)
    assert "100%" in page and "我理解您的心情" in page and doc.nodes["opening"].line in page
    history = client.get("/roleplays/history").get_data(as_text=True)
    assert "<polyline" in history and "<svg" in history


def test_transferred_call(app, client, content, make_user, graded_events):
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = drill.start(ZH_SLUG)
    # Acknowledging the feeling without moving the case on: it responds but does not advance, and one
    # judgement of the two keeps the temperature ("stay").
    stay = good_reply(doc, "refund-demand", only=("ack",))
    replies = [good_reply(doc, "opening", greeting=True), good_reply(doc, "ticket-status"), stay,
               good_reply(doc, "supervisor"), doc.closing.phrases[0]]
    bodies = _call(drill, attempt_id, replies)
    assert [b["outcome"] for b in bodies[:4]] == ["deescalate", "deescalate", "stay", "deescalate"]
    assert [b["state"]["node"]["id"] for b in bodies[:4]] == ["ticket-status", "refund-demand", "supervisor",
                                                             "end:transferred"]
    assert bodies[3]["state"]["node"]["line"] == grader.last_line(doc, "transferred")
    assert bodies[-1]["turn"]["closing"] is True and bodies[-1]["turn"]["passed"] is True
    assert bodies[-1]["state"]["ending"] == "transferred"
    assert 0.4 <= bodies[2]["turn"]["score_fraction"] < 0.7 and bodies[2]["turn"]["tips"]
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.ending == "transferred" and attempt.status == "ended" and attempt.score < 100
        passed = attempt.score >= 70
    assert len(graded_events) == 1 and graded_events[0][1]["passed"] == passed


def test_hangup_after_two_poor_replies(app, client, content, make_user, graded_events):
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = drill.start(ZH_SLUG)
    bodies = _call(drill, attempt_id, [bad_reply(doc, "opening"), bad_reply(doc, "angry-refund")])
    assert [b["outcome"] for b in bodies] == ["escalate", "escalate"]
    # The customer hangs up with a last line; there is nobody left to say goodbye to.
    assert bodies[-1]["state"]["last_line"] == grader.last_line(doc, "hangup")
    assert bodies[0]["state"]["node"]["id"] == "angry-refund" and bodies[0]["anger"] == 80
    said = [i for i in bodies[0]["turn"]["items"] if i["kind"] == "forbidden" and i["matched"]]
    assert said and said[0]["points_awarded"] < 0 and said[0]["evidence"]
    assert bodies[0]["turn"]["tips"]
    final = bodies[-1]["state"]
    assert final["ended"] and final["ending"] == "hangup"
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.passed is False and attempt.score < 70
        closing = [i for i in attempt.call_items if i["rule"] == "call:closing"]
        assert not closing  # no chance to close: the closing is not judged (nor counted as missed)
    assert graded_events[0][1]["passed"] is False


def test_habitual_phrases_get_the_professional_version(app, client, content, make_user):
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = drill.start(ZH_SLUG)
    drill.answer(attempt_id)
    body = drill.say(attempt_id, "不好意思让您久等了，我理解您的心情。").json
    assert any(hit["professional"] == "非常感谢您的耐心等待" for hit in body["turn"]["habitual"])


def test_other_learners_get_404_and_trainers_may_review(app, client, content, make_user):
    owner = make_user("li", "learner")
    drill = Drill(client, owner)
    attempt_id = drill.start(ZH_SLUG)
    drill.answer(attempt_id)
    drill.say(attempt_id, "您好，请问有什么可以帮您")

    other = Drill(app.test_client(), make_user("wang", "learner"))
    assert other.state(attempt_id).status_code == 404
    assert other.answer(attempt_id).status_code == 404
    assert other.say(attempt_id, "hi").status_code == 404
    assert other.abandon(attempt_id).status_code == 404
    assert other.client.get(f"/roleplays/attempts/{attempt_id}/call").status_code == 404
    assert other.client.get(f"/roleplays/attempts/{attempt_id}/report").status_code == 404

    trainer = app.test_client()
    login_as(trainer, make_user("coach", "trainer"))
    assert trainer.get(f"/roleplays/attempts/{attempt_id}/report").status_code == 200
    # Trainers take calls only as practice, their own: the learner's call is not found for them.
    assert trainer.get(f"/api/roleplays/attempts/{attempt_id}/state").status_code == 404
    assert drill.state(attempt_id).json["status"] == "in_call"  # nothing changed by the others


def test_require_voice_refuses_typed_replies(app, client, content, make_user):
    user = make_user("li", "learner")
    drill = Drill(client, user)
    with app.app_context():
        # No zh-CN speech model on this machine: a voice-only assignment cannot even start.
        with pytest.raises(errors.VoiceRequired):
            operations.start_attempt(user.id, ZH_SLUG, "voice", require_voice=True)
    attempt_id = drill.start(ZH_SLUG)
    with app.app_context():
        db.session.get(Attempt, attempt_id).require_voice = True
        db.session.commit()
    drill.answer(attempt_id)
    refused = drill.say(attempt_id, "您好")
    assert refused.status_code == 409 and refused.json["error"] == "voice_required" and refused.json["message"]
    assert drill.state(attempt_id).json["turns"] == []


def test_voice_choice_without_a_model_falls_back_to_typed(app, client, content, make_user):
    drill = Drill(client, make_user("li", "learner"))
    page = client.get(f"/roleplays/{ZH_SLUG}").get_data(as_text=True)
    assert 'id="rp-typed-only"' in page  # the briefing says voice is unavailable for zh-CN here
    attempt_id = drill.start(ZH_SLUG, "voice")
    assert drill.state(attempt_id).json["mode"] == "typed"


def test_grade_turn_is_idempotent(app, client, content, make_user, graded_events):
    user = make_user("li", "learner")
    doc = scenario_doc(app, ZH_SLUG)
    with app.app_context():
        attempt = operations.start_attempt(user.id, ZH_SLUG, "typed")
        operations.answer_call(attempt, 1)
        turn = operations.submit_typed(attempt, good_reply(doc, "opening", greeting=True))
        turn_id, attempt_id = turn.id, attempt.id
        assert turn.status == "received" and db.session.get(Attempt, attempt_id).status == "pending"
        first = grader.grade_turn(turn_id)
        assert first.status == "graded" and first.next_node == "ticket-status"
        snapshot = (first.earned, first.graded_at)
        again = grader.grade_turn(turn_id)
        assert (again.earned, again.graded_at) == snapshot
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.node_id == "ticket-status" and attempt.anger == 45 and attempt.status == "in_call"
        assert grader.regrade_attempt(attempt_id).node_id == "ticket-status"  # nothing waiting: no change
        assert len(attempt.turns) == 1


def test_leaving_and_coming_back(app, client, content, make_user):
    drill = Drill(client, make_user("li", "learner"))
    doc = scenario_doc(app, ZH_SLUG)
    attempt_id = drill.start(ZH_SLUG)
    drill.answer(attempt_id)
    drill.say(attempt_id, good_reply(doc, "opening"))
    # A new page load resumes exactly where the call was.
    resumed = drill.state(attempt_id).json
    assert resumed["status"] == "in_call" and resumed["node"]["id"] == "ticket-status"
    assert len(resumed["turns"]) == 1 and resumed["turns"][0]["status"] == "graded"
    assert f"/roleplays/attempts/{attempt_id}/call" in client.get("/roleplays/").get_data(as_text=True)
    left = drill.abandon(attempt_id).json
    assert left["status"] == "abandoned" and left["ended"] is True and left["ending"] is None
    assert drill.abandon(attempt_id).json["status"] == "abandoned"
    assert drill.say(attempt_id, "您好").status_code == 409


def test_bad_requests(app, client, content, make_user):
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = drill.start(ZH_SLUG)
    assert drill.say(attempt_id, "您好").status_code == 409  # still ringing
    drill.answer(attempt_id)
    empty = drill.say(attempt_id, "   ")
    assert empty.status_code == 400 and empty.json["error"] == "empty_text"
    no_csrf = client.post(f"/api/roleplays/attempts/{attempt_id}/turns", json={"text": "您好"})
    assert no_csrf.status_code == 400
    with app.app_context():
        assert db.session.query(Turn).count() == 0


def test_voice_passes_for_certification(app, client, content, make_user):
    user = make_user("li", "learner")
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, user)
    attempt_id = drill.start(ZH_SLUG)
    _call(drill, attempt_id, [good_reply(doc, n, greeting=n == "opening")
                              for n in ["opening", "ticket-status", "refund-demand", "confirm-plan"]]
          + [doc.closing.phrases[0]])
    with app.app_context():
        # What certification reads (core/progress.py): a typed pass never counts as a voice pass.
        typed = progress.drill_progress([user.id])[user.id]
        assert (typed.voice_passes, typed.typed_passes) == (0, 1)
        attempt = db.session.get(Attempt, attempt_id)
        attempt.mode = "voice"  # as if it had been spoken
        db.session.commit()
        spoken = progress.drill_progress([user.id])[user.id]
        assert spoken.voice_passes == 1
        assert [(e.attempt_id, e.scenario_slug, e.difficulty, e.passed, e.mode) for e in spoken.passes] == [
            (attempt_id, ZH_SLUG, 2, True, "voice")]
        report = presenters.attempt_report(attempt_id, "en")
        assert report["score"] == 100.0 and len(report["turns"]) == 5 and report["ending"] == "resolved"


def test_pages_render_for_learners(app, client, content, make_user):
    login_as(client, make_user("li", "learner"))
    index = client.get("/roleplays/").get_data(as_text=True)
    assert "宽带断网三天要求退费" in index and "/roleplays/history" in index
    briefing = client.get(f"/roleplays/{ZH_SLUG}").get_data(as_text=True)
    assert "王先生" in briefing and "KD0571-886203" in briefing and 'name="mode"' in briefing
    assert client.get("/roleplays/no-such-scenario").status_code == 404


def test_call_page_gets_the_contract_context(app, client, content, make_user):
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = drill.start(ZH_SLUG)
    page = client.get(f"/roleplays/attempts/{attempt_id}/call").get_data(as_text=True)
    assert f'data-state-url="/api/roleplays/attempts/{attempt_id}/state"' in page
    assert f'data-turns-url="/api/roleplays/attempts/{attempt_id}/turns"' in page
    assert f'data-report-url="/roleplays/attempts/{attempt_id}/report"' in page
    assert 'data-mode="typed"' in page and 'data-language="zh-CN"' in page and "宽带断网三天要求退费" in page
