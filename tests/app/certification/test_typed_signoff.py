"""Where the server cannot grade a language by voice (no zh-CN model on the test machine), a passed typed
call counts for 座席 once a trainer signs it off from the call's review page."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.certification import evidence_sources, operations, queries, requirements
from app.certification.models import ACTIVE, AuditEntry, SignOff
from app.extensions import db
from tests.support.web import csrf_token, login_as

from .journey import AGENT_COURSES, complete_course, pass_exam
from .typed_journey import ZH_SCENARIOS, typed_call

EN = {"Accept-Language": "en"}


def _sign_off(client, attempt_id: int, note: str = ""):
    token = csrf_token(client, f"/reviews/attempts/{attempt_id}")
    return client.post(f"/certification/signoffs/calls/{attempt_id}", data={"csrf_token": token, "note": note})


def test_typed_passes_signed_off_by_a_trainer_reach_agent(app, content, make_user):
    learner = make_user("li", "learner", name="李明")
    trainer = make_user("wang", "trainer", name="王芳")
    with app.app_context():
        assert "zh-CN" not in evidence_sources.voice_languages()
        for slug in AGENT_COURSES:
            complete_course(learner.id, slug)
        pass_exam(learner.id, "cert-agent")
        calls = [typed_call(learner.id, slug).id for slug in ZH_SCENARIOS]
        assert queries.certificates_of(learner.id) == []  # typed passes alone are not enough
        report = queries.status_report(db.session.get(User, learner.id))
        roleplay = next(r for r in report["requirements"] if r["kind"] == "roleplay_passes")
        assert not roleplay["met"] and any("3 of your typed passes are waiting" in m for m in roleplay["missing"])

    client = app.test_client()
    login_as(client, trainer)
    page = client.get(f"/reviews/attempts/{calls[0]}", headers=EN).get_data(as_text=True)
    assert 'id="call-signoff-form"' in page and "Sign off this typed call" in page
    for attempt_id in calls:
        response = _sign_off(client, attempt_id, "听过录音文字，处理得当")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/reviews/attempts/{attempt_id}")
    page = client.get(f"/reviews/attempts/{calls[0]}", headers=EN).get_data(as_text=True)
    assert 'id="call-signed-off"' in page and "王芳" in page
    _sign_off(client, calls[0])  # again: refused with a message, nothing added
    # The refusal is flashed in the language of the request that was refused (zh-CN, the default).
    assert "此通话已签核。" in client.get(f"/reviews/attempts/{calls[0]}", headers=EN).get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(SignOff).where(SignOff.attempt_id == calls[0])).all()) == 1
        [certificate] = queries.certificates_of(learner.id)
        assert certificate.level == "agent" and certificate.status == ACTIVE
        assert certificate.requirement_version == 2
        # The rule, its version and what it rested on are recorded with the certificate.
        assert certificate.evidence["requirement_version"] == 2 and "zh-CN" not in certificate.evidence["voice_languages"]
        roleplay = next(r for r in certificate.evidence["evaluation"]["requirements"] if r["kind"] == "roleplay_passes")
        assert roleplay["spec"]["voice_substitute"] == "typed_signoff"
        assert sorted(ref["id"] for ref in roleplay["used"]) == sorted(calls)
        assert all(ref["detail"]["substitute"] == "typed_signoff" and ref["detail"]["trainer"] == "王芳"
                   for ref in roleplay["used"])
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "call_signed_off")).all()
        assert sorted(e.evidence["attempt_id"] for e in audit) == sorted(calls)
        assert all(e.actor_id == trainer.id and e.subject_id == learner.id for e in audit)
        assert queries.verify_audit_log().broken is None


def test_nobody_signs_off_their_own_call_and_voice_graded_languages_need_voice(app, content, make_user):
    both = make_user("zhou", "learner", "trainer", name="周杰")
    other = make_user("wang", "trainer", name="王芳")
    learner = make_user("li", "learner", name="李明")
    with app.app_context():
        own = typed_call(both.id, ZH_SCENARIOS[0]).id
        theirs = typed_call(learner.id, ZH_SCENARIOS[1]).id
    client = app.test_client()
    login_as(client, both)
    page = client.get(f"/reviews/attempts/{own}", headers=EN).get_data(as_text=True)
    assert 'id="call-signoff-refused"' in page and "another trainer has to sign it off" in page
    _sign_off(client, own)
    with app.app_context():
        assert db.session.scalars(select(SignOff)).all() == []
        with pytest.raises(operations.CertificationError, match="own call"):
            operations.sign_off_call(db.session.get(User, both.id), own)
        # Where the server grades zh-CN by voice, a typed call never replaces a voice pass.
        saved = app.extensions[evidence_sources.VOICE_LANGUAGES_KEY]
        app.extensions[evidence_sources.VOICE_LANGUAGES_KEY] = lambda: {"zh-CN", "en-US", "ko-KR"}
        try:
            with pytest.raises(operations.CertificationError, match="grades this language by voice"):
                operations.sign_off_call(db.session.get(User, other.id), theirs)
            assert queries.call_signoff_panel(theirs, db.session.get(User, other.id)) is None
        finally:
            app.extensions[evidence_sources.VOICE_LANGUAGES_KEY] = saved
        signoff = operations.sign_off_call(db.session.get(User, other.id), theirs)
        assert signoff.attempt_id == theirs and signoff.trainer_id == other.id
        # A call sign-off is not the expert level's sign-off of the learner.
        assert queries.active_signoff(learner.id, signoff.level) is None
    # Only the trainer who gave it withdraws it, from the review page.
    login_as(client, other)
    token = csrf_token(client, f"/reviews/attempts/{theirs}")
    response = client.post(f"/certification/signoffs/{signoff.id}/withdraw", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reviews/attempts/{theirs}")
    with app.app_context():
        assert db.session.get(SignOff, signoff.id).revoked_at is not None
    # Learners cannot sign off at all.
    login_as(client, learner)
    token = csrf_token(client, "/certification")
    assert client.post(f"/certification/signoffs/calls/{theirs}", data={"csrf_token": token}).status_code == 403


def test_trainees_are_told_up_front_what_a_typed_call_needs(app, content, make_user):
    learner = make_user("li", "learner", name="李明")
    client = app.test_client()
    login_as(client, learner)
    expected = ("This server cannot grade Mandarin calls by voice yet: a passed typed call counts towards Agent "
                "certification only after a trainer signs it off.")
    for path in ("/roleplays/double-billing", "/roleplays/", "/certification"):
        page = client.get(path, headers=EN).get_data(as_text=True)
        assert expected in page, path
        assert "Typed calls do not count towards Senior agent, Expert agent certification." in page, path
    # ... and the role-play requirement on 我的认证 says what is missing, in words.
    page = client.get("/certification", headers=EN).get_data(as_text=True)
    assert ("This server cannot grade English, Mandarin calls by voice yet: a passed typed call in that language "
            "counts only after a trainer signs it off.") in page
    # With a speech model for every language, the brief says that only voice calls count.
    saved = app.extensions[evidence_sources.VOICE_LANGUAGES_KEY]
    app.extensions[evidence_sources.VOICE_LANGUAGES_KEY] = lambda: {"zh-CN", "en-US", "ko-KR"}
    try:
        page = client.get("/roleplays/double-billing", headers=EN).get_data(as_text=True)
    finally:
        app.extensions[evidence_sources.VOICE_LANGUAGES_KEY] = saved
    assert expected not in page
    assert "Only calls answered by voice count towards Agent, Senior agent, Expert agent certification" in page


def test_a_rules_file_synced_before_voice_substitute_existed_is_not_a_silent_change(app):
    from tests.support.certification import install_spec, spec_dict
    with app.app_context():
        data = spec_dict(version=7)
        for level in data["levels"]:
            for requirement in level.get("requirements", []):
                requirement.pop("voice_substitute", None)
        install_spec(data)
        row = requirements.current_version()
        # As an older release stored it: without the key at all.
        for level in row.spec["levels"]:
            for requirement in level.get("requirements", []):
                requirement.pop("voice_substitute", None)
        row.spec = dict(row.spec)
        row.checksum = requirements.canonical_checksum(row.spec)
        db.session.commit()
        install_spec(data)  # the same rules: no "bump version" error
        assert requirements.current_version().version == 7
