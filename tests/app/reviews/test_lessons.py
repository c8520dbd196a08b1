"""Trainers teach the grader from a review: the preview on the development set, the new scenario
version that carries the lesson (and keeps it through a content sync), refusals, and separation of
duties (nobody reviews or teaches from their own call)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.content.services import sync_content
from app.extensions import db
from app.reviews import services
from app.reviews.models import GraderLesson, ItemOverride
from app.roleplays import queries as roleplay_queries
from app.roleplays.models import Attempt, Scenario
from tests.support.roleplays import Drill
from tests.support.web import csrf_token, login_as

SLUG = "double-billing"
# An old-fashioned way of acknowledging the caller's fright that the grader does not know.
TAUGHT = "您受惊了"
FIRST = f"{TAUGHT}。您的手机号码是多少？我马上帮您查这两笔扣款。"
RUDE = "你自己看清楚了再打电话，肯定是你操作错了。"


def finished_call(app, client, learner) -> tuple[int, int]:
    """A typed call whose first reply uses TAUGHT, then rude replies until the customer hangs up."""
    drill = Drill(client, learner)
    attempt_id = drill.start(SLUG, "typed")
    drill.answer(attempt_id)
    first = drill.say(attempt_id, FIRST).json
    while not drill.state(attempt_id).json.get("ended") and drill.state(attempt_id).json["status"] != "ended":
        drill.say(attempt_id, RUDE)
    return attempt_id, first["turn"]["id"]


def post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/reviews"), **data})


def test_a_lesson_is_previewed_then_published_as_a_new_version_that_survives_a_sync(app, client, content,
                                                                                   make_user):
    learner = make_user("li", "learner")
    attempt_id, turn_id = finished_call(app, client, learner)
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        first = attempt.turns[0]
        judgements = roleplay_queries.score_items(first.items, first.delivery or [])[2]
        # Precondition: the grader does not hear TAUGHT as responding to the caller.
        assert not judgements["responds"].held, first.items
        version_before = attempt.version.version
        old_score = attempt.score

    trainer = app.test_client()
    login_as(trainer, make_user("qa", "trainer"))
    page = trainer.get(f"/reviews/attempts/{attempt_id}").get_data(as_text=True)
    assert f'id="lesson-{turn_id}"' in page and 'value="item:ack"' in page

    preview = post(trainer, f"/reviews/attempts/{attempt_id}/lesson/preview",
                   {"turn_id": turn_id, "target": "item:ack", "phrase": TAUGHT})
    assert preview.status_code == 200
    body = preview.get_data(as_text=True)
    assert TAUGHT in body and 'id="lesson-flips"' in body and 'id="lesson-confirm"' in body
    with app.app_context():
        assert db.session.scalars(select(GraderLesson)).all() == []   # a preview stores nothing

    done = post(trainer, f"/reviews/attempts/{attempt_id}/lesson",
                {"turn_id": turn_id, "target": "item:ack", "phrase": TAUGHT})
    assert done.status_code == 302
    with app.app_context():
        lesson = db.session.scalars(select(GraderLesson)).one()
        assert (lesson.scenario_slug, lesson.node_id, lesson.kind, lesson.phrase) == (SLUG, "opening", "intent",
                                                                                       TAUGHT)
        row = db.session.scalar(select(Scenario).where(Scenario.slug == SLUG))
        assert row.current_version.version == version_before + 1 == lesson.version
        ack = next(i for i in row.current_version.spec["nodes"]["opening"]["rubric"] if i["id"] == "ack")
        assert TAUGHT in ack["phrases"]
        # The past attempt keeps the grade of its version.
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.version.version == version_before and attempt.score == old_score

        # A content sync from the files keeps the lesson: same document, no new version.
        sync_content()
        row = db.session.scalar(select(Scenario).where(Scenario.slug == SLUG))
        assert row.current_version.version == lesson.version

    # The same words now respond to the caller in a new call.
    drill = Drill(app.test_client(), make_user("wang", "learner"))
    again = drill.start(SLUG, "typed")
    drill.answer(again)
    turn = drill.say(again, FIRST).json["turn"]
    responds = next(j for j in turn["judgements"] if j["name"] == "responds")
    assert responds["held"] and TAUGHT in " ".join(responds["evidence"])


def test_lessons_are_refused_when_they_are_not_the_trainees_words_or_not_a_target(app, client, content,
                                                                                  make_user):
    attempt_id, turn_id = finished_call(app, client, make_user("li", "learner"))
    trainer = app.test_client()
    login_as(trainer, make_user("qa", "trainer"))
    refused = [
        {"turn_id": turn_id, "target": "item:ack", "phrase": "我完全理解您的心情"},    # not said
        {"turn_id": turn_id, "target": "item:ack", "phrase": FIRST * 2},              # too long
        {"turn_id": turn_id, "target": "item:no-such", "phrase": TAUGHT},             # no such item
        {"turn_id": turn_id, "target": "item:ack", "phrase": "   "},                  # empty
        {"turn_id": 999999, "target": "item:ack", "phrase": TAUGHT},                  # not this call
    ]
    for data in refused:
        response = post(trainer, f"/reviews/attempts/{attempt_id}/lesson", data)
        assert response.status_code == 302
        page = trainer.get(response.headers["Location"]).get_data(as_text=True)
        assert "flash-error" in page, data
    with app.app_context():
        assert db.session.scalars(select(GraderLesson)).all() == []


def test_nobody_reviews_overrides_or_teaches_from_their_own_call(app, client, content, make_user):
    both = make_user("zhao", "learner", "trainer")
    attempt_id, turn_id = finished_call(app, client, both)
    with app.app_context():
        item = next(i for i in db.session.get(Attempt, attempt_id).turns[0].items if i["kind"] == "intent")
    own = app.test_client()
    login_as(own, both)
    page = own.get(f"/reviews/attempts/{attempt_id}").get_data(as_text=True)
    assert 'id="rv-own"' in page and f'id="lesson-{turn_id}"' not in page
    for path, data in [
        (f"/reviews/attempts/{attempt_id}/override", {"turn_id": turn_id, "item_id": item["item_id"],
                                                      "points": item["points_possible"], "comment": "我觉得对"}),
        (f"/reviews/attempts/{attempt_id}/lesson", {"turn_id": turn_id, "target": "item:ack", "phrase": TAUGHT}),
        (f"/reviews/attempts/{attempt_id}/reviewed", {}),
    ]:
        response = post(own, path, data)
        assert response.status_code == 302
        assert "flash-error" in own.get(response.headers["Location"]).get_data(as_text=True), path
    with app.app_context():
        assert db.session.scalars(select(ItemOverride)).all() == []
        assert db.session.scalars(select(GraderLesson)).all() == []
        # The refusal's code and status, for any caller the views do not answer themselves.
        with pytest.raises(services.ReviewError) as refused:
            services.mark_reviewed(attempt_id, both)
        assert (refused.value.code, refused.value.status) == ("own_call", 403)


def test_the_agreement_report_shows_where_trainers_disagree_with_examples(app, client, content, make_user):
    attempt_id, turn_id = finished_call(app, client, make_user("li", "learner"))
    trainer = app.test_client()
    login_as(trainer, make_user("qa", "trainer"))
    with app.app_context():
        item = next(i for i in db.session.get(Attempt, attempt_id).turns[0].items if i["item_id"] == "ack")
    comment = "“您受惊了”就是在回应客户的情绪"
    assert post(trainer, f"/reviews/attempts/{attempt_id}/override",
                {"turn_id": turn_id, "item_id": "ack", "points": item["points_possible"],
                 "comment": comment}).status_code == 302
    page = trainer.get("/reviews/agreement").get_data(as_text=True)
    assert comment in page and "agreement-examples" in page
    assert "您受惊了" in page and f"/reviews/attempts/{attempt_id}" in page
    assert not re.search(r"\b(intent|forbidden|call):[a-z_]+", re.sub(r'data-rule="[^"]*"', "", page))
