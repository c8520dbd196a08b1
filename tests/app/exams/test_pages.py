"""The learner's exam list and result page, and the trainer's item statistics."""
from __future__ import annotations

import re

import pytest

from app.exams import services
from app.exams.stats import FLAG_EASY, FLAG_HARD, FLAG_NOT_DISCRIMINATING, analyse
from tests.support.web import csrf_token, login_as

from tests.support.exams import autosave, start_over_http


def card(page: str, slug: str) -> str:
    match = re.search(rf'data-exam="{slug}">(.*?)</li>', page, re.S)
    assert match, slug
    return match.group(1)


def test_exam_list_shows_status_best_score_attempts_and_cooldown(app, client, exams, make_user):
    login_as(client, make_user("lister"))
    page = client.get("/exams").get_data(as_text=True)
    assert "认证考试" in page and "课程测验" in page
    assert "未参加" in card(page, "test-all-types") and 'href="/exams/quiz-call-handling"' in page

    attempt_id = start_over_http(client, "test-all-types")
    assert "进行中" in card(client.get("/exams").get_data(as_text=True), "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    autosave(client, attempt_id, "single-1", "a", token)
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token})
    with app.app_context():
        score = services.get_attempt(attempt_id).score
    mine = card(client.get("/exams").get_data(as_text=True), "test-all-types")
    assert f"{score:.1f} %" in mine
    assert re.search(r'class="attempts-left">1<', mine)
    assert 'class="cooldown"' in mine and "未通过" in mine
    unlimited = card(client.get("/exams").get_data(as_text=True), "quiz-call-handling")
    assert re.search(r'class="attempts-left">不限<', unlimited)


def test_english_page_marks_chinese_only_content(app, client, exams, make_user):
    login_as(client, make_user("english"))
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/exams")})
    page = client.get("/exams").get_data(as_text=True)
    assert "Test: every question type" in card(page, "test-all-types")
    draw_card = card(page, "test-draw-rules")  # authored in Chinese only
    assert '<span lang="zh-CN">测试：抽题规则</span>' in draw_card and "Only in Chinese" in draw_card


def test_result_page_shows_feedback_explanations_and_rewrite_reasons(app, client, exams, make_user):
    login_as(client, make_user("reader"))
    attempt_id = start_over_http(client, "test-all-types")
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    autosave(client, attempt_id, "single-1", "b", token)
    autosave(client, attempt_id, "rewrite-1", "麻烦告诉我您的名字", token)
    client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token})
    page = client.get(f"/exams/attempts/{attempt_id}/result").get_data(as_text=True)
    single = re.search(r'id="r-single-1".*?</section>', page, re.S).group(0)
    assert "办理变更属于业务类。" in single  # explanation (show_answers: true)
    assert re.search(r'class="chosen">\s*抱怨迟到', single) and re.search(r'class=" correct">\s*升级宽带', single)
    rewrite = re.search(r'id="r-rewrite-1".*?</section>', page, re.S).group(0)
    assert "礼貌地询问称呼" in rewrite and "麻烦 … 名字" in rewrite and "您的名字" in rewrite


def test_result_without_show_answers_hides_the_key_but_keeps_rewrite_and_typing_feedback(
        app, client, exams, make_user):
    login_as(client, make_user("cert-taker"))
    attempt_id = start_over_http(client, "cert-agent")
    client.post(f"/exams/attempts/{attempt_id}/submit",
                data={"csrf_token": csrf_token(client, f"/exams/attempts/{attempt_id}")})
    with app.app_context():
        attempt = services.get_attempt(attempt_id)
        attempt.show_answers = False  # as cert-senior and cert-expert are authored
        from app.extensions import db
        db.session.commit()
        kinds = {entry["id"]: entry["type"] for entry in attempt.paper}
    page = client.get(f"/exams/attempts/{attempt_id}/result").get_data(as_text=True)
    shown = set(re.findall(r'id="r-([^"]+)"', page))
    assert shown == {qid for qid, kind in kinds.items() if kind in ("phrase_rewrite", "listen_type")}
    assert "每分钟" in page and 'class="explanation"' not in page


def test_item_analysis():
    assert analyse([]).share_correct is None
    few = analyse([(90, 1.0)] * 4)
    assert few.share_correct == 1.0 and few.flags == []  # under 5 answers: no verdict
    easy = analyse([(score, 1.0) for score in (20, 40, 60, 80, 100)])
    assert FLAG_EASY in easy.flags and FLAG_NOT_DISCRIMINATING in easy.flags
    hard = analyse([(score, 0.0) for score in (20, 40, 60, 80, 100)])
    assert FLAG_HARD in hard.flags
    good = analyse([(20, 0.0), (40, 0.0), (60, 1.0), (80, 1.0), (100, 1.0)])
    assert good.discrimination == 1.0 and good.share_correct == pytest.approx(0.6) and good.flags == []
    backwards = analyse([(20, 1.0), (40, 1.0), (60, 0.0), (80, 0.0), (100, 0.0), (90, 0.0)])
    assert backwards.discrimination < 0 and FLAG_NOT_DISCRIMINATING in backwards.flags


def test_trainer_statistics_flag_bad_questions(app, client, exams, make_user):
    # Six learners: everyone gets single-1 right and tf-1 wrong; only the strong ones get the rest.
    with app.app_context():
        for index in range(6):
            strong = index >= 3
            attempt = services.start_attempt(make_user(f"stat-{index}").id, "test-all-types")
            answers = {"single-1": "a", "tf-1": True}
            if strong:
                answers |= {"multi-prop": ["a", "b", "c"], "multi-aon": ["a", "b"], "rewrite-1": "请问您怎么称呼"}
            services.save_answers(attempt, answers)
            services.submit_attempt(attempt)
    login_as(client, make_user("trainer-li", "trainer"))
    overview = client.get("/exams/statistics").get_data(as_text=True)
    row = re.search(r'<tr data-exam="test-all-types">.*?</tr>', overview, re.S).group(0)
    assert "<td>6</td>" in row and "0 %" in row  # nobody passed
    page = client.get("/exams/statistics/test-all-types").get_data(as_text=True)

    def flags(question_id):
        row = re.search(rf'<tr data-question="{question_id}".*?</tr>', page, re.S).group(0)
        return set(re.findall(r'data-flag="(\w+)"', row)), row

    easy, easy_row = flags("single-1")
    assert easy == {FLAG_EASY, FLAG_NOT_DISCRIMINATING} and 'class="answers">6<' in easy_row
    hard, _ = flags("tf-1")
    assert FLAG_HARD in hard
    good, good_row = flags("multi-aon")
    assert good == set() and 'class="discrimination">1.00<' in good_row
    assert client.get("/exams/statistics/no-such-exam").status_code == 404
