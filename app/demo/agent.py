"""The demo's certified agent: `agent` earns 座席 on real evidence, through the other domains' own
services (lessons marked done, quizzes and the certification exam answered and graded, calls taken
and graded, a trainer's sign-off of each typed call), never by writing a certificate row.

The demo fast-forwards time: the evidence-too-fast checks (reading time, exam and call speed) are
off while it runs, and each listen-and-type answer is typed 20 seconds after its recording was
sent (well above the 50 characters per minute the ladder asks, far below the fastest typist).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from flask import current_app

from ..accounts.models import User

from ..certification import evidence_sources, operations, queries, requirements
from ..core.clock import utcnow
from ..core.access import Role
from ..accounts.services import create_user, find_user
from ..extensions import db

AGENT = ("agent", "座席 赵敏", "academy-agent")
AGENT_LEVEL = "agent"
TRAINER = "trainer"  # the demo trainer signs the typed calls off (never the agent themself)
SPEED_CHECKS = ("LESSON_MIN_READ_SHARE", "EXAM_MIN_SECONDS_PER_QUESTION", "CALL_MIN_SECONDS_PER_REPLY")
MAX_REPLIES = 20


@contextmanager
def _fast_forward():
    config = current_app.config
    saved = {key: config.get(key) for key in SPEED_CHECKS}
    config.update({key: 0 for key in SPEED_CHECKS})
    try:
        yield
    finally:
        config.update(saved)


def load_agent(cohort: str) -> list[str]:
    username, name, password = AGENT
    user = find_user(username)
    if user is None:
        user, _password = create_user(username, name, (Role.LEARNER,), cohort=cohort, password=password,
                                      must_change_password=False)
        db.session.commit()
    if _holds(user):
        return [f"{username}: holds 座席, unchanged"]
    version = requirements.current_version()
    if version is None:
        return [f"{username}: no certification rules loaded (sync the content first)"]
    spec = requirements.level_spec(requirements.spec_of(version), AGENT_LEVEL)
    report: list[str] = []
    with _fast_forward():
        for requirement in spec.requirements:
            if requirement.kind == "courses_completed":
                report.extend(_courses(user, requirement.courses))
            elif requirement.kind == "exam_passed":
                report.extend(_exam(user, requirement.exam))
            elif requirement.kind == "roleplay_passes":
                report.extend(_calls(user, requirement))
    operations.reevaluate(user.id)
    db.session.commit()
    if _holds(user):
        certificate = next(c for c in queries.certificates_of(user.id)
                           if c.level == AGENT_LEVEL and c.is_valid(utcnow()))
        report.append(f"{username}: 座席 certificate issued (verification code {certificate.code})")
    else:
        missing = [m for r in queries.status_report(user)["requirements"] for m in r["missing"]]
        report.append(f"{username}: 座席 not reached: " + "; ".join(missing))
    return report


def _holds(user: User) -> bool:
    now = utcnow()
    return any(c.level == AGENT_LEVEL and c.is_valid(now) for c in queries.certificates_of(user.id))


def _courses(user: User, slugs) -> list[str]:
    from ..courses import services as courses
    done = courses.completed_courses(user.id)
    lines = []
    for slug in slugs:
        if slug in done:
            continue
        course = courses.find_course(slug)
        if course is None:
            lines.append(f"agent: course {slug} not found")
            continue
        for lesson in course.active_lessons:
            courses.mark_lesson_done(user.id, lesson)
        if course.quiz_slug:
            pass_exam(user.id, course.quiz_slug)
        lines.append(f"agent: course {slug} completed")
    return lines


def _exam(user: User, slug: str) -> list[str]:
    from ..exams import services as exams
    best = exams.best_attempt(user.id, slug)
    if best is not None and best.passed:
        return []
    attempt = pass_exam(user.id, slug)
    return [f"agent: exam {slug} {attempt.score:g}%"]


def pass_exam(user_id: int, slug: str):
    """Answer every question of a new attempt correctly (the paper's own answer key) and submit it."""
    from ..exams import services as exams
    attempt = exams.start_attempt(user_id, slug)
    for entry in attempt.paper:
        if entry["type"] == "listen_type":
            exams.listen_audio(attempt, entry["id"])
            # Typing took 20 seconds since the recording was sent: well above 50 characters per
            # minute for these lines, well below the fastest a person types.
            attempt.answer_for(entry["id"]).audio_served_at = utcnow() - timedelta(seconds=20)
            db.session.commit()
    exams.submit_attempt(attempt, {entry["id"]: perfect_answer(entry) for entry in attempt.paper})
    return attempt


def perfect_answer(entry: dict):
    """The full-marks answer to a drawn question, from the paper's own answer key."""
    kind = entry["type"]
    if kind == "single":
        return next(o["id"] for o in entry["options"] if o.get("correct"))
    if kind == "multiple":
        return [o["id"] for o in entry["options"] if o.get("correct")]
    if kind == "true_false":
        return entry["answer"]
    if kind == "ordering":
        return [item["id"] for item in entry["items"]]
    if kind == "listen_type":
        return entry["text"]
    if kind == "phrase_rewrite":
        parts = []
        for item in entry["rubric"]:
            if item["kind"] == "forbidden":
                continue
            if item.get("phrases"):
                parts.append(item["phrases"][0])
            elif item.get("elements"):
                parts.append("".join(group[0] for group in item["elements"]))
        return "，".join(parts) + "。"
    return None


def _calls(user: User, requirement) -> list[str]:
    """Typed calls answered with each moment's model reply, signed off by the demo trainer: they stand
    in for voice passes only where this server cannot grade the call's language by voice."""
    from ..roleplays import queries as roleplay_queries
    trainer = find_user(TRAINER)
    if trainer is None:
        return [f"agent: no `{TRAINER}` account to sign the typed calls off"]
    voice = evidence_sources.voice_languages() or frozenset()
    if not (requirement.voice_only and requirement.voice_substitute == "typed_signoff"):
        return ["agent: the rules ask for voice calls; the demo cannot speak them"]
    scenarios = [row for row in roleplay_queries.library()
                 if row.current_version.difficulty >= requirement.min_difficulty
                 and row.current_version.language not in voice]
    if not scenarios:
        return ["agent: every scenario's language is graded by voice here; the demo cannot speak the calls"]
    counted = _signed_off_passes(user, requirement)
    lines = []
    for scenario in scenarios * 2:
        if counted >= requirement.count:
            break
        attempt = _typed_call(user.id, scenario.slug)
        if attempt is None or not attempt.passed:
            continue
        operations.sign_off_call(trainer, attempt.id, "演示：文字通话，培训师已核对")
        counted += 1
        lines.append(f"agent: typed call {scenario.slug} {attempt.score:g}%, signed off by {trainer.username}")
    return lines


def _signed_off_passes(user: User, requirement) -> int:
    now = utcnow()
    evidence = evidence_sources.gather_evidence(user.id, requirements.spec_of(requirements.current_version()), now)
    return sum(1 for r in evidence.roleplays
               if r.passed and r.mode != "voice" and evidence.call_signoff(r.attempt_id, now) is not None)


def _typed_call(user_id: int, slug: str):
    from grading.pipeline import model_reply
    from ..roleplays import grader as roleplay_grader
    from ..roleplays import operations as roleplay_operations
    from ..roleplays import queries as roleplay_queries
    from ..roleplays.models import ENDED
    attempt = roleplay_operations.start_attempt(user_id, slug, "typed")
    roleplay_operations.answer_call(attempt, rings=1)
    for _ in range(MAX_REPLIES):
        db.session.refresh(attempt)
        if attempt.status == ENDED:
            break
        doc = roleplay_queries.doc_of(attempt)
        text = model_reply(doc.nodes[attempt.node_id].rubric, doc.language)
        turn = roleplay_operations.submit_typed(attempt, text)
        roleplay_grader.grade_turn(turn.id)
    db.session.refresh(attempt)
    if attempt.status != ENDED:
        roleplay_operations.abandon(attempt)
        return None
    return attempt
