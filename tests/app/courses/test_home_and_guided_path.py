"""The learner's "continue" home panel and the guided path through a course: complete and continue,
the quiz offered after the last lesson, "quiz pending" instead of a full bar, and the completion
message linking the courses it unlocked."""
from __future__ import annotations

import re

from app.courses import services
from app.courses.models import LessonProgress
from app.extensions import db
from tests.app.assignments.helpers import right_answer
from tests.support.exams import start_over_http
from tests.support.web import csrf_token, home_panel, login_as, switch_to_english

from tests.support.courses import get_course, open_lesson

BASICS = "call-centre-basics"
QUIZ = "quiz-call-centre-basics"
UNLOCKED = {"call-handling", "emotion-management", "service-language"}



def _lessons(app) -> list[str]:
    with app.app_context():
        return [lesson.slug for lesson in get_course(BASICS).active_lessons]


def _complete_and_continue(client, lesson: str):
    token = csrf_token(client, f"/courses/{BASICS}/lessons/{lesson}")
    return client.post(f"/courses/{BASICS}/lessons/{lesson}/done", data={"csrf_token": token, "continue": "1"})



def test_continue_panel_says_what_will_appear_before_any_lesson(app, client, content, make_user):
    login_as(client, make_user("new", "learner"))
    switch_to_english(client)
    panel = home_panel(client.get("/").get_data(as_text=True), "continue")
    assert "The lesson you opened last will appear here" in panel
    assert 'href="/courses"' in panel and 'id="home-continue"' not in panel


def test_continue_panel_links_the_last_lesson_opened(app, client, content, make_user):
    lessons = _lessons(app)
    login_as(client, make_user("li", "learner"))
    switch_to_english(client)
    open_lesson(client, BASICS, lessons[0])
    open_lesson(client, BASICS, lessons[2])
    panel = home_panel(client.get("/").get_data(as_text=True), "continue")
    match = re.search(r'id="home-continue"\s+href="([^"]+)"', panel)
    assert match and match.group(1) == f"/courses/{BASICS}/lessons/{lessons[2]}"
    assert "0 of %d lessons done" % len(lessons) in panel


def test_complete_and_continue_goes_lesson_by_lesson_then_to_the_quiz(app, client, content, make_user):
    lessons = _lessons(app)
    learner = make_user("wang", "learner")
    login_as(client, learner)
    switch_to_english(client)
    for here, there in zip(lessons, lessons[1:]):
        response = _complete_and_continue(client, here)
        assert response.status_code == 302 and response.headers["Location"].endswith(
            f"/courses/{BASICS}/lessons/{there}")
    last = client.get(f"/courses/{BASICS}/lessons/{lessons[-1]}").get_data(as_text=True)
    assert 'id="course-quiz"' in last and f'href="/exams/{QUIZ}"' in last  # the last lesson offers the quiz
    response = _complete_and_continue(client, lessons[-1])
    assert response.headers["Location"].endswith(f"/exams/{QUIZ}")
    with app.app_context():
        assert db.session.query(LessonProgress).filter(LessonProgress.user_id == learner.id,
                                                       LessonProgress.completed_at.is_not(None)).count() == len(lessons)
    # Every lesson done, quiz not passed: "quiz pending", not a full green bar, on home, My learning and the course.
    home = home_panel(client.get("/").get_data(as_text=True), "continue")
    assert "Quiz pending" in home and f'href="/exams/{QUIZ}"' in home
    board = client.get("/learning").get_data(as_text=True)
    in_progress = board[board.index('id="in-progress"'):board.index('id="completed"')]
    assert "Quiz pending" in in_progress and "<progress" not in in_progress
    assert 'id="quiz-pending"' in client.get(f"/courses/{BASICS}").get_data(as_text=True)


def test_complete_and_continue_too_early_keeps_the_learner_on_the_lesson(app, client, content, make_user,
                                                                          monkeypatch):
    monkeypatch.setitem(app.config, "LESSON_MIN_READ_SHARE", 0.3)
    lessons = _lessons(app)
    learner = make_user("fast", "learner")
    login_as(client, learner)
    response = _complete_and_continue(client, lessons[0])
    assert response.headers["Location"].endswith(f"/courses/{BASICS}/lessons/{lessons[0]}")
    with app.app_context():
        assert services.completed_courses(learner.id) == {}
        assert not db.session.query(LessonProgress).filter(LessonProgress.completed_at.is_not(None)).count()


def test_passing_the_quiz_says_the_course_is_complete_and_links_what_it_unlocked(app, client, content, make_user):
    lessons = _lessons(app)
    learner = make_user("zhao", "learner")
    login_as(client, learner)
    switch_to_english(client)
    for lesson in lessons:
        _complete_and_continue(client, lesson)
    attempt_id = start_over_http(client, QUIZ)
    from app.exams.models import ExamAttempt
    with app.app_context():
        paper = db.session.get(ExamAttempt, attempt_id).paper
    token = csrf_token(client, f"/exams/attempts/{attempt_id}")
    for entry in paper:
        answer = right_answer(entry)
        if answer is not None:
            client.put(f"/exams/attempts/{attempt_id}/answers/{entry['id']}", json={"response": answer},
                       headers={"X-CSRFToken": token})
    response = client.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Course completed. Well done!" in html and "Now open to you:" in html
    linked = set(re.findall(r'<a href="/courses/([a-z-]+)">', html[html.index("Now open to you:"):]))
    assert UNLOCKED <= linked
    with app.app_context():
        assert BASICS in services.completed_courses(learner.id)
    # Home no longer offers this course: the next step is a course it unlocked, or nothing started.
    assert f"/courses/{BASICS}/lessons/" not in home_panel(client.get("/").get_data(as_text=True), "continue")
