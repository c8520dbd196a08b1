"""Exam operations: loading exams from content, running attempts, grading, statistics.

Time is the server's: an attempt's deadline is fixed when it starts, saves after it are
refused, and an attempt past it is closed with what was saved, lazily whenever it is
touched and by ``flask exams close-expired``.

Listen-and-type speed is the server's too: the typing clock starts when the server first sends
the attempt the question's audio, an answer no person could have typed by the time it arrives is
refused (and reported with ``app.core.events.evidence_too_fast``), and the time graded is never
shorter than the recording. An exam submitted faster than EXAM_MIN_SECONDS_PER_QUESTION per
answered question is reported the same way.

Other domains call: start_attempt, best_attempt, passed_attempts, listen_type_results.
"""
from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import soundfile
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from content_schema import ContentBundle, ContentError, ContentValidationError
from grading.exam import normalise
from grading.scoring import is_passed, percent
from speech import SpeechError, synthesize

from ..core.clock import utcnow
from ..core.errors import UserError
from ..content.services import SyncReport
from ..core.events import evidence_too_fast, exam_attempt_graded
from ..extensions import db
from . import paper, stats
from .models import (
    CLOSED_EXPIRED,
    CLOSED_SUBMITTED,
    GRADED,
    IN_PROGRESS,
    Exam,
    ExamAnswer,
    ExamAttempt,
    ExamQuestion,
)

# A save sent in the last second arrives a moment after the deadline; it still counts.
SAVE_GRACE = timedelta(seconds=5)


class ExamError(UserError):
    """A user-facing refusal; str() is a translated message."""

    code = "exam_refused"
    status = 400


class ExamNotFound(ExamError):
    code = "exam_not_found"
    status = 404


class AttemptNotFound(ExamError):
    code = "attempt_not_found"
    status = 404


class ExamUnavailable(ExamError):
    """No attempts left, or the cooldown has not passed."""

    code = "exam_unavailable"
    status = 409


class InvalidAnswer(ExamError):
    """A response that does not fit its question (unknown option, not a permutation…): only a
    tampered or outdated page sends one."""

    code = "invalid"  # exams.js tells this 400 from a refused CSRF token by its code
    status = 400
    default_message = _l("This answer does not fit the question.")


class TypingRefused(ExamError):
    """A listen-and-type answer that was not saved: its audio was never sent, or no person could
    have typed it in the time since."""

    code = "too_fast"
    status = 422


class AttemptClosed(ExamError):
    """A save or play on an attempt that is already graded (or just closed by its time limit).

    ``code`` is "time_up" when its time limit closed it, else "closed"; exams.js closes the page on
    either (status 409) and links the result."""

    code = "closed"
    status = 409

    def __init__(self, attempt: ExamAttempt, expired: bool):
        self.attempt_id = attempt.id
        self.expired = expired
        super().__init__(
            _l("Time is up: this answer arrived after the time limit and was not saved. "
               "Your attempt was closed with the answers saved before.") if expired
            else _l("This attempt has already been submitted; answers can no longer be changed."),
            code="time_up" if expired else "closed")

    def json_fields(self) -> dict:
        return {"result_url": url_for("exams.result", attempt_id=self.attempt_id)}


# --- content sync ---------------------------------------------------------------------

def sync_exams(bundle: ContentBundle, report: SyncReport) -> None:
    """Load bundle.exams by slug; questions by (exam, id). Changed questions get a new
    version; removed exams and questions are retired, never deleted (attempts refer to them).
    Only file-sourced exams are retired; a file may not take a web-authored bank's slug."""
    cache_dir = Path(current_app.config["AUDIO_CACHE_DIR"])
    existing = {exam.slug: exam for exam in db.session.scalars(select(Exam))}
    taken = [ContentError(item.source_file, None,
                          f'slug "{slug}" is already used by a question bank authored in the browser '
                          "(expected another slug: slugs are permanent)", ("slug",))
             for slug, item in bundle.exams.items() if slug in existing and existing[slug].source != "file"]
    if taken:
        raise ContentValidationError(taken)
    positions = _listing_order(bundle)
    counts = dict.fromkeys(("exams new", "exams changed", "exams retired",
                            "questions new", "questions changed", "questions retired"), 0)
    for slug, item in bundle.exams.items():
        exam = existing.get(slug)
        if exam is None:
            exam = Exam(slug=slug, source="file")
            db.session.add(exam)
        _apply_exam(exam, item, positions.get(slug, len(positions)), counts, cache_dir)
    for slug, exam in existing.items():
        if exam.source == "file" and slug not in bundle.exams and not exam.retired:
            exam.retired = True
            counts["exams retired"] += 1
    db.session.flush()
    report.note("exams: " + ", ".join(f"{count} {what}" for what, count in counts.items()))


def _apply_exam(exam: Exam, item, position: int, counts: dict[str, int], cache_dir: Path) -> None:
    """Write one validated exam (content_schema.Exam) onto its row and questions: the one code path
    for the content sync and publish_exam."""
    spec = item.spec
    if exam.id is None:
        counts["exams new"] += 1
    elif exam.checksum != item.checksum or exam.retired:
        counts["exams changed"] += 1
    exam.kind = spec.kind
    exam.position = position
    exam.title = dict(spec.title)
    exam.description = dict(spec.description) if spec.description else None
    exam.pass_mark = spec.pass_mark
    exam.time_limit_minutes = spec.time_limit_minutes
    exam.draw = [rule.model_dump(mode="json") for rule in spec.draw] if spec.draw else None
    exam.shuffle_questions = spec.shuffle_questions
    exam.shuffle_options = spec.shuffle_options
    exam.attempts_allowed = spec.attempts_allowed
    exam.cooldown_minutes = spec.cooldown_minutes
    exam.show_answers = spec.show_answers
    exam.source_file = item.source_file
    exam.checksum = item.checksum
    exam.retired = False
    exam.synced_at = utcnow()

    rows = {question.question_id: question for question in exam.questions}
    for index, question in enumerate(spec.questions):
        data = paper.question_data(question, item.rubrics.get(question.id, ()), item.rules.get(question.id, ()))
        checksum = paper.question_checksum(data)
        if question.type == "listen_type":
            data["audio"] = _synthesize_listen(item, question, cache_dir)
        row = rows.get(question.id)
        if row is None:
            row = ExamQuestion(question_id=question.id, version=1, checksum=checksum)
            exam.questions.append(row)
            counts["questions new"] += 1
        elif row.checksum != checksum or row.retired:
            if row.checksum != checksum:
                row.version += 1
                row.checksum = checksum
            counts["questions changed"] += 1
        row.type = question.type
        row.tags = list(question.tags)
        row.points = question.points
        row.position = index
        row.data = data
        row.retired = False
    authored = {question.id for question in spec.questions}
    for question_id, row in rows.items():
        if question_id not in authored and not row.retired:
            row.retired = True
            counts["questions retired"] += 1


# Web-authored banks are listed after the shipped exams.
WEB_POSITION = 1000


def publish_exam(slug: str, spec_yaml_text: str, *, source: str = "web") -> Exam:
    """Validate one exam written in the exams/<slug>.yaml format and load it like the content sync
    does: changed questions get a new version (attempts keep their own copy), removed ones are
    retired, a retired exam is restored. Web banks must be kind: quiz. Raises ContentValidationError
    (errors with line and path) and stores nothing when invalid. The caller commits."""
    from content_schema import load_library, validate_exam_text
    filename = f"exams/{slug}.yaml"
    root = Path(current_app.config["CONTENT_ROOT"])
    item = validate_exam_text(spec_yaml_text, library=load_library(root), filename=filename)
    if source != "file" and item.spec.kind != "quiz":
        raise ContentValidationError([ContentError(
            filename, None, f"kind: {item.spec.kind} is not allowed here (expected kind: quiz)", ("kind",))])
    exam = db.session.scalar(select(Exam).where(Exam.slug == slug))
    owner = exam.source if exam is not None else None
    if owner is None and source != "file" and (root / filename).exists():
        owner = "file"
    if owner is not None and owner != source:
        raise ContentValidationError([ContentError(
            filename, None, f'slug "{slug}" belongs to a {owner} exam (expected a slug of your own)', ("slug",))])
    counts: dict[str, int] = dict.fromkeys(("exams new", "exams changed", "questions new", "questions changed",
                                            "questions retired"), 0)
    if exam is None:
        exam = Exam(slug=slug, source=source)
        db.session.add(exam)
    _apply_exam(exam, item, WEB_POSITION, counts, Path(current_app.config["AUDIO_CACHE_DIR"]))
    db.session.flush()
    return exam


def retire_exam(slug: str, *, source: str = "web") -> Exam | None:
    """Withdraw an exam of `source` (attempts stay). The caller commits."""
    exam = db.session.scalar(select(Exam).where(Exam.slug == slug, Exam.source == source))
    if exam is not None and not exam.retired:
        exam.retired = True
        db.session.flush()
    return exam


def _listing_order(bundle: ContentBundle) -> dict[str, int]:
    """Certification exams in ladder order, course quizzes in catalog order."""
    slugs = [requirement.exam for level in bundle.certification.spec.levels
             for requirement in level.requirements if requirement.kind == "exam_passed"]
    slugs += [course.spec.quiz for course in bundle.courses.values()]
    order: dict[str, int] = {}
    for slug in slugs:
        order.setdefault(slug, len(order))
    return order


def _synthesize_listen(item, question, cache_dir: Path) -> str:
    try:
        result = synthesize(question.text, question.language, cache_dir=cache_dir)
    except (SpeechError, ValueError) as exc:
        raise ContentValidationError([ContentError(
            item.source_file, None,
            f'exam "{item.slug}", question "{question.id}": text-to-speech failed, '
            f"so the listen-and-type audio cannot be made: {exc}")]) from exc
    return result.path.name


# --- looking things up ----------------------------------------------------------------

def active_exams() -> list[Exam]:
    return list(db.session.scalars(select(Exam).where(Exam.retired.is_(False))
                                .order_by(Exam.kind, Exam.position, Exam.slug)))


def get_exam(slug: str) -> Exam:
    exam = db.session.scalar(select(Exam).where(Exam.slug == slug, Exam.retired.is_(False)))
    if exam is None:
        raise ExamNotFound(_l("There is no such exam."))
    return exam


def get_attempt(attempt_id: int, user_id: int | None = None) -> ExamAttempt:
    """The attempt; with user_id, only if it is that learner's (anyone else's is "not found")."""
    attempt = db.session.get(ExamAttempt, attempt_id)
    if attempt is None or (user_id is not None and attempt.user_id != user_id):
        raise AttemptNotFound(_l("There is no such attempt."))
    return attempt


def attempts_of(user_id: int, exam_slug: str, *, practice: bool = False) -> list[ExamAttempt]:
    """The person's attempts at the exam; a trainer's practice attempts are a list of their own."""
    return list(db.session.scalars(
        select(ExamAttempt).where(ExamAttempt.user_id == user_id, ExamAttempt.exam_slug == exam_slug,
                                  ExamAttempt.practice.is_(practice))
        .order_by(ExamAttempt.number)))


def best_attempt(user_id: int, exam_slug: str) -> ExamAttempt | None:
    """The learner's highest-scoring graded attempt (the earliest of equal ones)."""
    return db.session.scalar(
        select(ExamAttempt).where(ExamAttempt.user_id == user_id, ExamAttempt.exam_slug == exam_slug,
                                  ExamAttempt.status == GRADED, ExamAttempt.practice.is_(False))
        .order_by(ExamAttempt.score.desc(), ExamAttempt.graded_at, ExamAttempt.id).limit(1))


def passed_attempts(user_id: int, exam_slug: str) -> list[ExamAttempt]:
    """Graded attempts that passed, oldest first."""
    return list(db.session.scalars(
        select(ExamAttempt).where(ExamAttempt.user_id == user_id, ExamAttempt.exam_slug == exam_slug,
                                  ExamAttempt.status == GRADED, ExamAttempt.passed.is_(True),
                                  ExamAttempt.practice.is_(False))
        .order_by(ExamAttempt.graded_at, ExamAttempt.id)))


class ListenTypeResult(NamedTuple):
    attempt_id: int
    question_id: str
    accuracy: float
    cpm: float
    graded_at: datetime


def listen_type_results(user_id: int) -> list[ListenTypeResult]:
    """Every graded listen-and-type answer of the learner, oldest first."""
    rows = db.session.execute(
        select(ExamAnswer.attempt_id, ExamAnswer.question_id, ExamAnswer.accuracy, ExamAnswer.cpm,
               ExamAttempt.graded_at)
        .join(ExamAttempt, ExamAnswer.attempt_id == ExamAttempt.id)
        .where(ExamAttempt.user_id == user_id, ExamAttempt.status == GRADED, ExamAttempt.practice.is_(False),
               ExamAnswer.question_type == "listen_type")
        .order_by(ExamAttempt.graded_at, ExamAnswer.attempt_id, ExamAnswer.position))
    return [ListenTypeResult(a, q, accuracy or 0.0, cpm or 0.0, at) for a, q, accuracy, cpm, at in rows]


# --- a learner's standing on an exam -------------------------------------------------

@dataclass
class ExamStatus:
    exam: Exam
    attempts: list[ExamAttempt]
    best: ExamAttempt | None
    open_attempt: ExamAttempt | None
    attempts_left: int | None  # None: unlimited
    cooldown_until: datetime | None

    @property
    def attempts_used(self) -> int:
        return len(self.attempts)

    @property
    def passed(self) -> bool:
        return bool(self.best and self.best.passed)

    @property
    def cooldown_remaining(self) -> timedelta | None:
        return self.cooldown_until - utcnow() if self.cooldown_until else None

    @property
    def can_start(self) -> bool:
        return self.open_attempt is not None or (self.attempts_left != 0 and self.cooldown_until is None)


def exam_status(user_id: int, exam: Exam) -> ExamStatus:
    """Attempts, best score, attempts left and cooldown. Read-only: an attempt whose time ran out is
    not open any more, though it is graded only by a POST (start_attempt, submit) or the command."""
    attempts = attempts_of(user_id, exam.slug)
    open_attempt = next((a for a in attempts if a.is_open and not time_is_up(a)), None)
    graded = [a for a in attempts if a.status == GRADED]
    best = max(graded, key=lambda a: (a.score or 0.0, -a.id), default=None)
    attempts_left = None if exam.attempts_allowed == 0 else max(0, exam.attempts_allowed - len(attempts))
    cooldown_until = None
    # An attempt whose time ran out ended at its deadline, graded or not yet: the cooldown runs from
    # there, so the page never offers a start that the POST would then refuse.
    ends = [a.closed_at or a.graded_at for a in graded] + [a.deadline for a in attempts if time_is_up(a)]
    if ends and exam.cooldown_minutes:
        last_end = max(ends)
        until = last_end + timedelta(minutes=exam.cooldown_minutes)
        if until > utcnow():
            cooldown_until = until
    return ExamStatus(exam, attempts, best, open_attempt, attempts_left, cooldown_until)


# --- attempts -------------------------------------------------------------------------

def start_attempt(user_id: int, slug: str, rng: random.Random | None = None, *,
                  practice: bool = False) -> ExamAttempt:
    """Open a new attempt (or return the one already open): draws and orders the questions
    and copies them into the attempt. Raises ExamNotFound or ExamUnavailable.

    practice: a trainer trying the exam; no attempt limit or cooldown, and the attempt counts in no
    statistics, evidence or flags."""
    exam = get_exam(slug)
    if practice:
        return _start_practice(user_id, exam, rng)
    for attempt in attempts_of(user_id, exam.slug):
        close_if_expired(attempt)  # graded now, so its score and cooldown count below
    status = exam_status(user_id, exam)
    if status.open_attempt is not None:
        return status.open_attempt
    if status.attempts_left == 0:
        raise ExamUnavailable(_l("You have used all %(n)d attempts at this exam.", n=exam.attempts_allowed))
    if status.cooldown_until is not None:
        minutes = max(1, -(-int(status.cooldown_remaining.total_seconds()) // 60))
        raise ExamUnavailable(_l("You can try again in %(minutes)d minutes.", minutes=minutes))

    return _open_attempt(user_id, exam, rng, number=_next_number(user_id, exam), practice=False)


def _next_number(user_id: int, exam: Exam) -> int:
    """Numbers are unique per person and exam, practice attempts included."""
    highest = db.session.scalar(select(func.max(ExamAttempt.number)).where(
        ExamAttempt.user_id == user_id, ExamAttempt.exam_slug == exam.slug))
    return (highest or 0) + 1


def _start_practice(user_id: int, exam: Exam, rng: random.Random | None) -> ExamAttempt:
    open_practice = next((a for a in attempts_of(user_id, exam.slug, practice=True) if a.is_open), None)
    if open_practice is not None and not close_if_expired(open_practice):
        return open_practice
    return _open_attempt(user_id, exam, rng, number=_next_number(user_id, exam), practice=True)


def _open_attempt(user_id: int, exam: Exam, rng: random.Random | None, *, number: int,
                  practice: bool) -> ExamAttempt:
    rng = rng or random.SystemRandom()
    questions = {question.question_id: question for question in exam.active_questions}
    drawn = paper.draw([(q.question_id, q.tags) for q in questions.values()], exam.draw, rng)
    if exam.shuffle_questions:
        rng.shuffle(drawn)
    entries = [
        paper.paper_entry(questions[qid].data, questions[qid].version,
                          paper.display_order(questions[qid].data, exam.shuffle_options, rng))
        for qid in drawn
    ]
    now = utcnow()
    attempt = ExamAttempt(
        user_id=user_id, exam_id=exam.id, exam_slug=exam.slug, exam_kind=exam.kind,
        number=number, practice=practice, status=IN_PROGRESS, started_at=now,
        deadline=now + timedelta(minutes=exam.time_limit_minutes),
        pass_mark=exam.pass_mark, show_answers=exam.show_answers, paper=entries,
        answers=[ExamAnswer(question_id=entry["id"], question_type=entry["type"],
                            question_version=entry["version"], position=position, response=None)
                 for position, entry in enumerate(entries)],
    )
    db.session.add(attempt)
    try:
        db.session.commit()
    except IntegrityError:
        # Another request opened this attempt number a moment ago: continue that one.
        db.session.rollback()
        opened = exam_status(user_id, exam).open_attempt if not practice else None
        if opened is None:
            raise
        return opened
    return attempt


def paper_entry(attempt: ExamAttempt, question_id: str) -> dict[str, Any]:
    entry = next((entry for entry in attempt.paper if entry["id"] == question_id), None)
    if entry is None:
        raise AttemptNotFound(_l("There is no such question in this attempt."))
    return entry


def seconds_left(attempt: ExamAttempt) -> int:
    return max(0, int((attempt.deadline - utcnow()).total_seconds()))


def _hold_open(attempt: ExamAttempt, now: datetime) -> bool:
    """Stamp the attempt if it is still open and in time, in the same statement that checks
    it, so a concurrent submit waits for this save instead of grading around it."""
    result = db.session.execute(
        update(ExamAttempt)
        .where(ExamAttempt.id == attempt.id, ExamAttempt.status == IN_PROGRESS,
               ExamAttempt.deadline >= now - SAVE_GRACE)
        .values(last_saved_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _refuse_closed(attempt: ExamAttempt) -> AttemptClosed:
    db.session.rollback()
    db.session.refresh(attempt)
    expired = attempt.is_open  # open but refused: its time is up
    if expired:
        finish_attempt(attempt, CLOSED_EXPIRED)
    else:
        expired = attempt.closed_reason == CLOSED_EXPIRED
    return AttemptClosed(attempt, expired)


def save_answer(attempt: ExamAttempt, question_id: str, raw: Any = None, *, flagged: bool | None = None,
                has_response: bool = True) -> ExamAnswer:
    """Save one response (autosave), and/or its "flag for review" mark. Raises AttemptClosed after
    the deadline or submission, InvalidAnswer for a response that does not fit the question."""
    paper_entry(attempt, question_id)
    responses = {question_id: raw} if has_response else {}
    flags = {question_id: flagged} if flagged is not None else None
    save_answers(attempt, responses, flags)
    return attempt.answer_for(question_id)


def save_answers(attempt: ExamAttempt, raw_responses: Mapping[str, Any],
                 flags: Mapping[str, bool] | None = None) -> list[ExamAnswer]:
    try:
        cleaned = {qid: paper.clean_response(paper_entry(attempt, qid), raw) for qid, raw in raw_responses.items()}
    except paper.InvalidResponse as exc:
        raise InvalidAnswer() from exc
    flags = {qid: bool(value) for qid, value in (flags or {}).items() if paper_entry(attempt, qid)}
    now = utcnow()
    if not _hold_open(attempt, now):
        raise _refuse_closed(attempt)
    saved = []
    refused: TypingRefused | None = None
    for qid, value in flags.items():
        attempt.answer_for(qid).flagged = value  # a mark, not an answer: answered_at stays
    for qid, response in cleaned.items():
        answer = attempt.answer_for(qid)
        if answer.response != response:
            entry = paper_entry(attempt, qid)
            problem = _typing_problem(attempt, entry, answer, response, now) \
                if entry["type"] == "listen_type" else None
            if problem is not None:
                refused = refused or problem
                continue  # not saved; the other answers of the same request still are
            answer.response = response
            answer.answered_at = now  # only a change moves it: it ends the typing time
        saved.append(answer)
    db.session.commit()
    if refused is not None:
        raise refused
    return saved


def max_cpm(language: str) -> float:
    """Characters per minute beyond which nobody types what they hear (LISTEN_TYPE_MAX_CPM)."""
    limits = current_app.config["LISTEN_TYPE_MAX_CPM"]
    return float(limits.get(language, limits.get("*", 600.0)))


def _typing_problem(attempt: ExamAttempt, entry: Mapping[str, Any], answer: ExamAnswer, response: Any,
                    now: datetime) -> TypingRefused | None:
    """Why this listen-and-type answer cannot be saved now, or None. An impossible speed is also
    reported as evidence that arrived too fast (the caller commits)."""
    characters = len(normalise(response or "", entry["language"]))
    if not characters:
        return None
    if answer.audio_served_at is None:
        return TypingRefused(_l("Play the recording first: your typing time starts when the recording "
                                "is sent to you. This answer was not saved."))
    seconds = (now - answer.audio_served_at).total_seconds()
    limit = max_cpm(entry["language"])
    if seconds > 0 and characters * 60.0 / seconds <= limit:
        return None
    evidence_too_fast.send(attempt.user_id, kind="listen_type", subject=f"{attempt.exam_slug}:{entry['id']}",
                           ref_id=attempt.id, seconds=max(0.0, seconds), minimum_seconds=characters * 60.0 / limit,
                           detail={"characters": characters, "max_cpm": limit})
    return TypingRefused(_l("This answer was not saved: %(n)d characters %(seconds)d seconds after the recording "
                            "was sent is faster than anyone types (more than %(limit)d characters per minute). "
                            "Listen, then type what you hear.",
                            n=characters, seconds=int(max(0.0, seconds)), limit=int(limit)))


@functools.lru_cache(maxsize=512)
def _wav_seconds(path: str) -> float:
    # Audio files are content-addressed (named by a hash of the text and voice): a name's
    # length never changes, so it is read once per process.
    try:
        return float(soundfile.info(path).duration)
    except (RuntimeError, OSError):
        return 0.0


def audio_seconds(entry: Mapping[str, Any]) -> float:
    """How long the question's recording plays; 0 when the file is missing."""
    if not entry.get("audio"):
        return 0.0
    return _wav_seconds(str(Path(current_app.config["AUDIO_CACHE_DIR"]) / entry["audio"]))


def listen_audio(attempt: ExamAttempt, question_id: str) -> Path:
    """The question's recording for this attempt. The first time it is sent to an open attempt
    starts the question's typing clock (server time); later requests (replays, Range requests)
    change nothing. Raises AttemptNotFound for a question without audio."""
    entry = paper_entry(attempt, question_id)
    path = Path(current_app.config["AUDIO_CACHE_DIR"]) / (entry.get("audio") or "")
    if entry["type"] != "listen_type" or not entry.get("audio") or not path.is_file():
        raise AttemptNotFound(_l("There is no such question in this attempt."))
    if attempt.is_open:
        answer = attempt.answer_for(question_id)
        # Conditional, so the browser's parallel Range requests cannot move the first time.
        db.session.execute(
            update(ExamAnswer).where(ExamAnswer.id == answer.id, ExamAnswer.audio_served_at.is_(None))
            .values(audio_served_at=utcnow()).execution_options(synchronize_session=False))
        db.session.commit()
    return path


def submit_attempt(attempt: ExamAttempt, raw_responses: Mapping[str, Any] | None = None,
                   flags: Mapping[str, bool] | None = None) -> ExamAttempt:
    """Save the last responses (if still in time) and grade. Submitting again changes
    nothing and returns the same result."""
    if not attempt.is_open or close_if_expired(attempt):
        return attempt
    if raw_responses or flags:
        try:
            save_answers(attempt, raw_responses or {}, flags)
        except AttemptClosed:
            return attempt  # closed meanwhile (time limit or another submit): already graded
    finish_attempt(attempt, CLOSED_SUBMITTED)
    return attempt


def time_is_up(attempt: ExamAttempt) -> bool:
    """The attempt is still stored as open but its time (and the grace for a last save) ran out."""
    return attempt.is_open and utcnow() > attempt.deadline + SAVE_GRACE


def close_if_expired(attempt: ExamAttempt) -> bool:
    """Close and grade an attempt whose time ran out (write paths and the command, never a GET)."""
    if time_is_up(attempt):
        return finish_attempt(attempt, CLOSED_EXPIRED)
    return False


def close_expired() -> int:
    """Close and grade every attempt past its time limit; returns how many."""
    cutoff = utcnow() - SAVE_GRACE
    expired = list(db.session.scalars(
        select(ExamAttempt).where(ExamAttempt.status == IN_PROGRESS, ExamAttempt.deadline < cutoff)))
    return sum(1 for attempt in expired if finish_attempt(attempt, CLOSED_EXPIRED))


def finish_attempt(attempt: ExamAttempt, reason: str) -> bool:
    """Close and grade the attempt; False if someone else already did. The status flip is
    one conditional UPDATE, so however many requests race, exactly one grades and signals."""
    now = utcnow()
    # Time ran out at the deadline, whenever the attempt is graded (a POST or cron, later): the
    # cooldown and the attempt's length run to there.
    closed_at = min(now, attempt.deadline) if reason == CLOSED_EXPIRED else now
    claimed = db.session.execute(
        update(ExamAttempt).where(ExamAttempt.id == attempt.id, ExamAttempt.status == IN_PROGRESS)
        .values(status=GRADED, closed_at=closed_at, closed_reason=reason)
        .execution_options(synchronize_session=False)).rowcount == 1
    if not claimed:
        db.session.rollback()
        db.session.refresh(attempt)
        return False
    db.session.refresh(attempt)
    _grade(attempt, now)
    db.session.commit()
    if attempt.practice:
        return True  # a trainer's practice attempt: nobody's evidence, no statistics, no flags
    exam_attempt_graded.send(attempt.user_id, attempt_id=attempt.id, exam_slug=attempt.exam_slug,
                             passed=attempt.passed, score=attempt.score)
    if reason == CLOSED_SUBMITTED:
        _report_if_too_fast(attempt)
    db.session.commit()  # whatever the listeners recorded
    return True


def _report_if_too_fast(attempt: ExamAttempt) -> None:
    """Report an attempt submitted faster than a person reads and answers its questions."""
    per_question = float(current_app.config.get("EXAM_MIN_SECONDS_PER_QUESTION") or 0)
    answered = sum(1 for entry, answer in iter_paper(attempt) if paper.is_answered(entry, answer.response))
    minimum = per_question * answered
    seconds = ((attempt.closed_at or utcnow()) - attempt.started_at).total_seconds()
    if answered and seconds < minimum:
        evidence_too_fast.send(attempt.user_id, kind="exam", subject=attempt.exam_slug, ref_id=attempt.id,
                               seconds=max(0.0, seconds), minimum_seconds=minimum,
                               detail={"questions": answered, "score": attempt.score})


def _grade(attempt: ExamAttempt, now: datetime) -> None:
    earned = possible = 0.0
    for entry in attempt.paper:
        answer = attempt.answer_for(entry["id"])
        seconds = _typing_seconds(attempt, entry, answer) if entry["type"] == "listen_type" else None
        result = paper.score(entry, answer.response, seconds)
        answer.fraction = result.fraction
        answer.points_awarded = result.fraction * entry["points"]
        answer.feedback = result.feedback
        answer.accuracy = result.accuracy
        answer.cpm = result.cpm
        earned += answer.points_awarded
        possible += entry["points"]
    attempt.earned = earned
    attempt.possible = possible
    attempt.score = percent(earned, possible)
    attempt.passed = is_passed(attempt.score, attempt.pass_mark)
    attempt.graded_at = now


def _typing_seconds(attempt: ExamAttempt, entry: Mapping[str, Any], answer: ExamAnswer) -> float:
    """From when the audio was first sent to this attempt to the last change, and never less
    than the recording lasts: nobody finishes typing what they have not heard yet."""
    if answer.answered_at is None:
        return 0.0
    start = answer.audio_served_at or attempt.started_at  # saved before audio timing existed
    return max((answer.answered_at - start).total_seconds(), audio_seconds(entry), 0.0)


# --- statistics for trainers ---------------------------------------------------------

@dataclass
class QuestionStatistics:
    question: ExamQuestion
    analysis: stats.ItemAnalysis


@dataclass
class ExamOverview:
    exam: Exam
    attempts: int
    mean_score: float | None
    pass_rate: float | None
    flagged: int


def question_statistics(exam: Exam) -> list[QuestionStatistics]:
    """Per active question, over graded attempts that had its current version."""
    rows = db.session.execute(
        select(ExamAnswer.question_id, ExamAnswer.question_version, ExamAnswer.fraction, ExamAttempt.score)
        .join(ExamAttempt, ExamAnswer.attempt_id == ExamAttempt.id)
        .where(ExamAttempt.exam_slug == exam.slug, ExamAttempt.status == GRADED, ExamAttempt.practice.is_(False)))
    pairs: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for question_id, version, fraction, score in rows:
        pairs.setdefault((question_id, version), []).append((score or 0.0, fraction or 0.0))
    return [QuestionStatistics(q, stats.analyse(pairs.get((q.question_id, q.version), [])))
            for q in exam.active_questions]


def exams_overview() -> list[ExamOverview]:
    overview = []
    for exam in active_exams():
        graded = list(db.session.scalars(
            select(ExamAttempt.score).where(ExamAttempt.exam_slug == exam.slug, ExamAttempt.status == GRADED,
                                            ExamAttempt.practice.is_(False))))
        passed = db.session.scalars(
            select(ExamAttempt.passed).where(ExamAttempt.exam_slug == exam.slug, ExamAttempt.status == GRADED,
                                             ExamAttempt.practice.is_(False)))
        passes = sum(1 for value in passed if value)
        flagged = sum(1 for item in question_statistics(exam) if item.analysis.flags) if graded else 0
        overview.append(ExamOverview(
            exam, len(graded),
            sum(score or 0.0 for score in graded) / len(graded) if graded else None,
            passes / len(graded) if graded else None, flagged))
    return overview


def responses_from_form(attempt: ExamAttempt, form) -> dict[str, Any]:
    """Every question's response as a plain form (no JavaScript) sends it; field q-<id>. An ordering
    question's list counts only once the learner moved something (touched-q-<id>: the page sets it
    on the first move, and keeps it once saved): its shuffled starting order is not an answer."""
    responses: dict[str, Any] = {}
    for entry in attempt.paper:
        name = f"q-{entry['id']}"
        if entry["type"] in ("multiple", "ordering"):
            values = form.getlist(name)
            if entry["type"] == "ordering" and (not values or form.get(f"touched-{name}") != "1"):
                continue  # nothing sent, or never moved: keep what is saved
            responses[entry["id"]] = values
        else:
            responses[entry["id"]] = form.get(name)
    return responses


def flags_from_form(attempt: ExamAttempt, form) -> dict[str, bool]:
    """The "flag for review" boxes of the answer sheet (flag-q-<id>); an unticked box is not sent."""
    return {entry["id"]: form.get(f"flag-q-{entry['id']}") == "1" for entry in attempt.paper}


@dataclass
class SummaryRow:
    number: int  # place on the paper, from 1
    entry: dict[str, Any]
    answered: bool
    flagged: bool


def attempt_summary(attempt: ExamAttempt) -> list[SummaryRow]:
    """Each question of the paper with whether it is answered and flagged (the page before submitting)."""
    return [SummaryRow(number, entry, paper.is_answered(entry, answer.response), bool(answer.flagged))
            for number, (entry, answer) in enumerate(iter_paper(attempt), start=1)]


def needs_review(attempt: ExamAttempt) -> bool:
    """Submitting asks first (the summary page) while questions are unanswered or flagged."""
    return any(not row.answered or row.flagged for row in attempt_summary(attempt))


def apply_move(attempt: ExamAttempt, responses: dict[str, Any], move: str) -> str | None:
    """A no-JavaScript "move up/down" button: "<question>:<item>:up|down" reorders that
    question's list in ``responses``. Returns the question id moved, or None."""
    try:
        question_id, item_id, direction = move.rsplit(":", 2)
    except ValueError:
        return None
    entry = next((e for e in attempt.paper if e["id"] == question_id and e["type"] == "ordering"), None)
    if entry is None or direction not in ("up", "down"):
        return None
    order = list(responses.get(question_id) or paper.effective_ordering(entry, attempt.answer_for(question_id).response))
    if item_id not in order:
        return None
    index = order.index(item_id)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
    responses[question_id] = order
    return question_id


def unanswered(attempt: ExamAttempt) -> int:
    return sum(1 for entry in attempt.paper
               if not paper.is_answered(entry, attempt.answer_for(entry["id"]).response))


def iter_paper(attempt: ExamAttempt) -> Iterable[tuple[dict[str, Any], ExamAnswer]]:
    for entry in attempt.paper:
        yield entry, attempt.answer_for(entry["id"])
