"""Attempts over HTTP: autosave, resume after a lost session, the server clock, double
submit, attempts and cooldown, draw rules, and other learners kept out."""
from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from app.core.clock import utcnow
from app.exams import services
from app.exams.models import CLOSED_EXPIRED, GRADED, IN_PROGRESS, ExamAttempt
from app.extensions import db
from tests.support.accounts import TEST_PASSWORD
from tests.support.web import csrf_token, login_as

from tests.support.exams import audio_sent, autosave, start_over_http


def load(app, attempt_id: int) -> ExamAttempt:
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        db.session.expunge(attempt)
        return attempt


def responses(app, attempt_id: int) -> dict:
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        return {answer.question_id: answer.response for answer in attempt.answers}


def move_clock_back(app, attempt_id: int, minutes: int) -> None:
    """Make the attempt look as if it started `minutes` earlier (deadline included)."""
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        attempt.started_at -= timedelta(minutes=minutes)
        attempt.deadline -= timedelta(minutes=minutes)
        db.session.commit()


def test_autosave_keeps_answers_and_the_page_shows_them_in_the_same_order(app, client, exams, make_user):
    learner = make_user("li-lei")
    login_as(client, learner)
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    assert autosave(client, attempt_id, "single-1", "a", token).json["saved"] is True
    assert autosave(client, attempt_id, "multi-prop", ["c", "a"], token).status_code == 200
    assert autosave(client, attempt_id, "order-1", ["s1", "s2", "s4", "s3"], token).status_code == 200
    reply = autosave(client, attempt_id, "rewrite-1", "请问您怎么称呼", token)
    assert reply.json["unanswered"] == 4 and 0 < reply.json["seconds_left"] <= 600
    # JSON autosave needs the CSRF header like any other write.
    refused = client.put(f"/exams/attempts/{attempt_id}/answers/tf-1", json={"response": True})
    assert refused.status_code == 400
    # The learner sends only the text; timing fields are ignored.
    audio_sent(app, attempt_id)
    autosave(client, attempt_id, "listen-1", "我家", token)
    client.put(f"/exams/attempts/{attempt_id}/answers/listen-1",
               json={"response": "我家的宽带", "seconds": 1, "cpm": 999}, headers={"X-CSRFToken": token})

    saved = responses(app, attempt_id)
    assert saved["single-1"] == "a" and saved["order-1"] == ["s1", "s2", "s4", "s3"]
    assert sorted(saved["multi-prop"]) == ["a", "c"] and saved["tf-1"] is None
    assert saved["listen-1"] == "我家的宽带"

    attempt = load(app, attempt_id)
    first = client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    second = client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    shown = re.findall(r'data-question="([^"]+)" data-type', first)
    assert shown == [entry["id"] for entry in attempt.paper] == re.findall(r'data-question="([^"]+)" data-type', second)
    single = services_entry(attempt, "single-1")
    assert re.findall(r'name="q-single-1" value="(\w+)"', first) == single["display"]
    assert re.search(r'name="q-single-1" value="a"\s+checked', first)
    assert re.findall(r'name="q-order-1" value="(\w+)"', first) == ["s1", "s2", "s4", "s3"]
    assert "请问您怎么称呼</textarea>" in first


def services_entry(attempt, question_id):
    return next(entry for entry in attempt.paper if entry["id"] == question_id)


def test_resume_after_a_lost_session(app, exams, make_user):
    make_user("zhang-san")
    first = app.test_client()
    first.post("/login", data={"username": "zhang-san", "password": TEST_PASSWORD,
                               "csrf_token": csrf_token(first)})
    attempt_id = start_over_http(first, "test-all-types")
    token = csrf_token(first, f"/exams/attempts/{attempt_id}")
    autosave(first, attempt_id, "single-1", "c", token)
    autosave(first, attempt_id, "rewrite-1", "请问您贵姓", token)

    # The session idles out mid-exam: the next autosave is told to log in again (401), nothing is lost.
    with first.session_transaction() as session:
        session["seen"] = time.time() - 3 * 3600
    lost = autosave(first, attempt_id, "tf-1", True, token)
    assert lost.status_code == 401 and lost.is_json

    # Another browser: the attempt page sends them to log in and back again.
    second = app.test_client()
    bounced = second.get(f"/exams/attempts/{attempt_id}")
    assert bounced.status_code == 302 and "/login?next=" in bounced.headers["Location"]
    login_page = bounced.headers["Location"]
    back = second.post(login_page, data={"username": "zhang-san", "password": TEST_PASSWORD,
                                         "csrf_token": csrf_token(second, login_page)})
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/exams/attempts/{attempt_id}")
    page = second.get(back.headers["Location"]).get_data(as_text=True)
    assert re.search(r'name="q-single-1" value="c"\s+checked', page)
    assert "请问您贵姓</textarea>" in page
    assert responses(app, attempt_id)["tf-1"] is None
    start_page = second.get("/exams/test-all-types").get_data(as_text=True)
    assert f'href="/exams/attempts/{attempt_id}"' in start_page and 'id="continue-attempt"' in start_page
    assert start_over_http(second, "test-all-types") == attempt_id  # "start" continues the same attempt
    # Submitting from a page whose session ended lands on the login page; ?next= then leads back.
    assert second.get(f"/exams/attempts/{attempt_id}/submit").headers["Location"].endswith(
        f"/exams/attempts/{attempt_id}")


def test_refused_saves_answer_with_the_codes_the_exam_page_reads(app, client, exams, make_user):
    """The exam page's script tells its own 400 ("invalid") from a lost session's and shows the
    message of any other refusal; the core handler answers them (app/core/errors.py)."""
    login_as(client, make_user("refused-saves"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    invalid = autosave(client, attempt_id, "single-1", "zz", token)
    assert invalid.status_code == 400 and invalid.json == {"error": "invalid", "message": "这个答案与题目不符。"}
    missing = autosave(client, attempt_id, "no-such-question", "a", token)
    assert missing.status_code == 404
    assert missing.json == {"error": "attempt_not_found", "message": "本次作答中没有这道题。"}
    assert responses(app, attempt_id)["single-1"] is None
    # Without JavaScript, a sheet that does not fit gets the error page saying why.
    page = client.post(f"/exams/attempts/{attempt_id}/save", data={"csrf_token": token, "q-single-1": "zz"})
    assert page.status_code == 400 and "这个答案与题目不符。" in page.get_data(as_text=True)
    assert responses(app, attempt_id)["single-1"] is None


def test_double_submit_counts_once(app, client, exams, make_user, graded_signals):
    learner = make_user("double")
    login_as(client, learner)
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    autosave(client, attempt_id, "single-1", "a", token)
    results = [client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token}) for _ in range(2)]
    assert [r.headers["Location"] for r in results] == [f"/exams/attempts/{attempt_id}/result"] * 2
    first = load(app, attempt_id)
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token})
    again = load(app, attempt_id)
    assert first.status == GRADED and (first.score, first.graded_at) == (again.score, again.graded_at)
    assert len(graded_signals) == 1
    sender, details = graded_signals[0]
    assert sender == learner.id
    assert details == {"attempt_id": attempt_id, "exam_slug": "test-all-types", "passed": first.passed,
                       "score": first.score}
    # After submitting, answers can no longer change.
    late = autosave(client, attempt_id, "single-1", "b", token)
    assert late.status_code == 409 and late.json["error"] == "closed"
    assert responses(app, attempt_id)["single-1"] == "a"
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        assert services.submit_attempt(attempt).graded_at == first.graded_at
    assert len(graded_signals) == 1


def test_simultaneous_submits_grade_once(app, exams, make_user, graded_signals):
    learner = make_user("racer")
    clients = [app.test_client() for _ in range(4)]
    for racing in clients:
        login_as(racing, learner)
    attempt_id = start_over_http(clients[0], "test-all-types")
    tokens = [csrf_token(racing, f"/exams/attempts/{attempt_id}") for racing in clients]
    together = threading.Barrier(len(clients))
    statuses = []

    def submit(racing, token):
        together.wait()
        statuses.append(racing.post(f"/exams/attempts/{attempt_id}/submit",
                                    data={"csrf_token": token, "paper": "1", "confirmed": "1",
                                          "q-single-1": "a"}).status_code)

    threads = [threading.Thread(target=submit, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 4
    assert len(graded_signals) == 1 and load(app, attempt_id).status == GRADED


def test_submit_without_javascript_saves_the_whole_sheet(app, client, exams, make_user):
    login_as(client, make_user("no-js"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    autosave(client, attempt_id, "tf-1", False, token)
    # The move buttons post the sheet and move one item.
    attempt = load(app, attempt_id)
    shown = services_entry(attempt, "order-aon")["display"]
    moved = client.post(f"/exams/attempts/{attempt_id}/save",
                        data={"csrf_token": token, "paper": "1", "q-tf-1": "false", "q-order-aon": shown,
                              "move": f"order-aon:{shown[1]}:up"})
    assert moved.headers["Location"].endswith("#q-order-aon")
    assert responses(app, attempt_id)["order-aon"] == [shown[1], shown[0], shown[2]]
    # An ordering list counts once the page marks it touched (the first move sets touched-q-<id>).
    form = {"csrf_token": token, "paper": "1", "q-single-1": "a", "q-multi-prop": ["a", "b", "c"],
            "q-multi-aon": ["a", "b"], "q-tf-1": "false", "q-order-1": ["s1", "s2", "s3", "s4"],
            "touched-q-order-1": "1", "q-order-aon": ["x1", "x2", "x3"], "touched-q-order-aon": "1",
            "q-rewrite-1": "请问您怎么称呼", "q-listen-1": ""}
    # One question is unanswered: the sheet is saved and the summary asks first.
    first = client.post(f"/exams/attempts/{attempt_id}/submit", data=form)
    assert first.headers["Location"].endswith(f"/exams/attempts/{attempt_id}/summary")
    assert load(app, attempt_id).status == IN_PROGRESS
    assert responses(app, attempt_id)["order-1"] == ["s1", "s2", "s3", "s4"]
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token, "confirmed": "1"})
    graded = load(app, attempt_id)
    assert graded.status == GRADED and graded.earned == 10  # all but the empty listen question (2 points)


def test_time_limit_is_kept_on_the_server(app, client, exams, make_user, graded_signals):
    learner = make_user("slow")
    login_as(client, learner)
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    assert autosave(client, attempt_id, "single-1", "a", token).status_code == 200
    move_clock_back(app, attempt_id, 11)  # the limit is 10 minutes

    late = autosave(client, attempt_id, "tf-1", False, token)
    assert late.status_code == 409 and late.json["error"] == "time_up"
    assert "限时" in late.json["message"] and late.json["result_url"].endswith(f"/{attempt_id}/result")
    attempt = load(app, attempt_id)
    assert attempt.status == GRADED and attempt.closed_reason == CLOSED_EXPIRED
    assert responses(app, attempt_id)["tf-1"] is None
    assert responses(app, attempt_id)["single-1"] == "a" and attempt.earned >= 1
    assert len(graded_signals) == 1
    # Later visits show the result, saying why it was closed.
    page = client.get(f"/exams/attempts/{attempt_id}")
    assert page.headers["Location"].endswith(f"/exams/attempts/{attempt_id}/result")
    result = client.get(page.headers["Location"]).get_data(as_text=True)
    assert 'id="closed-by-time"' in result
    # A late form submit grades nothing twice and saves nothing.
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token, "paper": "1", "q-tf-1": "false"})
    assert responses(app, attempt_id)["tf-1"] is None and len(graded_signals) == 1


def test_an_expired_attempt_is_graded_with_what_was_saved_by_a_post_never_by_a_visit(
        app, client, exams, make_user, graded_signals):
    login_as(client, make_user("away"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    autosave(client, attempt_id, "multi-aon", ["a", "b"], token)
    move_clock_back(app, attempt_id, 30)
    # Visiting reads: the paper sends the learner to the result page, which grades nothing itself.
    response = client.get(f"/exams/attempts/{attempt_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/exams/attempts/{attempt_id}/result")
    page = client.get(f"/exams/attempts/{attempt_id}/result").get_data(as_text=True)
    assert 'id="time-is-up"' in page and 'id="grade-expired"' in page
    assert 'id="continue-attempt"' not in client.get("/exams/test-all-types").get_data(as_text=True)
    assert load(app, attempt_id).status != GRADED and graded_signals == []
    # "See my result" (a POST) grades it, with what was saved before the time ran out.
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token, "confirmed": "1"})
    attempt = load(app, attempt_id)
    assert attempt.status == GRADED and attempt.closed_reason == CLOSED_EXPIRED and attempt.earned >= 1
    assert len(graded_signals) == 1
    assert 'id="closed-by-time"' in client.get(f"/exams/attempts/{attempt_id}/result").get_data(as_text=True)


def test_close_expired_command(app, exams, make_user, graded_signals):
    gone, here = make_user("gone"), make_user("here")
    with app.app_context():
        expired = services.start_attempt(gone.id, "test-all-types")
        services.save_answer(expired, "tf-1", False)
        expired_id = expired.id
        running_id = services.start_attempt(here.id, "test-all-types").id
    move_clock_back(app, expired_id, 15)
    output = app.test_cli_runner().invoke(args=["exams", "close-expired"]).output
    assert "closed 1 expired attempt(s)" in output
    with app.app_context():
        closed = db.session.get(ExamAttempt, expired_id)
        assert closed.status == GRADED and closed.closed_reason == CLOSED_EXPIRED
        assert closed.answer_for("tf-1").fraction == 1.0 and closed.answer_for("single-1").fraction == 0.0
    assert load(app, running_id).status == IN_PROGRESS
    assert [sender for sender, _ in graded_signals] == [gone.id]
    assert "closed 0 expired attempt(s)" in app.test_cli_runner().invoke(args=["exams", "close-expired"]).output


def audio_sent_at(app, attempt_id: int, question_id: str = "listen-1"):
    with app.app_context():
        return db.session.get(ExamAttempt, attempt_id).answer_for(question_id).audio_served_at


def test_listen_clock_starts_when_the_server_sends_the_audio(app, client, exams, make_user):
    login_as(client, make_user("typist"))
    attempt_id = start_over_http(client, "test-all-types")
    page = client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    # The page plays the recording from the attempt's own URL, not a shared cache.
    assert f'src="/exams/attempts/{attempt_id}/audio/listen-1"' in page
    first = client.get(f"/exams/attempts/{attempt_id}/audio/listen-1")
    assert first.status_code == 200 and first.mimetype == "audio/wav" and "no-store" in first.headers["Cache-Control"]
    sent = audio_sent_at(app, attempt_id)
    assert sent is not None
    # Replays and Range requests do not restart the clock; other questions have no audio.
    assert client.get(f"/exams/attempts/{attempt_id}/audio/listen-1", headers={"Range": "bytes=0-99"}).status_code == 206
    assert audio_sent_at(app, attempt_id) == sent
    assert client.get(f"/exams/attempts/{attempt_id}/audio/single-1").status_code == 404
    # The old "play pressed" call from the browser is gone: nothing the client says starts the clock.
    assert client.post(f"/exams/attempts/{attempt_id}/listen/listen-1",
                       headers={"X-CSRFToken": token}).status_code in (404, 405)
    audio_sent(app, attempt_id, seconds_ago=36)
    assert autosave(client, attempt_id, "listen-1", "我家的宽带连不上网，麻烦尽快派人来看看。", token).status_code == 200
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token})
    with app.app_context():
        answer = db.session.get(ExamAttempt, attempt_id).answer_for("listen-1")
        assert answer.accuracy == 1.0 and answer.cpm == pytest.approx(30.0, abs=1.0)


def test_attempts_allowed_and_cooldown(app, client, exams, make_user):
    learner = make_user("retry")
    login_as(client, learner)
    first = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{first}")
    client.post(f"/exams/attempts/{first}/submit", data={"csrf_token": token})

    refused = client.post("/exams/test-all-types", data={"csrf_token": token})
    assert refused.headers["Location"].endswith("/exams/test-all-types")
    page = client.get("/exams/test-all-types").get_data(as_text=True)
    assert 'id="cooldown"' in page and 'id="start-attempt"' not in page
    with app.app_context():
        with pytest.raises(services.ExamUnavailable, match="30 minutes"):
            services.start_attempt(learner.id, "test-all-types")

    def end_cooldown(attempt_id):
        with app.app_context():
            attempt = db.session.get(ExamAttempt, attempt_id)
            attempt.closed_at -= timedelta(minutes=31)
            db.session.commit()

    end_cooldown(first)
    second = start_over_http(client, "test-all-types")
    assert second != first and load(app, second).number == 2
    client.post(f"/exams/attempts/{second}/submit", data={"csrf_token": token})
    end_cooldown(second)
    page = client.get("/exams/test-all-types").get_data(as_text=True)
    assert 'id="no-attempts"' in page
    with app.app_context():
        with pytest.raises(services.ExamUnavailable, match="all 2 attempts"):
            services.start_attempt(learner.id, "test-all-types")
        assert db.session.query(ExamAttempt).filter_by(user_id=learner.id).count() == 2


def test_draw_rules_are_respected(app, exams, make_user):
    learner = make_user("drawer")
    tags = {"a": "alpha", "b": "beta", "c": "gamma"}
    seen = Counter()
    with app.app_context():
        for seed in range(40):
            attempt = services.start_attempt(learner.id, "test-draw-rules", rng=random.Random(seed))
            drawn = [entry["id"] for entry in attempt.paper]
            per_tag = Counter(tags[qid[0]] for qid in drawn)
            assert len(drawn) == len(set(drawn)) == 5
            assert per_tag["alpha"] >= 2 and per_tag["beta"] >= 1
            assert drawn == sorted(drawn)  # shuffle_questions: false keeps authored order
            seen.update(drawn)
            services.submit_attempt(attempt)
    assert set(seen) == {"a1", "a2", "a3", "b1", "b2", "c1", "c2", "c3"}


def test_shuffles_differ_between_attempts_but_cover_the_same_questions(app, exams, make_user):
    orders = set()
    with app.app_context():
        for index in range(6):
            user = make_user(f"shuffle-{index}")
            attempt = services.start_attempt(user.id, "test-all-types", rng=random.Random(index))
            orders.add(tuple(entry["id"] for entry in attempt.paper))
            assert sorted(entry["id"] for entry in attempt.paper) == sorted(
                ["single-1", "multi-prop", "multi-aon", "tf-1", "order-1", "order-aon", "rewrite-1", "listen-1"])
    assert len(orders) > 1


def test_another_learner_can_neither_read_nor_write_an_attempt(app, exams, make_user):
    owner_client, intruder_client, trainer_client = app.test_client(), app.test_client(), app.test_client()
    owner = make_user("owner")
    login_as(owner_client, owner)
    login_as(intruder_client, make_user("intruder"))
    login_as(trainer_client, make_user("coach", "trainer"))
    attempt_id = start_over_http(owner_client, "test-all-types")
    token = csrf_token(intruder_client, "/exams")
    base = f"/exams/attempts/{attempt_id}"
    assert intruder_client.get(base).status_code == 404
    assert intruder_client.get(f"{base}/result").status_code == 404
    assert autosave(intruder_client, attempt_id, "single-1", "a", token).status_code == 404
    assert intruder_client.get(f"{base}/audio/listen-1").status_code == 404
    assert intruder_client.post(f"{base}/save", data={"csrf_token": token, "paper": "1"}).status_code == 404
    assert intruder_client.post(f"{base}/submit", data={"csrf_token": token}).status_code == 404
    attempt = load(app, attempt_id)
    assert attempt.status == IN_PROGRESS and all(r is None for r in responses(app, attempt_id).values())
    # Trainers review results (read only).
    owner_token = csrf_token(owner_client, base)
    owner_client.post(f"{base}/submit", data={"csrf_token": owner_token})
    review = trainer_client.get(f"{base}/result")
    assert review.status_code == 200 and "owner" in review.get_data(as_text=True)
    # Trainers take exams only as practice, their own attempts: someone else's answer sheet is not found.
    assert trainer_client.get(base).status_code == 404


def test_best_and_passed_attempts(app, exams, make_user):
    learner = make_user("best")
    with app.app_context():
        scores = []
        for answer in (True, False, False, True):  # tf answer is "true" in the draw exam
            attempt = services.start_attempt(learner.id, "test-draw-rules", rng=random.Random(1))
            services.save_answers(attempt, {entry["id"]: answer for entry in attempt.paper})
            services.submit_attempt(attempt)
            scores.append((attempt.id, attempt.score, attempt.passed))
        best = services.best_attempt(learner.id, "test-draw-rules")
        assert best.id == scores[0][0] and best.score == 100.0  # the earliest of the two best
        assert [a.id for a in services.passed_attempts(learner.id, "test-draw-rules")] == [scores[0][0], scores[3][0]]
        assert services.best_attempt(learner.id, "test-all-types") is None
        assert services.passed_attempts(learner.id + 1, "test-draw-rules") == []


def test_a_submit_after_the_time_limit_grades_only_what_was_saved_in_time(app, client, exams, make_user,
                                                                          graded_signals):
    login_as(client, make_user("too-late"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    autosave(client, attempt_id, "single-1", "a", token)
    move_clock_back(app, attempt_id, 12)
    response = client.post(f"/exams/attempts/{attempt_id}/submit",
                           data={"csrf_token": token, "paper": "1", "q-single-1": "b", "q-tf-1": "false"})
    assert response.headers["Location"].endswith(f"/exams/attempts/{attempt_id}/result")
    attempt = load(app, attempt_id)
    assert attempt.status == GRADED and attempt.closed_reason == CLOSED_EXPIRED
    assert responses(app, attempt_id)["single-1"] == "a" and responses(app, attempt_id)["tf-1"] is None
    assert len(graded_signals) == 1


def test_a_timed_out_attempt_starts_its_cooldown_at_the_deadline_graded_or_not(app, client, exams, make_user):
    # Pages no longer grade an attempt whose time ran out; the page must still not offer a start the
    # POST would refuse, and grading it later must not restart the cooldown from "now".
    login_as(client, make_user("late"))
    first = start_over_http(client, "test-all-types")
    with app.app_context():
        attempt = db.session.get(ExamAttempt, first)
        limit_minutes = int((attempt.deadline - attempt.started_at).total_seconds() // 60)
    move_clock_back(app, first, limit_minutes + 10)  # ran out 10 minutes ago: 20 of 30 minutes' cooldown left
    page = client.get("/exams/test-all-types").get_data(as_text=True)
    assert 'id="cooldown"' in page and 'id="start-attempt"' not in page
    assert load(app, first).status == IN_PROGRESS  # said without grading it
    move_clock_back(app, first, 30)  # ran out 40 minutes ago: the cooldown is over
    page = client.get("/exams/test-all-types").get_data(as_text=True)
    assert 'id="start-attempt"' in page and 'id="cooldown"' not in page
    second = start_over_http(client, "test-all-types")  # the POST grades the old one and opens a new one
    closed = load(app, first)
    assert second != first and closed.status == GRADED and closed.closed_reason == CLOSED_EXPIRED
    assert closed.closed_at == closed.deadline
