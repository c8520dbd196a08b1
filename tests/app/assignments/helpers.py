"""Shared by the assignments and reviews tests: real drills, exams and course work done the way learners do it."""
from __future__ import annotations

import random
import shutil
from pathlib import Path

from app.content.services import sync_content
from app.exams import services as exams
from app.exams.paper import correct_options
from app.extensions import db
from app.roleplays.models import Attempt
from tests.app.roleplays.conftest import ZH_SLUG, Drill, bad_reply, good_reply, scenario_doc  # noqa: F401

REPO = Path(__file__).resolve().parents[3]
KO_SCENARIO = REPO / "tests" / "fixtures" / "roleplays" / "ko-thanks-for-waiting.yaml"
KO_SLUG = "ko-thanks-for-waiting"
GOOD_PATH = ["opening", "ticket-status", "refund-demand", "confirm-plan"]


def sync_with_korean(app, tmp_path: Path) -> None:
    """The shipped content plus the Korean test scenario (the one language with a speech model here)."""
    root = tmp_path / "content"
    for folder in ("courses", "exams", "roleplays"):
        shutil.copytree(Path(app.config["CONTENT_ROOT"]) / folder, root / folder)
    shutil.copy(KO_SCENARIO, root / "roleplays" / KO_SCENARIO.name)
    with app.app_context():
        sync_content(root)


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
