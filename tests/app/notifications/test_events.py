"""Each kind of notice is made by the domain event that already tells what happened, in the sender's
transaction (nothing is left when that transaction rolls back)."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale

from app.accounts.models import User

from app.core.clock import utcnow
from app.assignments import services as assignments
from app.certification import operations
from app.certification.models import PENDING
from app.core import events
from app.extensions import db
from app.notifications import kinds
from app.notifications.kinds import render
from app.reviews import services as reviews
from app.roleplays.models import Attempt
from tests.support.certification import install_spec, spec_dict

from tests.app.assignments.helpers import good_call
from tests.support.notifications import COMMENT, notices_of, reviewed_call
from tests.support.roleplays import Drill


def test_a_review_tells_the_learner_with_the_trainers_comment(app, content, make_user):
    learner = make_user("li", "learner", name="学员小李")
    trainer = make_user("qa", "trainer", name="质检王老师")
    attempt_id = reviewed_call(app, learner, trainer)
    [notice] = notices_of(app, learner.id)
    assert notice.kind == kinds.CALL_REVIEWED
    assert notice.params["comment"] == COMMENT and notice.params["trainer"] == "质检王老师"
    assert (notice.link_endpoint, notice.link_values) == ("roleplays.report", {"attempt_id": attempt_id})
    assert notices_of(app, trainer.id) == []
    with app.test_request_context(), force_locale("en"):
        rendered = render(notice.kind, notice.params)
        assert rendered.text.startswith("质检王老师 reviewed your call “") and rendered.detail == COMMENT
        # The scenario's title in the reader's language (English here), from the titles the event carried.
        assert "“" + notice.params["scenario"]["en"] + "”" in rendered.text


def test_a_flagged_call_goes_to_the_trainers_of_the_learners_cohort(app, content, make_user):
    learner = make_user("li", "learner", cohort="2026-春")
    own = make_user("own-trainer", "trainer", cohort="2026-春")
    other = make_user("other-trainer", "trainer", cohort="2025-秋")
    attempt_id = good_call(app, Drill(app.test_client(), learner))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert reviews.flag(attempt, db.session.get(User, learner.id), "我觉得第二句判错了") is not None
    [notice] = notices_of(app, own.id)
    assert notice.kind == kinds.CALL_FLAGGED and notice.params["reason"] == "我觉得第二句判错了"
    assert notice.link_endpoint == "reviews.attempt"
    assert notices_of(app, other.id) == [] and notices_of(app, learner.id) == []


def test_a_flag_reaches_every_trainer_when_nobody_trains_that_cohort_but_not_the_flagger(app, content, make_user):
    learner = make_user("li", "learner", cohort="无人带的班")
    flagger = make_user("t1", "trainer", cohort="2025-秋")
    colleague = make_user("t2", "trainer")
    attempt_id = good_call(app, Drill(app.test_client(), learner))
    with app.app_context():
        reviews.flag(db.session.get(Attempt, attempt_id), db.session.get(User, flagger.id))
    assert [n.kind for n in notices_of(app, colleague.id)] == [kinds.CALL_FLAGGED]
    assert notices_of(app, flagger.id) == []


def test_an_assignment_tells_each_learner_it_reaches(app, content, make_user):
    trainer = make_user("tt", "trainer")
    in_cohort = make_user("aa", "learner", cohort="C1")
    named = make_user("bb", "learner", cohort="C2")
    elsewhere = make_user("cc", "learner", cohort="C2")
    due = utcnow().date() + timedelta(days=7)
    with app.app_context():
        assignment = assignments.create_assignment(kind="course", slug="call-centre-basics", due_date=due,
                                                   created_by=db.session.get(User, trainer.id), cohort="C1",
                                                   user_ids=[named.id], note="周五前完成")
        assignment_id = assignment.id
    for user in (in_cohort, named):
        [notice] = notices_of(app, user.id)
        assert notice.kind == kinds.ASSIGNMENT_GIVEN and notice.dedupe_key == f"assignment:{assignment_id}:given"
        assert notice.params["due"] == due.isoformat() and notice.params["note"] == "周五前完成"
        assert set(notice.params["title"]) == {"zh-CN", "en"}
    assert notices_of(app, elsewhere.id) == [] and notices_of(app, trainer.id) == []


def test_an_issued_certificate_tells_its_holder(app, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner")
    evidence.agent(learner.id, utcnow() - timedelta(days=1))
    with app.app_context():
        events.exam_attempt_graded.send(learner.id, attempt_id=1, exam_slug="cert-agent", passed=True, score=80)
        db.session.commit()  # the sender's commit: receivers only flush into its transaction
    [notice] = notices_of(app, learner.id)
    assert notice.kind == kinds.CERTIFICATE_ISSUED and notice.params["level"] == {"zh-CN": "座席", "en": "Agent"}
    with app.test_request_context(), force_locale("zh_CN"):
        assert "座席" in render(notice.kind, notice.params).text


def test_a_certificate_held_for_approval_tells_hr_and_the_approval_tells_the_holder(app, make_user, evidence):
    learner = make_user("chen", "learner", name="陈静")
    hr = make_user("hr1", "hr")
    hr_learner = make_user("hr2", "hr", "learner")  # also HR, but not the holder: told as well
    evidence.agent(learner.id, utcnow() - timedelta(days=1))
    with app.app_context():
        install_spec(spec_dict(approval="hr"))
        [pending] = operations.reevaluate(learner.id)
        db.session.commit()
        assert pending.status == PENDING
        pending_id = pending.id
    assert [n.kind for n in notices_of(app, learner.id)] == [kinds.CERTIFICATE_PENDING]
    for person in (hr, hr_learner):
        [waiting] = notices_of(app, person.id)
        assert waiting.kind == kinds.APPROVAL_WAITING and waiting.params["learner"] == "陈静"
        assert (waiting.link_endpoint, waiting.link_values) == ("certification.person", {"user_id": learner.id})
    with app.app_context():
        operations.approve(db.session.get(type(pending), pending_id), db.session.get(User, hr.id))
    assert [n.kind for n in notices_of(app, learner.id)] == [kinds.CERTIFICATE_PENDING, kinds.CERTIFICATE_APPROVED]


def test_hr_holding_the_certificate_is_not_asked_to_approve_it(app, make_user, evidence):
    both = make_user("hr-learner", "hr", "learner")
    evidence.agent(both.id, utcnow() - timedelta(days=1))
    with app.app_context():
        install_spec(spec_dict(approval="hr"))
        operations.reevaluate(both.id)
        db.session.commit()
    assert [n.kind for n in notices_of(app, both.id)] == [kinds.CERTIFICATE_PENDING]


def test_no_notice_survives_the_senders_rollback(app, make_user):
    learner = make_user("li", "learner")
    with app.app_context():
        db.session.get(User, learner.id).name = "新名字"  # the sender's own work, then its event
        events.assignment_created.send(1, assignment_id=42, user_ids=[learner.id], titles={"en": "X"},
                                       due_date=utcnow().date())
        db.session.rollback()  # what the sender does when its own work fails
    assert notices_of(app, learner.id) == []
    with app.app_context():
        assert db.session.get(User, learner.id).name != "新名字"


def test_a_failing_notice_does_not_undo_the_senders_work(app, make_user, monkeypatch):
    from app.notifications import services
    from app.notifications.models import Notification
    trainer = make_user("tt", "trainer")
    learner = make_user("li", "learner")

    def broken(*args, **kwargs):
        raise RuntimeError("notices table is gone")

    monkeypatch.setattr(services, "notify", broken)
    with app.app_context():
        user = db.session.get(User, trainer.id)
        user.name = "改名后的培训师"  # the sender's own change
        events.assignment_created.send(trainer.id, assignment_id=1, user_ids=[learner.id], titles={"en": "X"},
                                       due_date=utcnow().date())
        db.session.commit()
    with app.app_context():
        assert db.session.get(User, trainer.id).name == "改名后的培训师"
        assert db.session.query(Notification).count() == 0
