"""`flask demo load` makes `agent` a certified 座席 on real evidence, once."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from app.accounts.services import find_user
from app.certification.models import ACTIVE, Certificate, SignOff
from app.courses.services import completed_courses
from app.exams.models import ExamAttempt
from app.extensions import db
from app.roleplays.models import Attempt


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Certificate, SignOff, ExamAttempt, Attempt))


def test_demo_load_certifies_agent_through_the_real_services(app, content):
    app.config["DEMO_MODE"] = True
    runner = app.test_cli_runner()
    try:
        first = runner.invoke(args=["demo", "load"])
        assert first.exit_code == 0, first.output
        assert "agent: 座席 certificate issued" in first.output
        with app.app_context():
            agent = find_user("agent")
            trainer = find_user("trainer")
            assert agent.check_password("academy-agent") and not agent.must_change_password
            [certificate] = db.session.scalars(select(Certificate).where(Certificate.user_id == agent.id)).all()
            assert certificate.level == "agent" and certificate.status == ACTIVE
            kinds = {r["kind"]: r for r in certificate.evidence["evaluation"]["requirements"]}
            assert all(r["met"] for r in kinds.values())
            assert set(completed_courses(agent.id)) >= set(kinds["courses_completed"]["spec"]["courses"])
            exam = db.session.get(ExamAttempt, kinds["exam_passed"]["used"][0]["id"])
            assert exam.user_id == agent.id and exam.passed and exam.exam_slug == "cert-agent"
            for ref in kinds["roleplay_passes"]["used"]:
                call = db.session.get(Attempt, ref["id"])
                assert call.user_id == agent.id and call.passed and call.status == "ended" and call.turns
                signoff = db.session.scalar(select(SignOff).where(SignOff.attempt_id == call.id))
                assert signoff.trainer_id == trainer.id and signoff.learner_id == agent.id
            before = _counts()
        again = runner.invoke(args=["demo", "load"])
        assert again.exit_code == 0 and "agent: holds 座席, unchanged" in again.output
        with app.app_context():
            assert _counts() == before  # idempotent: nothing done twice
        status = json.loads(runner.invoke(args=["cert", "status", "agent"]).output)
        [shown] = status["certificates"]
        assert shown["level"] == "agent" and shown["level_zh"] == "座席" and shown["status"] == "active"
        assert shown["verification_code"] == certificate.code and shown["verify_path"] == f"/verify/{certificate.code}"
    finally:
        app.config["DEMO_MODE"] = False
