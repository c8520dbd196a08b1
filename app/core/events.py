"""Domain events, so one domain can react to another's without importing it.

Senders pass the user id as the sender and details as keyword arguments. The
certification domain listens to all of them to re-evaluate evidence; courses listen
to exam results to complete a course whose quiz was passed.
"""
from blinker import Namespace

_signals = Namespace()

# sender=user_id; attempt_id=, exam_slug=, passed=, score=
exam_attempt_graded = _signals.signal("exam-attempt-graded")
# sender=user_id; course_slug=, completed_at=
course_completed = _signals.signal("course-completed")
# sender=user_id; attempt_id=, scenario_slug=, passed=, score=
roleplay_attempt_graded = _signals.signal("roleplay-attempt-graded")
# sender=user_id; level=, signed_by=
signoff_changed = _signals.signal("signoff-changed")
# Evidence that arrived faster than a person could produce it (a lesson marked done before its
# minimum reading time, an exam submitted too fast, an impossible typing speed, a call answered
# too fast...). Any domain may send it; the certification domain stores it on the person's record.
# sender=user_id; kind= ("lesson" | "exam" | "listen_type" | "call" | ...), subject= (what: a slug,
# "course/lesson", "exam:question"), ref_id= (attempt id or None), seconds= (how long it took),
# minimum_seconds= (how long a person needs at least), detail= (optional dict, shown as is)
evidence_too_fast = _signals.signal("evidence-too-fast")
