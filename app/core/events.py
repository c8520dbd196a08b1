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
