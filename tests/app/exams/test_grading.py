"""Every question type graded through the service layer, with the edge cases."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.clock import utcnow
from app.exams import paper, services
from app.extensions import db
from grading.scoring import is_passed, percent

LISTEN_TEXT = "我家的宽带连不上网，麻烦尽快派人来看看。"  # 18 characters once punctuation is folded away
ALL_RIGHT = {
    "single-1": "a", "multi-prop": ["a", "b", "c"], "multi-aon": ["a", "b"], "tf-1": False,
    "order-1": ["s1", "s2", "s3", "s4"], "order-aon": ["x1", "x2", "x3"],
    "rewrite-1": "请问您怎么称呼？", "listen-1": LISTEN_TEXT,
}


def heard_long_ago(attempt) -> None:
    """Pretend the recording was sent an hour ago, so saving the listen answer is humanly possible."""
    attempt.answer_for("listen-1").audio_served_at = utcnow() - timedelta(hours=1)
    db.session.commit()


def typed_for(attempt, seconds: float) -> None:
    """Pretend the recording was sent `seconds` before the listen answer was last changed."""
    answer = attempt.answer_for("listen-1")
    answer.audio_served_at = answer.answered_at - timedelta(seconds=seconds)
    db.session.commit()


def fractions(attempt) -> dict[str, float]:
    return {answer.question_id: answer.fraction for answer in attempt.answers}


def test_all_right_answers_score_full_marks(app, exams, make_user):
    user = make_user("li-na")
    with app.app_context():
        attempt = services.start_attempt(user.id, "test-all-types")
        heard_long_ago(attempt)
        services.save_answers(attempt, ALL_RIGHT)
        typed_for(attempt, 20)
        services.submit_attempt(attempt)
        assert fractions(attempt) == dict.fromkeys(ALL_RIGHT, 1.0)
        assert attempt.earned == attempt.possible == 12
        assert attempt.score == 100.0 and attempt.passed is True
        listen = attempt.answer_for("listen-1")
        assert listen.accuracy == 1.0 and listen.cpm == pytest.approx(18 * 60 / 20)


def test_partial_credit_and_wrong_answers(app, exams, make_user):
    user = make_user("wang-wei")
    with app.app_context():
        attempt = services.start_attempt(user.id, "test-all-types")
        heard_long_ago(attempt)
        services.save_answers(attempt, {
            "single-1": "b",
            "multi-prop": ["a", "b", "d"],         # 2 right − 1 wrong, of 3 correct
            "multi-aon": ["a"],                    # not the exact set
            "tf-1": True,
            "order-1": ["s2", "s1", "s3", "s4"],   # 2 of 3 adjacent pairs still in order
            "order-aon": ["x1", "x3", "x2"],
            "rewrite-1": "你的名字叫什么？请问您怎么称呼",  # 3 of 3 intent points, −2 forbidden
            "listen-1": "我家的宽带连不上网，麻烦尽快派人来看看了。",  # one extra character
        })
        typed_for(attempt, 120)  # slow: 9.5 cpm
        services.submit_attempt(attempt)
        got = fractions(attempt)
        assert got["single-1"] == 0 and got["tf-1"] == 0 and got["multi-aon"] == 0 and got["order-aon"] == 0
        assert got["multi-prop"] == pytest.approx(1 / 3)
        assert got["order-1"] == pytest.approx(2 / 3)
        assert got["rewrite-1"] == pytest.approx(1 / 3)
        listen = attempt.answer_for("listen-1")
        # 18 characters, the negation 不 weighing 5: one ordinary extra character costs 1 of 22.
        assert listen.accuracy == pytest.approx(21 / 22) and listen.cpm < 50
        assert got["listen-1"] == pytest.approx(21 / 22)  # accurate enough, too slow: points × accuracy
        earned = 1 / 3 + 3 * 2 / 3 + 2 * 1 / 3 + 2 * 21 / 22
        assert attempt.earned == pytest.approx(earned)
        assert attempt.score == percent(earned, 12)
        assert attempt.passed is is_passed(attempt.score, 60) is False


def test_multiple_wrong_picks_never_go_below_zero(app, exams, make_user):
    user = make_user("zhao")
    with app.app_context():
        attempt = services.start_attempt(user.id, "test-all-types")
        services.save_answers(attempt, {"multi-prop": ["a", "d", "e"]})
        services.submit_attempt(attempt)
        assert attempt.answer_for("multi-prop").fraction == 0.0


def test_empty_answers_and_an_untouched_ordering_score_nothing(app, exams, make_user):
    user = make_user("empty")
    with app.app_context():
        attempt = services.start_attempt(user.id, "test-all-types")
        services.save_answers(attempt, {"rewrite-1": "   ", "listen-1": "", "multi-prop": [], "single-1": ""})
        services.submit_attempt(attempt)
        got = fractions(attempt)
        for question in ("single-1", "multi-prop", "multi-aon", "tf-1", "rewrite-1", "listen-1", "order-aon"):
            assert got[question] == 0, question
        entry = services.paper_entry(attempt, "order-1")
        # Never shown already in the right order; the shuffled start keeps some pairs in order, but an
        # order nobody touched is no answer: it scores 0, not the pairs it happened to start with.
        assert entry["display"] != ["s1", "s2", "s3", "s4"]
        assert got["order-1"] == 0
        assert attempt.answer_for("single-1").response is None


def test_chinese_answers_tolerate_full_width_punctuation_and_spaces(app, exams, make_user):
    user = make_user("chen")
    with app.app_context():
        attempt = services.start_attempt(user.id, "test-all-types")
        heard_long_ago(attempt)
        services.save_answers(attempt, {
            "rewrite-1": "请问 您 怎么 称呼 ？",
            "listen-1": "我家的宽带 连不上网,麻烦尽快派人来看看. ",
        })
        typed_for(attempt, 15)
        services.submit_attempt(attempt)
        rewrite = attempt.answer_for("rewrite-1")
        assert rewrite.fraction == 1.0
        reasons = {item["item_id"]: item for item in rewrite.feedback["items"]}
        assert reasons["ask-politely"]["matched"] and reasons["ask-politely"]["evidence"] == ["请问 您 怎么 称呼"]
        assert not reasons["habitual"]["matched"]
        listen = attempt.answer_for("listen-1")
        assert listen.accuracy == 1.0 and listen.cpm == pytest.approx(18 * 60 / 15) and listen.fraction == 1.0


def test_phrase_rewrite_reasons_name_the_forbidden_words(app, exams, make_user):
    user = make_user("sun")
    with app.app_context():
        attempt = services.start_attempt(user.id, "test-all-types")
        services.save_answers(attempt, {"rewrite-1": "你的名字叫什么？"})
        services.submit_attempt(attempt)
        items = {item["item_id"]: item for item in attempt.answer_for("rewrite-1").feedback["items"]}
        assert items["habitual"]["matched"] and items["habitual"]["evidence"] == ["你的名字叫什么"]
        assert items["habitual"]["points_awarded"] == -2
        assert attempt.answer_for("rewrite-1").fraction == 0


def test_a_rewrite_is_checked_against_the_whole_forbidden_catalogue(app, exams, make_user):
    """Hiding behind policy is not in this question's rubric, but it is forbidden on every reply."""
    user = make_user("qian")
    with app.app_context():
        attempt = services.start_attempt(user.id, "test-all-types")
        services.save_answers(attempt, {"rewrite-1": "请问您怎么称呼？这是公司的规定。"})
        services.submit_attempt(attempt)
        answer = attempt.answer_for("rewrite-1")
        said = [item for item in answer.feedback["items"] if item["kind"] == "forbidden" and item["matched"]]
        assert [item["rule"] for item in said] == ["forbidden:cite_policy"]
        assert "是公司的规定" in said[0]["evidence"][0] and answer.fraction < 1.0


def test_listen_type_results_for_certification(app, exams, make_user):
    user = make_user("zhou")
    other = make_user("other")
    with app.app_context():
        attempt = services.start_attempt(user.id, "test-all-types")
        heard_long_ago(attempt)
        services.save_answers(attempt, {"listen-1": LISTEN_TEXT})
        typed_for(attempt, 18)
        assert services.listen_type_results(user.id) == []  # not graded yet
        services.submit_attempt(attempt)
        results = services.listen_type_results(user.id)
        assert [(r.attempt_id, r.question_id) for r in results] == [(attempt.id, "listen-1")]
        assert results[0].accuracy == 1.0 and results[0].cpm == pytest.approx(60.0)
        assert results[0].graded_at == attempt.graded_at
        assert services.listen_type_results(other.id) == []


def test_invalid_responses_are_refused_and_change_nothing(app, exams, make_user):
    user = make_user("qian")
    with app.app_context():
        attempt = services.start_attempt(user.id, "test-all-types")
        services.save_answer(attempt, "single-1", "a")
        for question, bad in [("single-1", "zz"), ("multi-prop", ["a", "zz"]), ("tf-1", "maybe"),
                              ("order-1", ["s1", "s2"]), ("order-1", ["s1", "s1", "s2", "s3"]),
                              ("rewrite-1", 42), ("listen-1", "字" * (paper.MAX_TEXT_LENGTH + 1))]:
            with pytest.raises(services.InvalidAnswer):
                services.save_answer(attempt, question, bad)
        db.session.refresh(attempt)
        assert attempt.answer_for("single-1").response == "a"
        with pytest.raises(services.AttemptNotFound):
            services.save_answer(attempt, "no-such-question", "a")
