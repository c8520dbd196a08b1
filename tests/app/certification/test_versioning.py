"""Requirement versions: a certificate keeps the rules it was granted under."""
from __future__ import annotations


from sqlalchemy import select

from app.accounts.models import User

from app.core.clock import utcnow
from app.certification import operations, queries, requirements
from app.certification.models import ACTIVE, Certificate, RequirementVersion
from app.content.services import sync_content
from app.extensions import db

from tests.support.content import copy_content

from tests.support.certification import days


def _edit_rules(root, old: str, new: str) -> None:
    path = root / "exams" / "certification.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_stricter_v2_leaves_the_v1_certificate_alone(app, content, make_user, evidence, tmp_path):
    early, late = make_user("early", "learner", name="早期学员"), make_user("late", "learner")
    now = utcnow()
    evidence.agent(early.id, now - days(1), exam_score=80)
    evidence.agent(late.id, now - days(1), exam_score=80)
    with app.app_context():
        assert "certification: requirements version 2 stored" in content.lines
        [certificate] = operations.reevaluate(early.id)
        db.session.commit()
        before = (certificate.id, certificate.status, certificate.requirement_version, certificate.version_id,
                  certificate.issued_at, certificate.expires_at, certificate.evidence, certificate.code)

        root = copy_content(tmp_path)
        _edit_rules(root, "version: 2\n", "version: 3\n")
        _edit_rules(root, "{kind: exam_passed, exam: cert-agent, min_score: 75}",
                    "{kind: exam_passed, exam: cert-agent, min_score: 90}")
        report = sync_content(root)
        assert "certification: requirements version 3 stored" in report.lines
        db.session.expire_all()

        current = requirements.current_version()
        assert current.version == 3
        old = db.session.scalar(select(RequirementVersion).where(RequirementVersion.version == 2))
        assert old.spec["levels"][1]["requirements"][1]["min_score"] == 75  # stored as it was
        again = db.session.get(Certificate, before[0])
        assert (again.id, again.status, again.requirement_version, again.version_id, again.issued_at,
                again.expires_at, again.evidence, again.code) == before
        assert again.status == ACTIVE and again.is_valid(utcnow())
        assert operations.reevaluate(early.id) == []
        assert queries.standing(db.session.get(User, early.id)).current_level == "agent"

        # The same evidence no longer reaches agent under v3.
        assert operations.reevaluate(late.id) == []
        report = queries.status_report(db.session.get(User, late.id))
        assert report["requirement_version"] == 3 and report["current_level"] == "trainee"
        exam = next(r for r in report["requirements"] if r["kind"] == "exam_passed")
        assert not exam["met"] and exam["spec"]["min_score"] == 90

    client = app.test_client()
    assert "早期学员" in client.get(f"/verify/{before[-1]}").get_data(as_text=True)


def test_changing_the_rules_without_a_new_version_is_refused_by_the_sync(app, content, tmp_path):
    root = copy_content(tmp_path)
    _edit_rules(root, "{kind: exam_passed, exam: cert-agent, min_score: 75}",
                "{kind: exam_passed, exam: cert-agent, min_score: 70}")
    result = app.test_cli_runner().invoke(args=["content", "sync", "--root", str(root)])
    assert result.exit_code == 1
    assert "exams/certification.yaml" in result.output and "bump version" in result.output
    with app.app_context():
        [only] = db.session.scalars(select(RequirementVersion)).all()
        assert only.version == 2 and only.spec["levels"][1]["requirements"][1]["min_score"] == 75
    # A comment-only edit is not a change of the rules.
    root2 = copy_content(tmp_path / "second")
    _edit_rules(root2, "version: 2\n", "version: 2   # unchanged rules\n")
    assert app.test_cli_runner().invoke(args=["content", "sync", "--root", str(root2)]).exit_code == 0
