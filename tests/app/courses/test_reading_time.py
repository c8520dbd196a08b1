"""Issue 19, item 4 (courses): a lesson is marked done only after a minimum reading time measured
on the server from when the lesson page was first sent; earlier tries are refused with a clear
message and reported for HR and the trainer."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.certification.models import EvidenceFlag
from app.courses.models import LessonProgress
from app.extensions import db
from tests.support.web import csrf_token, login_as

from tests.support.courses import get_lesson

BASICS = "call-centre-basics"
FIRST = "01-what-is-a-call-centre"  # estimated_minutes: 10
URL = f"/courses/{BASICS}/lessons/{FIRST}"


def progress(app, user_id: int) -> LessonProgress | None:
    with app.app_context():
        row = db.session.scalar(select(LessonProgress).where(
            LessonProgress.user_id == user_id, LessonProgress.lesson_id == get_lesson(BASICS, FIRST).id))
        if row is not None:
            db.session.expunge(row)
        return row


def opened_ago(app, user_id: int, seconds: float) -> None:
    with app.app_context():
        row = db.session.scalar(select(LessonProgress).where(
            LessonProgress.user_id == user_id, LessonProgress.lesson_id == get_lesson(BASICS, FIRST).id))
        row.first_visited_at -= timedelta(seconds=seconds)
        db.session.commit()


def test_marking_done_right_after_opening_is_refused_then_allowed_after_the_minimum(
        app, client, content, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LESSON_MIN_READ_SHARE", 0.3)  # 0.3 × 10 minutes = 180 s
    learner = make_user("skimmer")
    login_as(client, learner)
    token = csrf_token(client, URL)  # the page is served: the reading clock starts
    refused = client.post(f"{URL}/done", data={"csrf_token": token}, follow_redirects=True)
    page = refused.get_data(as_text=True)
    assert "180" in page and ("seconds to go" in page or "秒" in page)
    assert 'id="lesson-done"' not in page
    assert progress(app, learner.id).completed_at is None
    with app.app_context():
        [flag] = db.session.scalars(select(EvidenceFlag).where(EvidenceFlag.user_id == learner.id)).all()
        assert flag.kind == "lesson" and flag.subject == f"{BASICS}/{FIRST}" and flag.minimum_seconds == 180
        assert flag.seconds < 180

    opened_ago(app, learner.id, 120)  # still a minute short
    client.post(f"{URL}/done", data={"csrf_token": token})
    assert progress(app, learner.id).completed_at is None

    opened_ago(app, learner.id, 61)  # now 181 s since the page was first sent
    done = client.post(f"{URL}/done", data={"csrf_token": token}, follow_redirects=True)
    assert 'id="lesson-done"' in done.get_data(as_text=True)
    assert progress(app, learner.id).completed_at is not None
    with app.app_context():  # the repeated early tries were reported once
        assert db.session.scalar(select(db.func.count()).select_from(EvidenceFlag)) == 1


def test_marking_done_without_ever_opening_the_lesson_is_refused(app, client, content, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LESSON_MIN_READ_SHARE", 0.3)
    learner = make_user("script")
    login_as(client, learner)
    token = csrf_token(client, "/courses")
    client.post(f"{URL}/done", data={"csrf_token": token})
    row = progress(app, learner.id)
    assert row is None or row.completed_at is None


def test_a_share_of_zero_turns_the_minimum_off(app, client, content, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LESSON_MIN_READ_SHARE", 0)
    learner = make_user("fast-suite")
    login_as(client, learner)
    token = csrf_token(client, URL)
    client.post(f"{URL}/done", data={"csrf_token": token})
    assert progress(app, learner.id).completed_at is not None
