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

# --- events the notifications domain turns into notices (app/notifications) ------------------
# A trainer finished reviewing a learner's call. sender=learner's user_id; attempt_id=,
# reviewer_id=, reviewer_name=, scenario= (its title: {"zh-CN": …, "en": …}), comment= (the trainer's
# override comments, or None)
review_completed = _signals.signal("review-completed")
# Someone asked for a trainer's look at a call. sender=the call's learner id; attempt_id=,
# flagged_by= (user id), reason= (or None), scenario= (its title: {"zh-CN": …, "en": …})
call_flagged = _signals.signal("call-flagged")
# Work was assigned. sender=the trainer's user_id; assignment_id=, user_ids= (the learners it reaches),
# titles= ({"zh-CN": …, "en": …}), due_date= (a date), note= (the trainer's note or None)
assignment_created = _signals.signal("assignment-created")
# A certification decision was recorded. sender=the holder's user_id; action= ("issued",
# "held_for_approval", "approved", "expired", …: the audit log's action), certificate_id=, level=,
# level_names= ({"zh-CN": …, "en": …})
certificate_decided = _signals.signal("certificate-decided")
# Time passed (`flask notifications sweep`, from cron). sender=None; now= (naive UTC datetime),
# expiring_days= (how far ahead an ending certificate is announced).
# Domains with time-based states answer by sending the events below; receivers must be idempotent.
sweep_due = _signals.signal("sweep-due")
# sender=learner's user_id; assignment_id=, state= ("due_tomorrow" | "overdue"), titles=, due_date=
assignment_due = _signals.signal("assignment-due")
# sender=holder's user_id; certificate_id=, state= ("expiring" | "expired"), level_names=, expires_at=
certificate_expiry = _signals.signal("certificate-expiry")
