"""Before submitting: the summary page (answered / unanswered / flagged, links back), the "flag for
review" mark saved with the answer, and an ordering question nobody touched counting as unanswered."""
from __future__ import annotations

from app.exams import services
from app.exams.models import GRADED, IN_PROGRESS, ExamAttempt
from app.extensions import db
from tests.support.web import csrf_token, login_as

from tests.support.exams import autosave, start_over_http


def load(app, attempt_id: int) -> ExamAttempt:
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        for answer in attempt.answers:  # loaded before the attempt leaves the session
            db.session.expunge(answer)
        db.session.expunge(attempt)
        return attempt


def flag(client, attempt_id: int, question_id: str, value, token: str):
    return client.put(f"/exams/attempts/{attempt_id}/answers/{question_id}", json={"flagged": value},
                      headers={"X-CSRFToken": token})


def test_flag_is_saved_with_the_answer_and_shown(app, client, exams, make_user):
    login_as(client, make_user("flagger"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    assert autosave(client, attempt_id, "single-1", "a", token).status_code == 200
    reply = flag(client, attempt_id, "single-1", True, token)
    assert reply.status_code == 200 and reply.json["flagged"] is True and reply.json["answered"] is True
    attempt = load(app, attempt_id)
    answer = attempt.answer_for("single-1")
    assert answer.flagged is True and answer.response == "a"  # a flag leaves the answer alone
    assert flag(client, attempt_id, "single-1", "yes", token).status_code == 400  # only true or false
    page = client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    assert 'name="flag-q-single-1" value="1" class="flag-input"\n           checked' in page
    assert 'class="nav-q answered flagged"\n             data-nav="single-1"' in page
    assert flag(client, attempt_id, "single-1", False, token).json["flagged"] is False
    assert load(app, attempt_id).answer_for("single-1").flagged is False
    # The answer sheet posts the boxes too (no JavaScript): ticked is flagged, missing is not.
    client.post(f"/exams/attempts/{attempt_id}/save",
                data={"csrf_token": token, "paper": "1", "q-single-1": "a", "flag-q-tf-1": "1"})
    saved = load(app, attempt_id)
    assert saved.answer_for("tf-1").flagged is True and saved.answer_for("single-1").flagged is False


def test_submitting_with_unanswered_questions_shows_the_summary_first(app, client, exams, make_user):
    login_as(client, make_user("summariser"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    autosave(client, attempt_id, "single-1", "a", token)
    response = client.post(f"/exams/attempts/{attempt_id}/submit",
                           data={"csrf_token": token, "paper": "1", "q-single-1": "a", "q-tf-1": "false",
                                 "flag-q-tf-1": "1"})
    assert response.headers["Location"].endswith(f"/exams/attempts/{attempt_id}/summary")
    attempt = load(app, attempt_id)
    assert attempt.status == IN_PROGRESS and attempt.answer_for("tf-1").response is False
    assert attempt.answer_for("tf-1").flagged is True

    page = client.get(f"/exams/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert 'id="summary-unanswered" data-count="6"' in page  # 8 questions, 2 answered
    assert 'id="summary-flagged" data-count="1"' in page
    assert 'data-question="tf-1" class="answered flagged"' in page
    assert 'data-question="order-1" class="unanswered"' in page
    for entry in attempt.paper:
        assert f'href="/exams/attempts/{attempt_id}#q-{entry["id"]}"' in page
    with app.app_context():  # the summary page only reads
        assert db.session.get(ExamAttempt, attempt_id).last_saved_at == attempt.last_saved_at

    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token, "confirmed": "1"})
    graded = load(app, attempt_id)
    assert graded.status == GRADED and graded.answer_for("single-1").fraction == 1.0
    # Once submitted, the summary sends the learner on to the result.
    after = client.get(f"/exams/attempts/{attempt_id}/summary")
    assert after.status_code == 302


def test_a_fully_answered_sheet_submits_at_once(app, client, exams, make_user):
    login_as(client, make_user("complete"))
    attempt_id = start_over_http(client, "test-draw-rules")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    form = {"csrf_token": token, "paper": "1"}
    form.update({f"q-{entry['id']}": "true" for entry in load(app, attempt_id).paper})
    response = client.post(f"/exams/attempts/{attempt_id}/submit", data=form)
    assert response.headers["Location"].endswith(f"/exams/attempts/{attempt_id}/result")
    assert load(app, attempt_id).status == GRADED


def test_an_untouched_ordering_question_is_unanswered_and_scores_zero(app, client, exams, make_user):
    login_as(client, make_user("orderer"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    shown = {entry["id"]: entry["display"] for entry in load(app, attempt_id).paper if entry["type"] == "ordering"}
    # The sheet carries every list as shown; only the one the page marked touched is an answer.
    client.post(f"/exams/attempts/{attempt_id}/save",
                data={"csrf_token": token, "paper": "1", "q-order-1": shown["order-1"],
                      "q-order-aon": ["x1", "x2", "x3"], "touched-q-order-aon": "1"})
    attempt = load(app, attempt_id)
    assert attempt.answer_for("order-1").response is None
    assert attempt.answer_for("order-aon").response == ["x1", "x2", "x3"]
    page = client.get(f"/exams/attempts/{attempt_id}").get_data(as_text=True)
    assert 'name="touched-q-order-1" class="ordering-touched" value=""' in page
    assert 'name="touched-q-order-aon" class="ordering-touched" value="1"' in page
    with app.app_context():
        attempt = db.session.get(ExamAttempt, attempt_id)
        rows = {row.entry["id"]: row for row in services.attempt_summary(attempt)}
        assert not rows["order-1"].answered and rows["order-aon"].answered
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token, "confirmed": "1"})
    graded = load(app, attempt_id)
    untouched = graded.answer_for("order-1")
    # The shuffled start keeps some pairs in order, which used to earn partial credit.
    assert untouched.fraction == 0.0 and untouched.points_awarded == 0.0
    assert untouched.feedback == {"untouched": True}
    assert graded.answer_for("order-aon").fraction == 1.0
    result = client.get(f"/exams/attempts/{attempt_id}/result").get_data(as_text=True)
    assert 'class="muted ordering-untouched"' in result


def test_the_result_shows_listen_and_type_differences(app, client, exams, make_user):
    from tests.support.exams import audio_sent
    login_as(client, make_user("listener"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    audio_sent(app, attempt_id)
    said = next(entry for entry in load(app, attempt_id).paper if entry["id"] == "listen-1")["text"]
    typed = said.replace("不", "")
    assert typed != said
    assert autosave(client, attempt_id, "listen-1", typed, token).status_code == 200
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token, "confirmed": "1"})
    answer = load(app, attempt_id).answer_for("listen-1")
    assert answer.feedback["errors"] == 1 and answer.feedback["critical_errors"] == 1
    page = client.get(f"/exams/attempts/{attempt_id}/result").get_data(as_text=True)
    assert 'data-errors="1" data-critical="1"' in page
    assert 'class="diff-part diff-missing diff-critical"' in page
    assert '<ins lang="zh-CN">不</ins>' in page  # this exam shows answers: the missing character is named
