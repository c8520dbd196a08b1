"""Reading a page never writes: every page each role can open, GET after GET, sends no INSERT, UPDATE or
DELETE to the database and commits nothing (tests/support/db_writes.py listens to SQLAlchemy's engine and
session events).

The pages: every GET route without arguments (found in ``app.url_map``, so a new page is covered the
day it is added) and a curated list of pages with arguments, opened by anonymous visitors, learners in
every situation a page shows, a trainer, HR and an administrator. The data holds the states that
tempted pages to write on read:

- a call in progress and a call left ringing for hours (stale: it counts as abandoned when read; a
  page derives that, it does not store it);
- an ended call with its report, an exam attempt graded, one open and one whose time ran out
  (graded by a POST, never by a page), a course half done;
- a valid certificate and one whose end date has passed (expired when read, likewise);
- notices, an assignment, a flagged call.
"""
from __future__ import annotations

import random
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.accounts.models import User
from app.core.clock import utcnow
from app.extensions import db
from tests.support.web import csrf_token, login_as
from tests.support.db_writes import db_writes

# Routes that are not pages: files served as they are (covered by the curated list where they matter).
NOT_PAGES = {"static", "courses.asset", "media.audio"}


def _first(statement):
    return db.session.scalars(statement).first()


def _no_argument_pages(app) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments and rule.endpoint not in NOT_PAGES)


def _stale(attempt_id: int) -> None:
    """A call picked up three hours ago and left: abandoned by now, though nothing stored that."""
    from app.roleplays.models import Attempt
    long_ago = utcnow() - timedelta(hours=3)
    db.session.execute(update(Attempt).where(Attempt.id == attempt_id)
                       .values(started_at=long_ago, last_activity_at=long_ago))


def _lapsed_certificate(holder_id: int, template) -> str:
    """A copy of a real certificate for another person, whose end date passed yesterday (still stored
    as active: nothing has expired it yet). Returns its verification code."""
    from app.certification.models import Certificate
    columns = {c.key: getattr(template, c.key) for c in Certificate.__table__.columns if c.key != "id"}
    code = secrets.token_urlsafe(16)  # the shape /verify accepts
    columns.update(user_id=holder_id, code=code, expires_at=utcnow() - timedelta(days=1),
                   issued_at=utcnow() - timedelta(days=400), holder_name="过期的 证书")
    db.session.add(Certificate(**columns))
    return code


@pytest.fixture
def scene(app, content, make_user, monkeypatch):
    """The demo data plus learners in the states above; returns (people, curated pages)."""
    from app.assignments.services import create_assignment, today
    from app.certification.models import Certificate
    from app.courses.models import Course, Lesson
    from app.demo.services import load_demo
    from app.exams import services as exams
    from app.exams.models import Exam, ExamAttempt
    from app.reviews import services as reviews
    from app.roleplays.models import Attempt, Scenario, ScenarioVersion
    from tests.app.assignments.helpers import Drill, failed_call

    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://academy.example.com")  # certificate PDFs
    with app.app_context():
        load_demo()
        db.session.commit()
    caller = make_user("reads-caller", "learner", name="通话中 学员", cohort="2026-demo")
    staller = make_user("reads-staller", "learner", name="挂机 学员", cohort="2026-demo")
    lapsed = make_user("reads-lapsed", "learner", name="过期 学员", cohort="2026-demo")

    # Calls: one ended and flagged (reviews queue, report), one in progress, one left ringing for hours.
    ended = failed_call(app, Drill(app.test_client(), caller))
    with app.app_context():
        slug = _first(select(ScenarioVersion.slug).join(Attempt, Attempt.version_id == ScenarioVersion.id)
                      .where(Attempt.id == ended))
    live_drill = Drill(app.test_client(), caller)
    live = live_drill.start(slug, "typed")
    assert live_drill.answer(live, rings=2).status_code == 200
    stale = Drill(app.test_client(), staller).start(slug, "typed")

    with app.app_context():
        people = {name: _first(select(User).where(User.username == name))
                  for name in ("trainee", "agent", "trainer", "hr", "admin")}
        agent, trainee, trainer = people["agent"], people["trainee"], people["trainer"]
        reviews.flag(db.session.get(Attempt, ended), db.session.get(User, trainer.id), "请复核")
        _stale(stale)
        certificate = _first(select(Certificate).where(Certificate.user_id == agent.id).order_by(Certificate.id))
        lapsed_code = _lapsed_certificate(lapsed.id, certificate)
        assignment = create_assignment(kind="course", slug="call-centre-basics", due_date=today(),
                                       created_by=db.session.get(User, trainer.id), cohort="2026-demo")
        db.session.commit()
        # An exam attempt open right now (its page, its summary) next to the agent's graded one.
        exam = _first(select(Exam).where(Exam.kind == "certification").order_by(Exam.slug))
        open_attempt = exams.start_attempt(caller.id, exam.slug, rng=random.Random(5))
        # ... and one whose time ran out an hour ago, left without submitting (graded only by a POST).
        timed_out = exams.start_attempt(staller.id, exam.slug, rng=random.Random(6))
        timed_out.started_at -= timedelta(hours=3)
        timed_out.deadline = utcnow() - timedelta(hours=1)
        db.session.commit()

        scenario = _first(select(Scenario).where(Scenario.retired.is_(False)).order_by(Scenario.slug))
        course = _first(select(Course).where(Course.retired.is_(False)).order_by(Course.slug))
        lesson = _first(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.order))
        graded = _first(select(ExamAttempt).where(ExamAttempt.user_id == agent.id).order_by(ExamAttempt.id))
        agent_call = _first(select(Attempt).where(Attempt.user_id == agent.id).order_by(Attempt.id))
        bank = exam.slug
        pages = [
            f"/courses/{course.slug}", f"/courses/{course.slug}/lessons/{lesson.slug}",
            f"/exams/{exam.slug}", f"/exams/statistics/{exam.slug}",
            f"/exams/attempts/{graded.id}/result", f"/exams/attempts/{open_attempt.id}",
            f"/exams/attempts/{open_attempt.id}/summary", f"/exams/attempts/{timed_out.id}/result",
            f"/roleplays/{scenario.slug}", f"/roleplays/{slug}",
            f"/roleplays/attempts/{live}/call", f"/api/roleplays/attempts/{live}/state",
            f"/roleplays/attempts/{stale}/call", f"/api/roleplays/attempts/{stale}/state",
            f"/roleplays/attempts/{ended}/report", f"/roleplays/attempts/{agent_call.id}/report",
            f"/reviews/attempts/{ended}",
            f"/certification/records/{agent.id}", f"/certification/records/{lapsed.id}",
            f"/certification/records/{trainee.id}",
            f"/certification/certificates/{certificate.id}.pdf", f"/verify/{certificate.code}",
            f"/verify/{lapsed_code}",
            f"/team/learners/{agent.id}", f"/team/learners/{staller.id}",
            f"/assignments/{assignment.id}",
            f"/authoring/scenarios/{scenario.slug}", f"/authoring/scenarios/{scenario.slug}/export",
            f"/authoring/banks/{bank}", f"/authoring/banks/{bank}/export",
            f"/admin/users/{trainee.id}", f"/admin/users/{lapsed.id}",
        ]
        for user in people.values():
            db.session.refresh(user)  # loaded after the commits above, so usable once detached
            db.session.expunge(user)
    people.update({"reads-caller": caller, "reads-staller": staller, "reads-lapsed": lapsed})
    return people, pages


def _walk(app, user, urls, answered: set[str] | None = None) -> tuple[list[str], int]:
    """GET every URL as this person; returns (what each page wrote, how many answered 200), and adds
    the URLs that answered 200 to `answered`."""
    client = app.test_client()
    if user is not None:
        login_as(client, user)
    found, shown = [], 0
    for url in urls:
        with db_writes(app) as writes:
            response = client.get(url)
        if response.status_code == 200:
            shown += 1
            if answered is not None:
                answered.add(url)
        if writes:
            found.append(f"{url}: {writes.describe()}")
    return found, shown


def test_the_detector_sees_a_write_a_flush_and_a_commit(app, make_user):
    """The checks below can fail: a statement, a flush and a commit in the block are all reported,
    and a read is not."""
    user = make_user("reads-detector")
    with db_writes(app) as reads:
        with app.app_context():
            db.session.get(User, user.id)
    assert not reads, reads.describe()
    with db_writes(app) as writes:
        with app.app_context():
            db.session.get(User, user.id).name = "改过的名字"
            db.session.commit()
    assert any(s.lstrip().upper().startswith("UPDATE") for s in writes.statements)
    assert any("dirty User" in flush for flush in writes.flushes) and "session" in writes.commits


def test_the_walk_reports_a_page_that_writes(app, make_user, monkeypatch):
    """A GET whose view writes and commits is reported by the walk, with what it wrote."""
    from app.core.access import PUBLIC, allow
    user = make_user("reads-walker")

    @allow(PUBLIC)
    def writing_view():
        db.session.get(User, user.id).cohort = "写过了"
        db.session.commit()
        return "ok"

    monkeypatch.setitem(app.view_functions, "core.favicon", writing_view)
    found, shown = _walk(app, user, ["/favicon.ico", "/healthz"])
    assert shown == 2 and len(found) == 1 and found[0].startswith("/favicon.ico: UPDATE users"), found
    assert "commits: " in found[0]


def test_every_page_every_role_reads_without_writing(app, scene):
    """The data holds a stale call, a lapsed certificate and an exam attempt whose time ran out: states
    the first page that read them used to store (roleplays' ``expire_idle``, certification's
    ``refresh_expiry``, exams' ``close_if_expired`` on GETs). Each must be derived when read; the walk
    fails on the page that stores one, and the end checks that all three are still stored as they were."""
    people, pages = scene
    urls = _no_argument_pages(app) + pages
    report: list[str] = []
    shown: dict[str, int] = {}
    answered: set[str] = set()
    for name in ("anonymous", "trainee", "agent", "reads-caller", "reads-staller", "reads-lapsed", "trainer",
                 "hr", "admin"):
        found, shown[name] = _walk(app, people.get(name), urls, answered)
        report += [f"[{name}] {line}" for line in found]
    # Every curated page was really shown to someone (a page that moved would otherwise pass unseen).
    assert not [url for url in pages if url not in answered], [url for url in pages if url not in answered]
    # Each person really saw pages (not a wall of redirects to the login page).
    assert all(count >= 5 for name, count in shown.items() if name != "anonymous"), shown
    assert sum(shown.values()) >= 150, shown
    assert not report, f"{len(report)} GETs wrote:\n" + "\n".join(report)
    # The tempting states were there all along, and reading them stored nothing: the stale call is
    # still stored as live and the lapsed certificate as active (derived as abandoned/expired on read).
    from app.certification.models import ACTIVE, Certificate
    from app.exams.models import IN_PROGRESS, ExamAttempt
    from app.roleplays.models import LIVE_STATUSES, Attempt
    with app.app_context():
        staller = people["reads-staller"]
        assert db.session.scalar(select(Attempt.status).where(Attempt.user_id == staller.id)) in LIVE_STATUSES
        assert db.session.scalar(select(ExamAttempt.status).where(ExamAttempt.user_id == staller.id)) == IN_PROGRESS
        lapsed = db.session.scalar(select(Certificate).where(Certificate.user_id == people["reads-lapsed"].id))
        assert lapsed.status == ACTIVE and lapsed.expires_at < utcnow()


def test_marking_a_notice_read_is_a_post_and_reading_the_list_is_not(app, client, make_user):
    from app.notifications.services import notify
    user = make_user("reads-notices")
    with app.app_context():
        notice = notify(user.id, "call_reviewed", {"trainer": "王芳", "scenario": {"zh-CN": "退款"}})
        db.session.commit()
        notice_id = notice.id
    login_as(client, user)
    with db_writes(app) as writes:
        page = client.get("/notifications")
    assert page.status_code == 200 and not writes, writes.describe()
    token = csrf_token(client, "/notifications")
    with db_writes(app) as writes:
        client.post(f"/notifications/{notice_id}/read", data={"csrf_token": token})
    assert writes.commits  # the POST is where reading is recorded
