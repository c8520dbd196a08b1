"""Trainers try drills in practice mode: the call works, and it is nobody's record."""
from __future__ import annotations

from sqlalchemy import func, select

from app.certification import operations, queries as certification_queries
from app.certification.models import Certificate, EvidenceFlag
from app.core import events, progress
from app.extensions import db
from app.reviews import services as reviews
from app.roleplays import presenters, queries
from app.roleplays.models import Attempt
from tests.app.certification.typed_journey import ZH_SCENARIOS, typed_call
from tests.support.web import csrf_token, login_as

EN = {"Accept-Language": "en"}


def _learner_figures(learner_id: int) -> dict:
    rows = certification_queries.roster()
    return {"rates": [(r.cohort, r.people, r.roleplay_attempted, r.roleplay_passed)
                      for r in certification_queries.pass_rates(rows)],
            "drills": (lambda d: (d.finished, len(d.passes)))(progress.drill_progress([learner_id])[learner_id]),
            "queue": [row.attempt.id for row in reviews.queue().rows],
            "flags": db.session.scalar(select(func.count()).select_from(EvidenceFlag)),
            "certificates": db.session.scalar(select(func.count()).select_from(Certificate))}


def test_a_trainer_practises_a_drill_from_the_brief(app, content, make_user):
    trainer = make_user("wang", "trainer", name="王芳")
    client = app.test_client()
    login_as(client, trainer)
    brief = client.get("/roleplays/double-billing", headers=EN).get_data(as_text=True)
    assert 'id="rp-practice"' in brief
    assert client.get("/roleplays/", headers=EN).status_code == 200
    token = csrf_token(client, "/roleplays/double-billing")
    response = client.post("/roleplays/double-billing/start", data={"csrf_token": token, "mode": "typed"})
    assert response.status_code == 302
    with app.app_context():
        [attempt] = db.session.scalars(select(Attempt).where(Attempt.user_id == trainer.id)).all()
        assert attempt.practice
    assert client.get(response.headers["Location"]).status_code == 200  # the call screen
    assert client.get(f"/api/roleplays/attempts/{attempt.id}/state").status_code == 200


def test_a_practice_call_changes_no_learner_statistic_and_no_certification(app, content, make_user):
    learner = make_user("li", "learner", name="李明", cohort="c1")
    both = make_user("zhou", "learner", "trainer", name="周杰", cohort="c1")
    graded = []
    events.roleplay_attempt_graded.connect(receiver := lambda sender, **kw: graded.append(sender))
    app.config["CALL_MIN_SECONDS_PER_REPLY"] = 1000  # every call here is "too fast"
    try:
        with app.app_context():
            typed_call(learner.id, ZH_SCENARIOS[0])  # a learner's call: counted, flagged, queued
            before = _learner_figures(learner.id)
            assert before["flags"] == 1 and before["queue"] and graded == [learner.id]
            assert before["rates"] == [("c1", 2, 1, 1)]

            practice = typed_call(both.id, ZH_SCENARIOS[1], practice=True)
            assert practice.practice and practice.passed
            assert _learner_figures(learner.id) == before
            assert graded == [learner.id]  # no evidence signal for the practice call
            assert queries.user_attempts(both.id) == []
            assert queries.weakest_items(both.id) == []
            assert progress.drill_progress([both.id]).get(both.id, progress.DrillProgress()).passes == ()
            assert certification_queries.call_signoff_panel(practice.id, db.session.get(type(both), learner.id)) is None
            # Even a trainer's sign-off cannot turn it into evidence.
            other = make_user("wang", "trainer", name="王芳")
            try:
                operations.sign_off_call(db.session.get(type(both), other.id), practice.id)
            except operations.CertificationError as exc:
                assert "practice" in str(exc)
            else:
                raise AssertionError("a practice call was signed off")
    finally:
        app.config["CALL_MIN_SECONDS_PER_REPLY"] = 0
        events.roleplay_attempt_graded.disconnect(receiver)
    with app.app_context():
        report = presenters.attempt_report(practice.id, "en")
        assert report["practice"] is True
    client = app.test_client()
    login_as(client, both)
    page = client.get(f"/roleplays/attempts/{practice.id}/report", headers=EN).get_data(as_text=True)
    assert 'id="rp-practice-report"' in page
