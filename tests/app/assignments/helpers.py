"""Shared by the assignments and reviews tests: real drills, exams and course work done the way learners do it."""
from __future__ import annotations

import random

from app.exams import services as exams
from app.exams.paper import correct_options
from app.extensions import db
from app.roleplays.models import Attempt
from tests.support.roleplays import ZH_SLUG, Drill, bad_reply, good_reply, scenario_doc  # noqa: F401
from tests.support.content import sync_with_korean  # noqa: F401

KO_SLUG = "ko-thanks-for-waiting"
GOOD_PATH = ["opening", "ticket-status", "refund-demand", "confirm-plan"]


def good_call(app, drill: Drill) -> int:
    """A typed call on the zh-CN scenario that resolves with 100%: returns the attempt id."""
    doc = scenario_doc(app, ZH_SLUG)
    attempt_id = drill.start(ZH_SLUG, "typed")
    assert drill.answer(attempt_id, rings=2).json["status"] == "in_call"
    for node in GOOD_PATH:
        text = good_reply(doc, node, greeting=node == "opening", closing=node == "confirm-plan")
        response = drill.say(attempt_id, text)
        assert response.status_code == 200, response.get_data(as_text=True)
    return attempt_id


def failed_call(app, drill: Drill) -> int:
    """Two bad replies: the customer hangs up and the call fails."""
    doc = scenario_doc(app, ZH_SLUG)
    attempt_id = drill.start(ZH_SLUG, "typed")
    drill.answer(attempt_id, rings=2)
    for node in ("opening", "angry-refund"):
        assert drill.say(attempt_id, bad_reply(doc, node)).status_code == 200
    return attempt_id


def load_attempt(app, attempt_id: int) -> Attempt:
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        attempt.turns  # noqa: B018  (load before leaving the context)
        db.session.expunge_all()
        return attempt


def right_answer(entry: dict):
    kind = entry["type"]
    if kind == "single":
        return correct_options(entry)[0]
    if kind == "multiple":
        return correct_options(entry)
    if kind == "true_false":
        return entry["answer"]
    if kind == "ordering":
        return [item["id"] for item in entry["items"]]
    return None


def take_exam(app, user_id: int, slug: str, *, right: bool):
    """Start, answer (everything right, or nothing) and submit an exam; returns (score, passed)."""
    with app.app_context():
        attempt = exams.start_attempt(user_id, slug, rng=random.Random(3))
        if right:
            exams.save_answers(attempt, {entry["id"]: right_answer(entry) for entry in attempt.paper
                                         if right_answer(entry) is not None})
        exams.submit_attempt(attempt)
        return attempt.score, attempt.passed
