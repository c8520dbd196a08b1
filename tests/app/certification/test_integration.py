"""The real courses, exams and role-play services feeding certification through their signals."""
from __future__ import annotations

from pathlib import Path

from app.accounts.models import User
from app.certification import evidence_sources, queries
from app.certification.models import ACTIVE
from app.extensions import db
from app.roleplays.models import Attempt
from tests.support.web import login_as

from .journey import AGENT_COURSES, complete_course, earn_agent, pass_exam


def test_real_evidence_issues_the_agent_certificate(app, ko_content, make_user, korean_speech):
    learner = make_user("li", "learner", name="李明")
    with app.app_context():
        complete_course(learner.id, AGENT_COURSES[0])
        assert set(evidence_sources.course_evidence(learner.id)) == {AGENT_COURSES[0]}
        assert queries.certificates_of(learner.id) == []
        attempt = pass_exam(learner.id, "cert-agent")
        assert attempt.passed and attempt.score >= 75
        lt = evidence_sources.listen_type_evidence(learner.id)
        assert lt and all(r.attempt_id == attempt.id and r.accuracy == 1.0 and r.cpm >= 50 for r in lt)
        assert queries.certificates_of(learner.id) == []  # courses and role-plays still missing

        earn_agent(learner.id, korean_speech)
        [certificate] = queries.certificates_of(learner.id)
        assert certificate.level == "agent" and certificate.status == ACTIVE
        used = {(ref["kind"], ref["id"]) for r in certificate.evidence["evaluation"]["requirements"]
                for ref in r["used"]}
        exam_attempts = [ref_id for kind, ref_id in used if kind == "exam_attempt"]
        assert len(exam_attempts) == 1
        roleplay_ids = [ref_id for kind, ref_id in used if kind == "roleplay_attempt"]
        assert len(roleplay_ids) == 3
        # Each counted pass is a real voice call: recordings on disk, transcripts from the recogniser.
        for attempt_id in roleplay_ids:
            attempt = db.session.get(Attempt, attempt_id)
            assert attempt.mode == "voice" and attempt.passed and attempt.user_id == learner.id
            for turn in attempt.turns:
                assert turn.mode == "voice" and turn.transcript and turn.metrics["duration_s"] > 1
                assert (Path(app.config["RECORDINGS_DIR"]) / turn.recording_path).is_file()
        assert {slug for kind, slug in used if kind == "course"} == set(AGENT_COURSES)
        # Links to the exact attempts, where the owning domain has a page for them.
        refs = [ref for r in certificate.evidence["evaluation"]["requirements"] for ref in r["used"]]
        if "exams.result" in app.view_functions:
            assert any(ref.get("href", "").endswith(f"/attempts/{exam_attempts[0]}/result") for ref in refs)
        assert queries.standing(db.session.get(User, learner.id)).current_level == "agent"


def test_learner_page_links_to_the_work_that_is_missing(app, content, make_user, client):
    learner = make_user("li", "learner")
    login_as(client, learner)
    page = client.get("/certification").get_data(as_text=True)
    from flask import url_for
    with app.test_request_context():
        for slug in AGENT_COURSES:
            assert f'href="{url_for("courses.course", slug=slug)}"' in page
        assert f'href="{url_for("exams.start", slug="cert-agent")}"' in page
        assert f'href="{url_for("roleplays.index")}"' in page
    # Course titles, not slugs, in the requirement text.
    assert "call-centre-basics" not in page.split("<main", 1)[1].replace('href="/courses/call-centre-basics"', "")
