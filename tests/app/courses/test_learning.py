"""What a learner does: catalog, locked courses, lessons, marking done, time, completion, languages."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core import events
from app.courses import services
from app.courses.models import CourseProgress, LessonProgress
from app.extensions import db
from tests.support.web import csrf_token, login_as

from tests.support.courses import complete_course, get_course, get_lesson, open_lesson, sync_from

BASICS = "call-centre-basics"
FIRST = "01-what-is-a-call-centre"


def _mark_done(client, course: str, lesson: str):
    token = csrf_token(client, f"/courses/{course}/lessons/{lesson}")
    return client.post(f"/courses/{course}/lessons/{lesson}/done", data={"csrf_token": token})


def _progress_row(user_id: int, course: str, lesson: str) -> LessonProgress | None:
    return db.session.scalar(select(LessonProgress).where(
        LessonProgress.user_id == user_id, LessonProgress.lesson_id == get_lesson(course, lesson).id))


def test_catalog_lists_courses_in_order_with_level_time_progress_and_locks(app, client, content, make_user):
    login_as(client, make_user("zhang", "learner"))
    page = client.get("/courses").get_data(as_text=True)
    titles = ["呼叫中心与座席岗位", "呼叫处理流程", "情绪管理与压力释放", "沟通用语技巧", "服务质量与指标", "职业素养与职业发展"]
    positions = [page.index(title) for title in titles]
    assert positions == sorted(positions)
    assert 'data-course="call-centre-basics"' in page and "约 60 分钟" in page and "座席" in page
    basics = page[page.index('data-course="call-centre-basics"'):page.index('data-course="call-handling"')]
    assert 'value="0" max="4"' in basics and "已锁定" not in basics
    handling = page[page.index('data-course="call-handling"'):page.index('data-course="emotion-management"')]
    assert "已锁定" in handling and "呼叫中心与座席岗位" in handling  # says which course unlocks it


def test_lessons_of_a_locked_course_cannot_be_opened_until_the_prerequisite_is_completed(
        app, client, content, make_user):
    zhang = make_user("zhang", "learner")
    login_as(client, zhang)
    lesson_url = "/courses/call-handling/lessons/01-sources-classes-priorities"
    response = client.get(lesson_url)
    assert response.status_code == 302 and response.headers["Location"].endswith("/courses/call-handling")
    course_page = client.get("/courses/call-handling").get_data(as_text=True)
    assert "此课程尚未解锁" in course_page and "呼叫中心与座席岗位" in course_page
    assert lesson_url not in course_page  # lessons are listed without links
    # Marking done or reporting time on a locked lesson records nothing.
    token = csrf_token(client, "/courses")
    assert client.post(f"{lesson_url}/done", data={"csrf_token": token}).status_code == 302
    assert client.post(f"{lesson_url}/time", json={"seconds": 20}, headers={"X-CSRFToken": token}).status_code == 409
    with app.app_context():
        assert _progress_row(zhang.id, "call-handling", "01-sources-classes-priorities") is None

    complete_course(app, zhang.id, BASICS)
    response = client.get(lesson_url)
    assert response.status_code == 200 and "呼叫的来源、分类与优先级" in response.get_data(as_text=True)
    assert "已锁定" not in client.get("/courses").get_data(as_text=True).split('data-course="call-handling"')[1] \
        .split('data-course="emotion-management"')[0]


def test_reading_and_marking_a_lesson_done_moves_the_progress(app, client, content, make_user):
    zhang = make_user("zhang", "learner")
    login_as(client, zhang)
    page = client.get(f"/courses/{BASICS}/lessons/{FIRST}").get_data(as_text=True)
    assert "<h1>什么是呼叫中心</h1>" in page and 'id="mark-done"' in page
    assert 'rel="next" href="/courses/call-centre-basics/lessons/02-roles-and-duties"' in page
    assert 'rel="prev"' not in page
    response = _mark_done(client, BASICS, FIRST)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/lessons/{FIRST}")
    page = client.get(f"/courses/{BASICS}/lessons/{FIRST}").get_data(as_text=True)
    assert 'id="lesson-done"' in page and 'id="mark-done"' not in page and 'value="1" max="4"' in page
    course_page = client.get(f"/courses/{BASICS}").get_data(as_text=True)
    assert course_page.count('class="done"') == 1 and 'value="1" max="4"' in course_page
    _mark_done(client, BASICS, FIRST)  # twice is the same as once
    with app.app_context():
        assert services.course_progress(zhang.id, BASICS) == (1, 4)


def test_marking_done_needs_the_csrf_token(app, client, content, make_user):
    zhang = make_user("zhang", "learner")
    login_as(client, zhang)
    response = client.post(f"/courses/{BASICS}/lessons/{FIRST}/done")
    assert response.status_code == 400
    with app.app_context():
        assert services.course_progress(zhang.id, BASICS) == (0, 4)


def test_unknown_courses_and_lessons_are_404(app, client, content, make_user):
    login_as(client, make_user("zhang", "learner"))
    assert client.get("/courses/no-such-course").status_code == 404
    assert client.get(f"/courses/{BASICS}/lessons/no-such-lesson").status_code == 404
    token = csrf_token(client, "/courses")
    assert client.post(f"/courses/{BASICS}/lessons/no-such-lesson/done", data={"csrf_token": token}).status_code == 404


def test_course_completes_only_when_every_lesson_is_done_and_the_quiz_is_passed(app, content, make_user):
    zhang = make_user("zhang", "learner")
    announced = []

    def listener(sender, **kwargs):
        announced.append((sender, kwargs))

    events.course_completed.connect(listener)
    try:
        with app.app_context():
            for lesson in get_course(BASICS).active_lessons:
                services.mark_lesson_done(zhang.id, lesson)
            assert services.completed_courses(zhang.id) == {}
            events.exam_attempt_graded.send(zhang.id, attempt_id=7, exam_slug="quiz-call-centre-basics",
                                            passed=False, score=40.0)
            assert services.completed_courses(zhang.id) == {} and announced == []
            events.exam_attempt_graded.send(zhang.id, attempt_id=8, exam_slug="quiz-call-handling",
                                            passed=True, score=90.0)  # another course's quiz
            assert services.completed_courses(zhang.id) == {}
            events.exam_attempt_graded.send(zhang.id, attempt_id=9, exam_slug="quiz-call-centre-basics",
                                            passed=True, score=85.0)
            completed = services.completed_courses(zhang.id)
            assert list(completed) == [BASICS]
            standing = db.session.scalar(select(CourseProgress).where(CourseProgress.user_id == zhang.id,
                                                                      CourseProgress.course_id == get_course(BASICS).id))
            assert (standing.quiz_attempt_id, standing.quiz_score) == (9, 85.0)
            # A later pass changes neither the evidence nor the completion.
            events.exam_attempt_graded.send(zhang.id, attempt_id=10, exam_slug="quiz-call-centre-basics",
                                            passed=True, score=100.0)
            db.session.expire_all()
            assert services.completed_courses(zhang.id) == completed
    finally:
        events.course_completed.disconnect(listener)
    assert announced == [(zhang.id, {"course_slug": BASICS, "completed_at": completed[BASICS]})]


def test_quiz_passed_first_completes_the_course_on_the_last_lesson(app, client, content, make_user):
    zhang = make_user("zhang", "learner")
    with app.app_context():
        events.exam_attempt_graded.send(zhang.id, attempt_id=3, exam_slug="quiz-call-centre-basics",
                                        passed=True, score=80.0)
        lessons = get_course(BASICS).active_lessons
        for lesson in lessons[:-1]:
            assert services.mark_lesson_done(zhang.id, lesson) is False
        assert services.completed_courses(zhang.id) == {}
        last = lessons[-1].slug
    login_as(client, zhang)
    response = _mark_done(client, BASICS, last)
    assert "课程已完成" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert BASICS in services.completed_courses(zhang.id)


def test_time_reports_are_clamped_to_the_time_that_really_passed(app, client, content, make_user, monkeypatch):
    zhang = make_user("zhang", "learner")
    login_as(client, zhang)
    url = f"/courses/{BASICS}/lessons/{FIRST}/time"
    token = csrf_token(client, f"/courses/{BASICS}/lessons/{FIRST}")  # serving the page starts the clock
    with app.app_context():
        assert _progress_row(zhang.id, BASICS, FIRST) is None  # ... and stores nothing
    assert client.post(url, json={"seconds": 0}, headers={"X-CSRFToken": token}).json["credited"] == 0
    with app.app_context():
        started = _progress_row(zhang.id, BASICS, FIRST).last_time_report_at
    clock = {"now": started + timedelta(seconds=25)}
    monkeypatch.setattr(services, "utcnow", lambda: clock["now"])

    def report(seconds):
        return client.post(url, json={"seconds": seconds}, headers={"X-CSRFToken": token})

    assert report(3600).json == {"credited": 25, "seconds_spent": 25}  # no more than the 25 s since the visit
    assert report(30).json == {"credited": 0, "seconds_spent": 25}  # replayed at once: nothing passed
    clock["now"] += timedelta(minutes=10)
    assert report(3600).json == {"credited": 60, "seconds_spent": 85}  # at most 60 s per report
    clock["now"] += timedelta(seconds=30)
    assert report(30).json == {"credited": 30, "seconds_spent": 115}
    assert report(-5).status_code == 400 and report("lots").status_code == 400
    assert client.post(url, json={"seconds": 10}).status_code == 400  # no CSRF header


def test_time_reports_only_ever_touch_the_reporting_learners_own_record(app, client, content, make_user,
                                                                         monkeypatch):
    zhang, li = make_user("zhang", "learner"), make_user("li", "learner")
    login_as(client, zhang)
    open_lesson(client, BASICS, FIRST)
    other = app.test_client()
    login_as(other, li)
    token = csrf_token(other, "/courses")
    with app.app_context():
        zhang_row = _progress_row(zhang.id, BASICS, FIRST)
        later = zhang_row.last_time_report_at + timedelta(minutes=5)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    # The URL names a lesson, never a user: li's report (even naming zhang) is li's own.
    response = other.post(f"/courses/{BASICS}/lessons/{FIRST}/time", json={"seconds": 30, "user_id": zhang.id},
                          headers={"X-CSRFToken": token})
    assert response.status_code == 200
    with app.app_context():
        assert _progress_row(zhang.id, BASICS, FIRST).seconds_spent == 0
        li_row = _progress_row(li.id, BASICS, FIRST)
        assert li_row is not None and li_row.user_id == li.id


def test_learners_see_only_their_own_progress(app, client, content, make_user):
    zhang, li = make_user("zhang", "learner"), make_user("li", "learner")
    login_as(client, zhang)
    _mark_done(client, BASICS, FIRST)
    other = app.test_client()
    login_as(other, li)
    assert 'class="done"' not in other.get(f"/courses/{BASICS}").get_data(as_text=True)
    dashboard = other.get("/learning").get_data(as_text=True)
    assert "您还没有开始任何课程" in dashboard and "resume-lesson" not in dashboard


def test_dashboard_shows_progress_resume_point_completions_and_assignments(app, client, content, make_user):
    zhang = make_user("zhang", "learner")
    login_as(client, zhang)
    _mark_done(client, BASICS, FIRST)
    open_lesson(client, BASICS, "02-roles-and-duties")
    complete_course(app, zhang.id, BASICS)  # pretend the rest happened later
    open_lesson(client, "call-handling", "01-sources-classes-priorities")
    page = client.get("/learning").get_data(as_text=True)
    completed = page[page.index('id="completed"'):]
    in_progress = page[page.index('id="in-progress"'):page.index('id="completed"')]
    assert "呼叫中心与座席岗位" in completed and "完成于" in completed
    assert "呼叫处理流程" in in_progress and 'value="0" max="4"' in in_progress
    assert 'href="/courses/call-handling/lessons/01-sources-classes-priorities"' in page  # continue here
    assert "目前没有分配给您的学习任务" in page[page.index('id="assigned"'):]
    with app.app_context():
        assert services.assigned_courses(zhang.id) == []


def test_english_content_where_it_exists_and_marked_chinese_where_it_does_not(app, client, content_copy,
                                                                               make_user):
    (content_copy / f"courses/{BASICS}/lessons/02-roles-and-duties.en.md").unlink()
    sync_from(app, content_copy)
    login_as(client, make_user("zhang", "learner"))
    token = csrf_token(client, "/courses")
    client.post("/language", data={"language": "en", "csrf_token": token})
    page = client.get(f"/courses/{BASICS}/lessons/{FIRST}").get_data(as_text=True)
    article = page[page.index("<article"):page.index("</article>")]
    assert 'lang="en"' in article and "<h1>What is a call centre?</h1>" in article
    assert "no English version" not in page
    # The link to the next lesson is in Chinese, and says so.
    assert '座席岗位与职责</span> <span class="badge fallback">Chinese original</span> →' in page
    page = client.get(f"/courses/{BASICS}/lessons/02-roles-and-duties").get_data(as_text=True)
    assert "<h1>座席岗位与职责</h1>" in page and '<article class="card lesson-body" lang="zh-CN"' in page
    assert "Chinese original" in page and "no English version" in page
    course_page = client.get(f"/courses/{BASICS}").get_data(as_text=True)
    assert "The call centre and the agent&#39;s job" in course_page and "Mark as done" not in course_page
    assert '<span lang="zh-CN">座席岗位与职责</span> <span class="badge fallback">Chinese original</span>' in course_page


def test_the_quiz_is_linked_only_when_the_exams_domain_serves_it(app, client, content, make_user):
    login_as(client, make_user("zhang", "learner"))
    page = client.get(f"/courses/{BASICS}").get_data(as_text=True)
    with app.app_context():
        quiz_title = get_course(BASICS).quiz_title["zh-CN"]
    assert quiz_title in page
    if "exams.start" in app.view_functions:
        with app.test_request_context():
            from flask import url_for
            assert url_for("exams.start", slug="quiz-call-centre-basics") in page
    else:
        assert "/exams/" not in page


def test_other_roles_have_no_learner_pages(app, client, content, make_user):
    login_as(client, make_user("wang", "trainer"))
    assert client.get("/courses").status_code == 403
    assert client.get(f"/courses/{BASICS}/lessons/{FIRST}").status_code == 403


def test_serving_a_lesson_records_nothing_until_the_page_reports_it_open(app, client, content, make_user):
    """The GET only serves the page; the visit (resume point, course started) is the page's first time
    report, a POST, or marking the lesson done."""
    zhang = make_user("zhang", "learner")
    login_as(client, zhang)
    url = f"/courses/{BASICS}/lessons/{FIRST}"
    token = csrf_token(client, url)
    assert "resume-lesson" not in client.get("/learning").get_data(as_text=True)
    with app.app_context():
        assert _progress_row(zhang.id, BASICS, FIRST) is None
        assert services.dashboard(zhang.id, "zh-CN").in_progress == []
    assert client.post(f"{url}/time", json={"seconds": 0}, headers={"X-CSRFToken": token}).status_code == 200
    with app.app_context():
        row = _progress_row(zhang.id, BASICS, FIRST)
        assert row is not None and row.completed_at is None and row.seconds_spent == 0
        board = services.dashboard(zhang.id, "zh-CN")
        assert [card.course.slug for card in board.in_progress] == [BASICS]
        assert board.resume is not None and board.resume.lesson.slug == FIRST


def test_the_quiz_receiver_flushes_into_the_senders_transaction_and_never_commits(app, content, make_user):
    """A passed quiz is kept exactly when the sender's work is: rolled back with it, committed with it."""
    from tests.support.db_writes import db_writes
    zhang = make_user("zhang", "learner")
    with app.app_context():
        for lesson in get_course(BASICS).active_lessons:
            services.mark_lesson_done(zhang.id, lesson)
        # This receiver alone (course_completed's own receivers, in other domains, are theirs to test).
        with db_writes(app) as writes, events.course_completed.muted():
            services.on_exam_attempt_graded(zhang.id, attempt_id=5, exam_slug="quiz-call-centre-basics",
                                            passed=True, score=90.0)
        assert writes.statements and not writes.commits, writes.describe()
        db.session.rollback()  # the sender failed after all
        assert services.completed_courses(zhang.id) == {}
        with events.course_completed.muted():
            services.on_exam_attempt_graded(zhang.id, attempt_id=6, exam_slug="quiz-call-centre-basics",
                                            passed=True, score=90.0)
        db.session.commit()  # the sender's own commit keeps the pass
    with app.app_context():
        assert list(services.completed_courses(zhang.id)) == [BASICS]


def test_a_visit_report_and_mark_done_racing_to_insert_the_same_rows_share_them(app, content, make_user, monkeypatch):
    """The page's visit report and a quick "complete and continue" can both find no row and both
    insert it: the loser takes the winner's rows instead of failing the learner's request."""
    learner = make_user("racer", "learner")
    with app.app_context():
        lesson = get_lesson(BASICS, FIRST)
        services.record_visit(learner.id, lesson)      # the other request, already committed
        db.session.commit()
        won_lesson = db.session.scalar(select(LessonProgress.id))
        won_course = db.session.scalar(select(CourseProgress.id))
    with app.app_context():
        lesson = get_lesson(BASICS, FIRST)
        real_scalar, misses = db.session.scalar, iter([True, False, True])  # lesson, its re-lookup, course

        def looked_before_the_other_insert(statement, *args, **kwargs):
            # The first lookup of each row ran before the other request committed it.
            if next(misses, False):
                return None
            return real_scalar(statement, *args, **kwargs)

        monkeypatch.setattr(db.session, "scalar", looked_before_the_other_insert)
        completed = services.mark_lesson_done(learner.id, lesson)
        monkeypatch.undo()
        assert completed is False
        assert db.session.scalars(select(LessonProgress.id)).all() == [won_lesson]
        assert db.session.scalars(select(CourseProgress.id)).all() == [won_course]
        assert db.session.scalar(select(LessonProgress.completed_at)) is not None


def test_making_progress_rows_stays_inside_the_requests_transaction(app, content, make_user):
    """Nothing is committed behind the request's back: a request that fails after recording a visit
    leaves no progress rows (a SQLite savepoint opened with no transaction would commit them)."""
    learner = make_user("rolled-back", "learner")
    with app.app_context():
        services.record_visit(learner.id, get_lesson(BASICS, FIRST))
        db.session.rollback()
        assert db.session.scalars(select(LessonProgress.id)).all() == []
        assert db.session.scalars(select(CourseProgress.id)).all() == []
