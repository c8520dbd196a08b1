"""Trainers try quizzes and exams in practice mode: graded for them, counted nowhere."""
from __future__ import annotations

from sqlalchemy import func, select

from app.certification.models import EvidenceFlag
from app.core import events
from app.exams import services as exams
from app.exams.models import ExamAttempt
from app.extensions import db
from tests.app.certification.journey import perfect_response
from tests.support.web import csrf_token, login_as

EN = {"Accept-Language": "en"}
EXAM = "cert-agent"  # 3 attempts allowed, 60 minutes' cooldown


def _submit(attempt):
    for entry in attempt.paper:
        if entry["type"] == "listen_type":
            exams.listen_audio(attempt, entry["id"])
    exams.submit_attempt(attempt, {entry["id"]: perfect_response(entry) for entry in attempt.paper
                                   if entry["type"] != "listen_type"})
    return attempt


def _figures(learner_id):
    exam = exams.get_exam(EXAM)
    overview = next(o for o in exams.exams_overview() if o.exam.slug == EXAM)
    return {"overview": (overview.attempts, overview.mean_score, overview.pass_rate),
            "questions": [(q.question.question_id, q.analysis.answers, q.analysis.share_correct)
                          for q in exams.question_statistics(exam)],
            "flags": db.session.scalar(select(func.count()).select_from(EvidenceFlag))}


def test_a_trainer_starts_an_exam_in_practice_mode_from_its_page(app, content, make_user):
    trainer = make_user("wang", "trainer", name="王芳")
    client = app.test_client()
    login_as(client, trainer)
    page = client.get(f"/exams/{EXAM}", headers=EN).get_data(as_text=True)
    assert 'id="exam-practice"' in page
    token = csrf_token(client, f"/exams/{EXAM}")
    response = client.post(f"/exams/{EXAM}", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        [attempt] = db.session.scalars(select(ExamAttempt).where(ExamAttempt.user_id == trainer.id)).all()
        assert attempt.practice
    assert client.get(response.headers["Location"]).status_code == 200


def test_practice_attempts_change_no_statistic_limit_evidence_or_flag(app, content, make_user):
    learner = make_user("li", "learner", name="李明")
    both = make_user("zhou", "learner", "trainer", name="周杰")
    graded = []
    events.exam_attempt_graded.connect(receiver := lambda sender, **kw: graded.append(sender))
    app.config["EXAM_MIN_SECONDS_PER_QUESTION"] = 1000  # every submission here is "too fast"
    try:
        with app.app_context():
            _submit(exams.start_attempt(learner.id, EXAM))
            before = _figures(learner.id)
            assert before["overview"][0] == 1 and before["flags"] == 1 and graded == [learner.id]

            # Four practice attempts in a row: no cooldown, no attempt limit, counted nowhere.
            for _ in range(4):
                attempt = _submit(exams.start_attempt(both.id, EXAM, practice=True))
                assert attempt.practice and attempt.status == "graded"
            assert _figures(learner.id) == before
            assert graded == [learner.id]
            assert exams.best_attempt(both.id, EXAM) is None and exams.listen_type_results(both.id) == []
            status = exams.exam_status(both.id, exams.get_exam(EXAM))
            assert status.attempts == [] and status.attempts_left == 3 and status.cooldown_until is None
            real = exams.start_attempt(both.id, EXAM)  # the person's own first real attempt
            assert not real.practice and real.number == 5
    finally:
        app.config["EXAM_MIN_SECONDS_PER_QUESTION"] = 0
        events.exam_attempt_graded.disconnect(receiver)
