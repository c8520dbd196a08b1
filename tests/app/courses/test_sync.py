"""Loading courses/ into the database: validation, idempotence, retiring, all-or-nothing."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.content.services import sync_content
from app.courses import services
from app.courses.models import Course, Lesson, LessonProgress
from app.extensions import db
from content_schema import ContentValidationError

from tests.support.courses import get_course, get_lesson, sync_from


def _line_of(path: Path, startswith: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if line.startswith(startswith):
            return number
    raise AssertionError(f"{startswith!r} not in {path}")


def _yaml_syntax_error(root: Path) -> str:
    path = root / "courses/call-handling/course.yaml"
    line = _line_of(path, "level:")
    path.write_text(path.read_text(encoding="utf-8").replace("level: agent", "level: agent: senior"), encoding="utf-8")
    return f"courses/call-handling/course.yaml:{line}: YAML syntax error"


def _missing_field(root: Path) -> str:
    path = root / "courses/emotion-management/course.yaml"
    kept = [line for line in path.read_text(encoding="utf-8").split("\n") if not line.startswith("estimated_minutes")]
    path.write_text("\n".join(kept), encoding="utf-8")
    return 'courses/emotion-management/course.yaml:1: missing required field "estimated_minutes"'


def _unknown_prerequisite(root: Path) -> str:
    path = root / "courses/service-quality/course.yaml"
    line = _line_of(path, "prerequisites:")
    path.write_text(path.read_text(encoding="utf-8").replace("prerequisites: [call-handling]",
                                                             "prerequisites: [no-such-course]"), encoding="utf-8")
    return f'courses/service-quality/course.yaml:{line}: prerequisites[0]: unknown course "no-such-course"'


def _duplicate_slug(root: Path) -> str:
    shutil.copytree(root / "courses/service-language", root / "courses/service-language-copy")
    line = _line_of(root / "courses/service-language-copy/course.yaml", "slug:")
    return (f'courses/service-language-copy/course.yaml:{line}: slug: "service-language" is already used by '
            "courses/service-language/course.yaml")


def _unsafe_html(root: Path) -> str:
    path = root / "courses/call-centre-basics/lessons/02-roles-and-duties.zh-CN.md"
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(text + "\n\n<script>alert('x')</script>\n", encoding="utf-8")
    line = len(text.split("\n")) + 2
    return f"courses/call-centre-basics/lessons/02-roles-and-duties.zh-CN.md:{line}: HTML tag <script> is not allowed"


def test_check_passes_on_the_shipped_content(app):
    result = app.test_cli_runner().invoke(args=["content", "sync", "--check"])
    assert result.exit_code == 0, result.output
    assert "6 courses, 24 lessons" in result.output and result.output.strip().endswith("OK")
    with app.app_context():  # --check changes nothing
        assert db.session.scalar(select(func.count()).select_from(Course)) == 0


@pytest.mark.parametrize("breaker", [_yaml_syntax_error, _missing_field, _unknown_prerequisite, _duplicate_slug,
                                     _unsafe_html], ids=lambda breaker: breaker.__name__.strip("_"))
def test_check_fails_with_file_and_line_on_broken_content(app, content_copy, breaker):
    expected = breaker(content_copy)
    result = app.test_cli_runner().invoke(args=["content", "sync", "--check", "--root", str(content_copy)])
    assert result.exit_code == 1
    assert expected in result.output, result.output
    assert "nothing was loaded" in result.output


def test_sync_loads_courses_with_both_languages_and_a_second_sync_changes_nothing(app, content_copy):
    report = sync_from(app, content_copy)
    assert "course call-centre-basics: added with 4 lessons" in report.lines
    with app.app_context():
        basics = get_course("call-centre-basics")
        assert basics.title == {"zh-CN": "呼叫中心与座席岗位", "en": "The call centre and the agent's job"}
        assert basics.quiz_slug == "quiz-call-centre-basics" and basics.quiz_title["zh-CN"]
        assert "用在哪些行业；了解实习座席" in basics.summary["zh-CN"]  # block text unwrapped without spaces
        assert "which industries rely on it. Learn what" in basics.summary["en"]
        assert get_course("call-handling").prerequisites == ["call-centre-basics"]
        lesson = get_lesson("call-centre-basics", "01-what-is-a-call-centre")
        assert set(lesson.html) == {"zh-CN", "en"} and "<h1>什么是呼叫中心</h1>" in lesson.html["zh-CN"]
        assert lesson.title["en"] == "What is a call centre?"
        stamps = {c.slug: c.updated_at for c in db.session.scalars(select(Course))}
    again = sync_from(app, content_copy)
    mine = [line for line in again.lines if line.startswith("course")]  # other domains report too
    assert mine == ["courses: no changes (6 unchanged)"]
    with app.app_context():
        assert {c.slug: c.updated_at for c in db.session.scalars(select(Course))} == stamps


def test_editing_reordering_and_removing_lessons_keeps_every_learners_progress(app, content_copy, make_user):
    zhang, li = make_user("zhang", "learner"), make_user("li", "learner")
    sync_from(app, content_copy)
    slugs = ["01-what-is-a-call-centre", "02-roles-and-duties", "03-faq-and-escalation", "04-job-requirements"]
    with app.app_context():
        for slug in slugs:
            services.mark_lesson_done(zhang.id, get_lesson("call-centre-basics", slug))
        services.mark_lesson_done(li.id, get_lesson("call-centre-basics", slugs[3]))
        services.record_visit(li.id, get_lesson("call-centre-basics", slugs[1]))
        db.session.commit()
        ids_before = {slug: get_lesson("call-centre-basics", slug).id for slug in slugs}

    lessons = content_copy / "courses/call-centre-basics/lessons"
    first = lessons / f"{slugs[0]}.zh-CN.md"
    first.write_text(first.read_text(encoding="utf-8").replace("# 什么是呼叫中心", "# 什么是呼叫中心\n\n新增的一段说明。"),
                     encoding="utf-8")
    for language in ("zh-CN", "en"):  # swap the order of lessons 2 and 3
        for slug, old, new in ((slugs[1], "order: 2", "order: 3"), (slugs[2], "order: 3", "order: 2")):
            path = lessons / f"{slug}.{language}.md"
            path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
        (lessons / f"{slugs[3]}.{language}.md").unlink()

    report = sync_from(app, content_copy)
    # Lessons are reported in their new order.
    assert f"course call-centre-basics lessons: updated {slugs[0]}, {slugs[2]}, {slugs[1]}; retired {slugs[3]}" \
        in report.lines
    with app.app_context():
        assert {slug: get_lesson("call-centre-basics", slug).id for slug in slugs} == ids_before
        assert "新增的一段说明" in get_lesson("call-centre-basics", slugs[0]).html["zh-CN"]
        course = get_course("call-centre-basics")
        assert [lesson.slug for lesson in course.active_lessons] == [slugs[0], slugs[2], slugs[1]]
        gone = get_lesson("call-centre-basics", slugs[3])
        assert gone.retired and gone.retired_at is not None
        # The retired lesson's progress is kept as history; it no longer counts towards the course.
        assert db.session.scalar(select(LessonProgress).where(
            LessonProgress.user_id == zhang.id, LessonProgress.lesson_id == gone.id)).completed_at is not None
        assert services.course_progress(zhang.id, "call-centre-basics") == (3, 3)
        assert services.course_progress(li.id, "call-centre-basics") == (0, 3)
        assert db.session.scalar(select(LessonProgress).where(
            LessonProgress.user_id == li.id, LessonProgress.lesson_id == ids_before[slugs[1]])) is not None

    # Putting the lesson back un-retires the same row, with its progress.
    source = Path(app.config["CONTENT_ROOT"]) / "courses/call-centre-basics/lessons"
    for language in ("zh-CN", "en"):
        shutil.copy(source / f"{slugs[3]}.{language}.md", lessons)
    report = sync_from(app, content_copy)
    assert f"course call-centre-basics lessons: restored {slugs[3]}" in report.lines
    with app.app_context():
        back = get_lesson("call-centre-basics", slugs[3])
        assert back.id == ids_before[slugs[3]] and not back.retired and back.retired_at is None
        assert services.course_progress(zhang.id, "call-centre-basics") == (4, 4)
        assert services.course_progress(li.id, "call-centre-basics") == (1, 4)


def test_retiring_the_last_missing_lesson_completes_a_course_whose_quiz_was_passed(app, content_copy, make_user):
    from app.core import events
    zhang = make_user("zhang", "learner")
    sync_from(app, content_copy)
    with app.app_context():
        lessons = get_course("call-centre-basics").active_lessons
        for lesson in lessons[:-1]:
            services.mark_lesson_done(zhang.id, lesson)
        events.exam_attempt_graded.send(zhang.id, attempt_id=4, exam_slug="quiz-call-centre-basics",
                                        passed=True, score=75.0)
        db.session.commit()  # receivers flush into the sender's transaction; the sender commits
        assert services.completed_courses(zhang.id) == {}
        last = lessons[-1].slug
    for language in ("zh-CN", "en"):
        (content_copy / f"courses/call-centre-basics/lessons/{last}.{language}.md").unlink()
    sync_from(app, content_copy)
    with app.app_context():
        assert list(services.completed_courses(zhang.id)) == ["call-centre-basics"]


def test_a_removed_course_is_retired_with_its_completions_and_restored_when_it_comes_back(
        app, content_copy, make_user):
    from tests.support.courses import complete_course
    zhang = make_user("zhang", "learner")
    # An extra course nobody else refers to, so removing it needs no other edit.
    extra = content_copy / "courses/extra-practice"
    shutil.copytree(content_copy / "courses/call-centre-basics", extra)
    course_yaml = extra / "course.yaml"
    course_yaml.write_text(course_yaml.read_text(encoding="utf-8")
                           .replace("slug: call-centre-basics", "slug: extra-practice")
                           .replace("order: 1", "order: 7"), encoding="utf-8")
    sync_from(app, content_copy)
    complete_course(app, zhang.id, "extra-practice")
    moved = content_copy.parent / "extra-practice"
    shutil.move(extra, moved)

    report = sync_from(app, content_copy)
    assert "courses: retired extra-practice (6 unchanged)" in report.lines, report.lines
    with app.app_context():
        course = get_course("extra-practice")
        assert course.retired and course.retired_at is not None
        assert "extra-practice" not in [c.slug for c in services.active_courses()]
        assert "extra-practice" in services.completed_courses(zhang.id)  # the evidence survives

    shutil.move(moved, extra)
    report = sync_from(app, content_copy)
    assert "courses: restored extra-practice (6 unchanged)" in report.lines, report.lines
    with app.app_context():
        assert not get_course("extra-practice").retired and get_course("extra-practice").retired_at is None
        assert services.course_progress(zhang.id, "extra-practice") == (4, 4)


def test_a_sync_with_invalid_content_changes_nothing(app, content_copy):
    sync_from(app, content_copy)
    lesson = content_copy / "courses/call-centre-basics/lessons/01-what-is-a-call-centre.zh-CN.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("# 什么是呼叫中心", "# 改过的标题"), encoding="utf-8")
    shutil.rmtree(content_copy / "courses/emotion-management")
    _unknown_prerequisite(content_copy)
    with app.app_context(), pytest.raises(ContentValidationError):
        sync_content(content_copy)
    with app.app_context():
        assert "改过的标题" not in get_lesson("call-centre-basics", "01-what-is-a-call-centre").html["zh-CN"]
        assert not get_course("emotion-management").retired


def test_a_sync_that_fails_in_a_later_step_rolls_back_the_courses_too(app, content_copy, monkeypatch):
    sync_from(app, content_copy)
    path = content_copy / "courses/call-handling/course.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("zh-CN: 呼叫处理流程", "zh-CN: 新的标题"), encoding="utf-8")

    def failing_syncer(bundle, report):
        raise RuntimeError("a later domain failed")

    syncers = app.extensions["academy_syncers"] + [(999, "failing", failing_syncer)]
    monkeypatch.setitem(app.extensions, "academy_syncers", syncers)
    with app.app_context(), pytest.raises(RuntimeError):
        sync_content(content_copy)
    with app.app_context():
        assert get_course("call-handling").title["zh-CN"] == "呼叫处理流程"
        assert db.session.scalar(select(func.count()).select_from(Lesson)) == 24
