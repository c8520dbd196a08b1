"""`flask notifications sweep`: due tomorrow, overdue, expiring and expired notices, each made once however
often the sweep runs, and never by a page view."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update

from app.accounts.models import User

from app.core.clock import utcnow
from app.assignments import services as assignments
from app.assignments.models import Assignment
from app.certification.models import ACTIVE, EXPIRED, Certificate
from app.core import events
from app.extensions import db
from app.notifications import kinds, services
from app.notifications.models import Notification
from tests.app.assignments.helpers import take_exam
from tests.support.web import login_as

from tests.support.notifications import notices_of


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Notification.id)))


def _assign(app, trainer, learners, kind, slug, due):
    with app.app_context():
        assignment = assignments.create_assignment(kind=kind, slug=slug, due_date=utcnow().date() + timedelta(days=1),
                                                   created_by=db.session.get(User, trainer.id),
                                                   user_ids=[u.id for u in learners])
        # Dates are set directly: creating work due in the past is refused on purpose.
        db.session.execute(update(Assignment).where(Assignment.id == assignment.id).values(due_date=due))
        db.session.commit()
        return assignment.id


def test_due_tomorrow_and_overdue_once_each_and_not_for_work_done(app, content, make_user):
    trainer = make_user("tt", "trainer")
    idle = make_user("idle", "learner")
    busy = make_user("busy", "learner")
    now = datetime.combine(utcnow().date(), time(1, 0))
    today = now.date()
    tomorrow_id = _assign(app, trainer, [idle, busy], "exam", "quiz-call-centre-basics", today + timedelta(days=1))
    overdue_id = _assign(app, trainer, [idle], "course", "call-centre-basics", today - timedelta(days=2))
    _assign(app, trainer, [idle], "course", "call-handling", today)  # due today: neither
    take_exam(app, busy.id, "quiz-call-centre-basics", right=True)   # busy did the work due tomorrow
    given = _count(app)

    with app.app_context():
        assert services.sweep(now) == 2
    idle_keys = {n.dedupe_key: n.kind for n in notices_of(app, idle.id) if n.kind != kinds.ASSIGNMENT_GIVEN}
    assert idle_keys == {f"assignment:{tomorrow_id}:due_tomorrow": kinds.ASSIGNMENT_DUE_TOMORROW,
                         f"assignment:{overdue_id}:overdue": kinds.ASSIGNMENT_OVERDUE}
    assert [n.kind for n in notices_of(app, busy.id) if n.kind != kinds.ASSIGNMENT_GIVEN] == []

    with app.app_context():
        assert services.sweep(now) == 0  # idempotent
        assert services.sweep(now + timedelta(hours=5)) == 0
    assert _count(app) == given + 2


def _certificate(app, user_id, level, status, expires_at) -> int:
    with app.app_context():
        from app.certification.requirements import current_version
        version = current_version()
        row = Certificate(user_id=user_id, level=level, status=status, version_id=version.id,
                          requirement_version=version.version, evidence={}, evidence_key=f"k-{level}-{status}",
                          code=f"code-{level}-{status}-{user_id}", created_at=expires_at - timedelta(days=365),
                          issued_at=expires_at - timedelta(days=365), expires_at=expires_at)
        db.session.add(row)
        db.session.commit()
        return row.id


def test_expiring_and_expired_certificates_once_each(app, make_user, shipped_rules):
    holder = make_user("li", "learner")
    other = make_user("wang", "learner")
    now = utcnow()
    expiring = _certificate(app, holder.id, "senior", ACTIVE, now + timedelta(days=10))
    lapsed_unmarked = _certificate(app, holder.id, "agent", ACTIVE, now - timedelta(hours=2))
    expired = _certificate(app, other.id, "agent", EXPIRED, now - timedelta(days=3))
    _certificate(app, other.id, "senior", ACTIVE, now + timedelta(days=200))   # far off: nothing
    _certificate(app, other.id, "expert", EXPIRED, now - timedelta(days=400))  # long ago: nothing

    with app.app_context():
        assert services.sweep(now) == 3
        assert services.sweep(now) == 0
    by_key = {n.dedupe_key.rsplit(":", 1)[0]: n for n in notices_of(app, holder.id) + notices_of(app, other.id)}
    assert by_key[f"certificate:{expiring}:expiring"].kind == kinds.CERTIFICATE_EXPIRING
    assert by_key[f"certificate:{lapsed_unmarked}:expired"].kind == kinds.CERTIFICATE_EXPIRED
    assert by_key[f"certificate:{expired}:expired"].kind == kinds.CERTIFICATE_EXPIRED
    assert by_key[f"certificate:{expiring}:expiring"].params["level"] == {"zh-CN": "高级座席", "en": "Senior agent"}

    # Ten days on, the expiring one has ended: told once more, as expired.
    with app.app_context():
        assert services.sweep(now + timedelta(days=11)) == 1
    assert [n.kind for n in notices_of(app, holder.id)].count(kinds.CERTIFICATE_EXPIRED) == 2


def test_the_command_runs_the_sweep(app, make_user, shipped_rules):
    holder = make_user("li", "learner")
    _certificate(app, holder.id, "agent", ACTIVE, utcnow() + timedelta(days=5))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["notifications", "sweep", "--days", "30"])
    assert first.exit_code == 0 and "notices made: 1" in first.output, first.output
    again = runner.invoke(args=["notifications", "sweep"])
    assert again.exit_code == 0 and "notices made: 0" in again.output
    assert runner.invoke(args=["notifications", "sweep", "--days", "0"]).exit_code != 0  # refused, nothing done


def test_pages_never_make_time_based_notices(app, make_user, shipped_rules):
    holder = make_user("li", "learner")
    _certificate(app, holder.id, "agent", ACTIVE, utcnow() - timedelta(days=1))  # lapsed, not marked
    client = app.test_client()
    login_as(client, holder)
    for path in ("/notifications", "/certification", "/account"):
        assert client.get(path).status_code == 200
    assert notices_of(app, holder.id) == []


def test_a_sweep_receiver_that_fails_leaves_nothing_half_done(app, make_user):
    learner = make_user("li", "learner")

    def broken(_sender, **_):
        events.assignment_due.send(learner.id, assignment_id=1, state="overdue", titles={"en": "X"},
                                   due_date=utcnow().date())
        raise RuntimeError("disk full")

    events.sweep_due.connect(broken)
    try:
        with app.app_context():
            try:
                services.sweep()
            except RuntimeError:
                db.session.rollback()
    finally:
        events.sweep_due.disconnect(broken)
    assert notices_of(app, learner.id) == []
