"""Issue 19, items 2 and 4 (exams): listen-and-type speed comes from the server's clock between
sending the recording and receiving the answer, bounded by the recording's length; impossible
speeds are refused and reported; exams submitted faster than a person answers are reported."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.certification.models import EvidenceFlag
from app.config import _listen_type_max_cpm
from app.exams import services
from app.exams.models import ExamAttempt
from app.extensions import db
from tests.support.web import csrf_token, login_as

from tests.support.exams import audio_sent, autosave, start_over_http

LISTEN_TEXT = "我家的宽带连不上网，麻烦尽快派人来看看。"  # 18 characters as graded


def listen_answer(app, attempt_id: int):
    with app.app_context():
        answer = db.session.get(ExamAttempt, attempt_id).answer_for("listen-1")
        db.session.expunge(answer)
        return answer


def flags(app, user_id: int) -> list[EvidenceFlag]:
    with app.app_context():
        found = list(db.session.scalars(select(EvidenceFlag).where(EvidenceFlag.user_id == user_id)))
        for flag in found:
            db.session.expunge(flag)
        return found


def test_fetching_the_audio_and_answering_in_the_same_second_is_refused_and_reported(app, client, exams, make_user):
    learner = make_user("forger")
    login_as(client, learner)
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    # The attack of the issue: fetch the audio without playing it, answer at once.
    assert client.get(f"/exams/attempts/{attempt_id}/audio/listen-1").status_code == 200
    refused = autosave(client, attempt_id, "listen-1", LISTEN_TEXT, token)
    assert refused.status_code == 422 and refused.json["error"] == "too_fast"
    assert "characters per minute" in refused.json["message"] or "每分钟" in refused.json["message"]
    assert listen_answer(app, attempt_id).response is None  # not recorded
    # Submitting it with the whole sheet is refused the same way, and nothing is graded.
    submitted = client.post(f"/exams/attempts/{attempt_id}/submit",
                            data={"csrf_token": token, "paper": "1", "q-listen-1": LISTEN_TEXT})
    assert submitted.status_code == 302 and submitted.headers["Location"].endswith(f"/exams/attempts/{attempt_id}")
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        assert attempt.is_open and attempt.answer_for("listen-1").response is None and attempt.answer_for("listen-1").cpm is None
    [flag] = flags(app, learner.id)  # reported once for HR and the trainer, however often it is tried
    assert flag.kind == "listen_type" and flag.subject == "test-all-types:listen-1" and flag.ref_id == attempt_id
    assert flag.seconds < 5 and flag.minimum_seconds == pytest.approx(18 * 60 / 400)


def test_an_answer_before_the_audio_was_ever_sent_is_refused(app, client, exams, make_user):
    login_as(client, make_user("psychic"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    refused = autosave(client, attempt_id, "listen-1", LISTEN_TEXT, token)
    assert refused.status_code == 422 and refused.json["error"] == "too_fast"
    assert listen_answer(app, attempt_id).response is None
    # Clearing the box is always allowed: an empty answer claims no speed.
    assert autosave(client, attempt_id, "listen-1", "", token).status_code == 200


def test_a_human_pace_is_recorded_from_the_servers_clock(app, client, exams, make_user):
    learner = make_user("typist")
    login_as(client, learner)
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    assert client.get(f"/exams/attempts/{attempt_id}/audio/listen-1").status_code == 200
    audio_sent(app, attempt_id, seconds_ago=30)  # the learner listened and typed for 30 seconds
    # Partial saves while typing are fine too.
    assert autosave(client, attempt_id, "listen-1", "我家的宽带", token).status_code == 200
    assert autosave(client, attempt_id, "listen-1", LISTEN_TEXT, token).status_code == 200
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token})
    answer = listen_answer(app, attempt_id)
    assert answer.response == LISTEN_TEXT and answer.accuracy == 1.0
    assert answer.cpm == pytest.approx(18 * 60 / 30, rel=0.05)
    assert flags(app, learner.id) == []


def test_typing_time_is_never_shorter_than_the_recording(app, client, exams, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LISTEN_TYPE_MAX_CPM", {"*": 1e9})  # let the save through
    login_as(client, make_user("quick"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    client.get(f"/exams/attempts/{attempt_id}/audio/listen-1")
    audio_sent(app, attempt_id, seconds_ago=0.5)
    assert autosave(client, attempt_id, "listen-1", LISTEN_TEXT, token).status_code == 200
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token})
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        entry = services.paper_entry(attempt, "listen-1")
        length = services.audio_seconds(entry)
        answer = attempt.answer_for("listen-1")
    assert length > 1.5  # the synthesized sentence plays for seconds
    assert answer.feedback["seconds"] == pytest.approx(length, abs=0.1)
    assert answer.cpm == pytest.approx(18 * 60 / length)


def test_the_speed_limit_is_configurable_per_language(monkeypatch):
    monkeypatch.delenv("LISTEN_TYPE_MAX_CPM", raising=False)
    assert _listen_type_max_cpm()["zh-CN"] == 400
    monkeypatch.setenv("LISTEN_TYPE_MAX_CPM", "300")
    assert set(_listen_type_max_cpm().values()) == {300}
    monkeypatch.setenv("LISTEN_TYPE_MAX_CPM", "zh-CN=250, en-US=700")
    limits = _listen_type_max_cpm()
    assert limits["zh-CN"] == 250 and limits["en-US"] == 700 and limits["ko-KR"] == 400
    monkeypatch.setenv("LISTEN_TYPE_MAX_CPM", "fast")
    with pytest.raises(RuntimeError, match="LISTEN_TYPE_MAX_CPM"):
        _listen_type_max_cpm()


def test_an_exam_submitted_faster_than_a_person_answers_is_reported(app, exams, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "EXAM_MIN_SECONDS_PER_QUESTION", 5)
    script, person = make_user("script"), make_user("person")
    with app.app_context():
        fast = services.start_attempt(script.id, "test-all-types")
        services.submit_attempt(fast, {"single-1": "a", "tf-1": False, "rewrite-1": "请问您怎么称呼"})
        slow = services.start_attempt(person.id, "test-all-types")
        slow.started_at -= timedelta(seconds=20)  # three answers in 20 s: humanly possible
        db.session.commit()
        services.submit_attempt(slow, {"single-1": "a", "tf-1": False, "rewrite-1": "请问您怎么称呼"})
        fast_id = fast.id
    [flag] = flags(app, script.id)
    assert flag.kind == "exam" and flag.subject == "test-all-types" and flag.ref_id == fast_id
    assert flag.minimum_seconds == 15 and flag.seconds < 15
    assert flags(app, person.id) == []
