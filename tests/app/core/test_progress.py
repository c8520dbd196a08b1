"""app.core.progress: each domain's batched source says what its own per-learner queries say."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.core import progress
from app.courses import services as courses
from app.exams import services as exams
from app.exams.models import ExamAttempt
from app.extensions import db
from app.roleplays.models import ENDED, Attempt
from tests.support.team import complete_courses, drill, exam_attempt


def test_sources_agree_with_the_domains_own_queries_and_skip_practice(app, content, make_user):
    li, wang, empty = (make_user(name, "learner") for name in ("li", "wang", "nobody"))
    earlier = utcnow() - timedelta(days=3)
    with app.app_context():
        complete_courses(li.id, 3, earlier)
        exam_attempt(li.id, "quiz", 70, earlier)
        exam_attempt(li.id, "quiz", 95)
        exam_attempt(li.id, "quiz", 95)  # equal score later: the earlier attempt stays the best
        exam_attempt(wang.id, "certification", 55)
        drill(li.id, 90, mode="voice", at=earlier)
        drill(li.id, 80, mode="typed")
        drill(wang.id, 40, mode="voice")  # failed
        # A trainer's practice attempts (where the models carry the flag) count nowhere.
        practice_exam = exam_attempt(wang.id, "quiz", 100)
        practice_call = drill(wang.id, 99, mode="voice")
        if hasattr(ExamAttempt, "practice"):
            db.session.get(ExamAttempt, practice_exam).practice = True
            db.session.get(Attempt, practice_call).practice = True
        else:
            db.session.delete(db.session.get(ExamAttempt, practice_exam))
            db.session.delete(db.session.get(Attempt, practice_call))
        db.session.commit()

        ids = [li.id, wang.id, empty.id]
        course = progress.course_progress(ids)
        exam = progress.exam_progress(ids)
        calls = progress.drill_progress(ids)
        assert set(course) == set(exam) == set(calls) == set(ids)
        for user_id in ids:
            assert dict(course[user_id].completed) == courses.completed_courses(user_id)
            for slug, best in exam[user_id].best.items():
                assert best.attempt_id == exams.best_attempt(user_id, slug).id
            voice = db.session.scalars(select(Attempt.id).where(
                Attempt.user_id == user_id, Attempt.status == ENDED, Attempt.passed.is_(True),
                Attempt.mode == "voice", Attempt.practice.is_(False)).order_by(Attempt.finished_at, Attempt.id)).all()
            assert [c.attempt_id for c in calls[user_id].passes if c.mode == "voice"] == voice
        assert exam[li.id].best_of_kind("quiz").score == 95 and exam[li.id].best_of_kind("certification") is None
        assert calls[li.id].best.score == 90 and (calls[li.id].voice_passes, calls[li.id].typed_passes) == (1, 1)
        assert course[li.id].last_activity is not None and len(course[li.id].titles) == 3
        # wang: the practice runs are not there; the failed call is their best, and no pass.
        assert exam[wang.id].best_of_kind("quiz") is None
        assert calls[wang.id].best.score == 40 and calls[wang.id].passes == ()
        # Someone with no evidence at all gets the empty value of each type.
        assert course[empty.id] == progress.CourseProgress() and exam[empty.id] == progress.ExamProgress()
        assert calls[empty.id] == progress.DrillProgress()
        assert progress.last_activity(None, None) is None
