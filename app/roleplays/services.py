"""Role-play drills: content sync, the call flow, grading of replies, reports and evidence.

Grading a reply is ``grade_turn(turn_id)``: one function of the turn's id that works inside
or outside a web request (a queue worker, ``flask roleplay regrade``). It is idempotent: the
turn is claimed with a status-guarded UPDATE, so it is graded exactly once however often it
is called.
"""
from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update

from content_schema import ContentBundle, ContentError, ContentValidationError
from content_schema import Scenario as ContentScenario
from grading.call import ENDINGS, CallState, answer_within_rings_rule, closing_rule
from grading.labels import judgement_label, rule_label
from grading.localize import pick
from grading.pipeline import TurnContext, TurnGrade, grade_turn as grade_reply_turn, model_reply, score_items
from grading.rubric import ItemResult, Phrasebook as GradingPhrasebook, load_phrasebook
from grading.scoring import is_passed, percent
from speech.errors import AudioError
from speech.metrics import compute_metrics, speaking_rate_from_words
from speech.presence import detect_speech

from ..core.clock import utcnow
from ..core import events
from ..extensions import db
from ..speechops import services as speech
from .models import (
    ABANDONED,
    ENDED,
    GRADED,
    GRADING,
    IN_CALL,
    LIVE_STATUSES,
    PENDING,
    RECEIVED,
    RINGING,
    STREAMING,
    TURN_PENDING,
    Attempt,
    Phrasebook,
    Scenario,
    ScenarioVersion,
    Turn,
)
from .scenario import ScenarioDoc, document_checksum, scenario_document

UI_LANGUAGES = ("zh-CN", "en")
IDLE_ABANDON_AFTER = timedelta(hours=2)
STALE_GRADING_AFTER = timedelta(minutes=10)  # a "grading" claim older than this died with its worker
PROVOKED_ANGER = 60  # customer lines at or above this anger count as provocation for delivery
MAX_TYPED_CHARS = 2000
RINGS_ALLOWED = 3
RING_SECONDS = 3.0        # one ring of the call screen (drill.js rings every 3 s, the first at once)
RING_GRACE_SECONDS = 1.0  # the call page loading after "start": not held against the trainee
PENDING_STATUSES = (RECEIVED, GRADING, TURN_PENDING)


# --- errors the views turn into HTTP answers -------------------------------------------

class RoleplayError(Exception):
    """A refused action; ``status`` is the HTTP status, ``code`` a stable machine name."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotInCall(RoleplayError):
    status = 409
    code = "not_in_call"


class VoiceRequired(RoleplayError):
    status = 409
    code = "voice_required"


class BadAudio(RoleplayError):
    """The upload is unusable; ``code`` is speech's AudioError code."""

    status = 400


class VoiceUnavailable(RoleplayError):
    """A recording sent to a call in a language this server cannot recognise (typed only)."""

    status = 409
    code = "voice_unavailable"


class PendingStorageFull(RoleplayError):
    """The learner's recordings waiting for grading already fill their allowance."""

    status = 429
    code = "pending_full"


class GradingFailed(RoleplayError):
    """Recognition or grading raised: the turn is kept as pending for a later regrade."""

    status = 202
    code = "pending"

    def __init__(self, message: str, turn_id: int) -> None:
        super().__init__(message)
        self.turn_id = turn_id


# --- content sync ----------------------------------------------------------------------

def synthesize_lines(scenarios: Iterable[ContentScenario], cache_dir: Path) -> dict[str, dict[str, str]]:
    """Speak every customer line into the audio cache: {slug: {node id: file name}}.

    Any failure raises ContentValidationError naming the scenario and the node (each error's
    path is ("nodes", node id, "line"), so an editor can show it next to that line).
    """
    from speech.errors import SynthesisError
    from speech.tts import synthesize

    jobs = [(scenario, node) for scenario in scenarios for node in scenario.nodes.values()]

    def speak(job):
        scenario, node = job
        try:
            return synthesize(node.line, scenario.spec.language, gender=scenario.spec.persona.gender,
                              anger=node.anger, cache_dir=cache_dir).path.name
        except (SynthesisError, ValueError, OSError) as exc:
            return ContentError(scenario.source_file, None,
                                f'scenario "{scenario.slug}", node "{node.id}": the customer line could not be '
                                f"synthesized ({exc})", ("nodes", node.id, "line"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(speak, jobs))
    errors = [result for result in results if isinstance(result, ContentError)]
    if errors:
        raise ContentValidationError(errors)
    audio: dict[str, dict[str, str]] = defaultdict(dict)
    for (scenario, node), name in zip(jobs, results):
        audio[scenario.slug][node.id] = name
    return audio


# --- document overlays: what other domains add to every stored version ---------------------

DocumentOverlay = Callable[[str, dict], dict]


def register_document_overlay(app, overlay: DocumentOverlay) -> None:
    """A domain that adds to scenario documents (reviews: lessons trainers taught the grader) registers
    here, so every version stored from content files, the browser or a lesson carries the addition."""
    app.extensions.setdefault("roleplay_document_overlays", []).append(overlay)


def _overlaid(slug: str, document: dict) -> dict:
    for overlay in current_app.extensions.get("roleplay_document_overlays", []):
        document = overlay(slug, document)
    return document


def _store_version(row: Scenario, content: ContentScenario, audio: dict[str, str], now: datetime, report=None,
                   *, author_id: int | None = None) -> ScenarioVersion:
    """Make `content` the scenario's current version: a new immutable version when what grades
    changed, else the latest one (with refreshed audio names). Shared by the sync and publish_version."""
    return _store_document(row, scenario_document(content), content.source_file, audio, now, report,
                           author_id=author_id)


def republish(slug: str, *, author_id: int | None = None) -> ScenarioVersion | None:
    """Store the current version again with today's overlays (a new version when they changed what
    grades); its audio is reused. The caller commits."""
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    if row is None or row.current_version is None:
        return None
    current = row.current_version
    return _store_document(row, json.loads(json.dumps(current.spec)), current.source_file, dict(current.audio or {}),
                           utcnow(), author_id=author_id)


def _store_document(row: Scenario, document: dict, source_file: str, audio: dict[str, str], now: datetime,
                    report=None, *, author_id: int | None = None) -> ScenarioVersion:
    slug = row.slug
    document = _overlaid(slug, document)
    checksum = document_checksum(document)
    latest = db.session.scalar(select(ScenarioVersion).where(ScenarioVersion.scenario_id == row.id)
                               .order_by(ScenarioVersion.version.desc()).limit(1))
    if latest is None or latest.checksum != checksum:
        version = ScenarioVersion(
            scenario_id=row.id, slug=slug, version=(latest.version + 1) if latest else 1, checksum=checksum,
            source_file=source_file, language=document["language"], difficulty=int(document["difficulty"]),
            pass_mark=float(document["pass_mark"]), title=dict(document["title"]), spec=document,
            audio=dict(audio), author_id=author_id, created_at=now)
        db.session.add(version)
        db.session.flush()
        row.current_version_id = version.id
        row.updated_at = now
        if report is not None:
            report.note(f"role-play {slug}: version {version.version}" + (" (new)" if latest is None else ""))
        return version
    if latest.audio != audio:
        latest.audio = dict(audio)  # same words, new synthesis (e.g. espeak-ng upgraded)
    if row.current_version_id != latest.id:
        row.current_version_id = latest.id
    return latest


def sync_roleplays(bundle: ContentBundle, report) -> None:
    """Load bundle.scenarios idempotently; a changed scenario becomes a new version.

    Only file-sourced scenarios are retired when their file goes; web-authored ones are left alone,
    and a file may not take a slug that a web-authored scenario already holds.
    """
    now = utcnow()
    existing = {row.slug: row for row in db.session.scalars(select(Scenario))}
    taken = [ContentError(content.source_file, None,
                          f'slug "{slug}" is already used by a scenario authored in the browser '
                          "(expected another slug: slugs are permanent)", ("slug",))
             for slug, content in bundle.scenarios.items()
             if slug in existing and existing[slug].source != "file"]
    if taken:
        raise ContentValidationError(taken)
    audio = synthesize_lines(bundle.scenarios.values(), Path(current_app.config["AUDIO_CACHE_DIR"]))
    _sync_phrasebook(bundle.phrasebook, report)
    for slug, content in bundle.scenarios.items():
        row = existing.get(slug)
        if row is None:
            row = Scenario(slug=slug, source="file", created_at=now, updated_at=now)
            db.session.add(row)
            db.session.flush()
        _store_version(row, content, audio[slug], now, report)
        if row.retired:
            row.retired, row.retired_at, row.updated_at = False, None, now
            report.note(f"role-play {slug}: restored")
    for slug, row in existing.items():
        if row.source == "file" and slug not in bundle.scenarios and not row.retired:
            row.retired, row.retired_at, row.updated_at = True, now, now
            report.note(f"role-play {slug}: retired")
    db.session.flush()


# --- scenarios authored in the browser (app/authoring) ------------------------------------

_library_cache: dict[tuple, Any] = {}


def content_library():
    """The shared rubric library (roleplays/_library.yaml under CONTENT_ROOT), validated; reread
    only when the file changes."""
    from content_schema import load_library
    root = Path(current_app.config["CONTENT_ROOT"])
    try:
        stat = (root / "roleplays" / "_library.yaml").stat()
    except OSError:
        return load_library(root)  # raises ContentValidationError naming the missing file
    key = (str(root), stat.st_mtime_ns, stat.st_size)
    if key not in _library_cache:
        library = load_library(root)
        _library_cache.clear()
        _library_cache[key] = library
    return _library_cache[key]


def label_of(item: dict | str, ui_language: str) -> str:
    """What people read for a rule: an item's own label, the call and delivery rules' names, the
    library entry's label for `intent:x` / `forbidden:x`, else a readable form of the id."""
    data = {"rule": item} if isinstance(item, str) else item
    rule = str(data.get("rule", ""))
    if not data.get("label") and ":" in rule:
        kind, _, name = rule.partition(":")
        try:
            library = content_library()
        except ContentValidationError:   # a broken library file must not break every report
            library = None
        entries = (library.intents if kind == "intent" else library.forbidden if kind == "forbidden" else {}) \
            if library is not None else {}
        if name in entries and entries[name].label:
            return pick(entries[name].label, ui_language)
        data = {**data, "item_id": data.get("item_id") or name}
    return rule_label(data, ui_language)


def publish_version(slug: str, spec_yaml_text: str, *, source: str = "web",
                    author_id: int | None = None) -> ScenarioVersion:
    """Validate one scenario written in the roleplays/<slug>.yaml format and make it the current
    version of `slug`: the same validation, text-to-speech and versioning as the content sync.

    A new immutable ScenarioVersion is made only when what grades changed; attempts keep the
    version they were taken on. A retired scenario is restored. Raises ContentValidationError
    (errors with line and path) and stores nothing when the text is invalid, the slug belongs to
    a scenario of another source, or a line cannot be synthesized. The caller commits.
    """
    from content_schema import validate_scenario_text
    filename = f"roleplays/{slug}.yaml"
    content = validate_scenario_text(spec_yaml_text, library=content_library(), filename=filename)
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    owner = row.source if row is not None else None
    if owner is None and source != "file" and (Path(current_app.config["CONTENT_ROOT"]) / filename).exists():
        owner = "file"
    if owner is not None and owner != source:
        raise ContentValidationError([ContentError(
            filename, None, f'slug "{slug}" belongs to a {owner} scenario (expected a slug of your own)', ("slug",))])
    audio = synthesize_lines([content], Path(current_app.config["AUDIO_CACHE_DIR"]))[slug]
    now = utcnow()
    if row is None:
        row = Scenario(slug=slug, source=source, created_at=now, updated_at=now)
        db.session.add(row)
        db.session.flush()
    version = _store_version(row, content, audio, now, author_id=author_id)
    if row.retired:
        row.retired, row.retired_at, row.updated_at = False, None, now
    db.session.flush()
    return version


def retire_scenario(slug: str, *, source: str = "web") -> Scenario | None:
    """Withdraw a scenario of `source` from the library (attempts and versions stay). The caller commits."""
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug, Scenario.source == source))
    if row is not None and not row.retired:
        now = utcnow()
        row.retired, row.retired_at, row.updated_at = True, now, now
        db.session.flush()
    return row


def web_scenarios(*, include_retired: bool = False) -> list[Scenario]:
    """Scenarios authored in the browser that have a published version, by slug."""
    query = select(Scenario).where(Scenario.source == "web", Scenario.current_version_id.is_not(None))
    if not include_retired:
        query = query.where(Scenario.retired.is_(False))
    return list(db.session.scalars(query.order_by(Scenario.slug)))


def versions_of(slug: str) -> list[ScenarioVersion]:
    """Every version of a scenario, newest first."""
    return list(db.session.scalars(select(ScenarioVersion).where(ScenarioVersion.slug == slug)
                                   .order_by(ScenarioVersion.version.desc())))


def _sync_phrasebook(data: Any, report) -> None:
    checksum = document_checksum(data)
    row = db.session.scalar(select(Phrasebook).order_by(Phrasebook.id).limit(1))
    if row is None:
        db.session.add(Phrasebook(checksum=checksum, data=data))
        report.note("role-play phrasebook: loaded")
    elif row.checksum != checksum:
        row.checksum, row.data, row.updated_at = checksum, data, utcnow()
        report.note("role-play phrasebook: updated")


_compiled_phrasebooks: dict[str, GradingPhrasebook] = {}


def current_phrasebook() -> GradingPhrasebook | None:
    row = db.session.scalar(select(Phrasebook).order_by(Phrasebook.id).limit(1))
    if row is None:
        return None
    if row.checksum not in _compiled_phrasebooks:
        _compiled_phrasebooks[row.checksum] = load_phrasebook(row.data)
    return _compiled_phrasebooks[row.checksum]


# --- the scenario library ----------------------------------------------------------------

def library() -> list[Scenario]:
    """Current (not retired) scenarios, easiest first."""
    rows = db.session.scalars(select(Scenario).where(Scenario.retired.is_(False))).all()
    rows = [row for row in rows if row.current_version is not None]
    return sorted(rows, key=lambda row: (row.current_version.difficulty, row.slug))


def register_assigned_drills(app, source: Callable[[Any], dict]) -> None:
    """The domain that assigns drills (assignments) registers `source(user)` → {slug: due date}."""
    app.extensions["roleplay_assigned_drills"] = source


def assigned_drills(user) -> dict:
    source = current_app.extensions.get("roleplay_assigned_drills")
    return dict(source(user)) if source is not None else {}


MAX_SEARCH = 100


@dataclass(frozen=True)
class LibraryFilter:
    text: str = ""
    difficulty: int | None = None
    language: str = ""
    mine: bool = False      # only the scenarios assigned to me

    @property
    def active(self) -> bool:
        return bool(self.text or self.difficulty or self.language or self.mine)


def attempt_counts(user_id: int) -> dict[int, int]:
    """{scenario id: how many calls this person started on it} (trainers' practice calls not counted)."""
    rows = db.session.execute(select(Attempt.scenario_id, func.count()).where(
        Attempt.user_id == user_id, Attempt.practice.is_(False)).group_by(Attempt.scenario_id)).all()
    return {scenario_id: count for scenario_id, count in rows}


def get_scenario(slug: str) -> Scenario | None:
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    if row is None or row.retired or row.current_version is None:
        return None
    return row


def doc_of(attempt_or_version: Attempt | ScenarioVersion) -> ScenarioDoc:
    version = attempt_or_version.version if isinstance(attempt_or_version, Attempt) else attempt_or_version
    return ScenarioDoc(version.spec)


def voice_available(language: str) -> bool:
    return language in speech.voice_languages()


# --- attempts: the call flow -------------------------------------------------------------

def start_attempt(user_id: int, slug: str, mode: str, *, require_voice: bool = False,
                  practice: bool = False) -> Attempt:
    """A new attempt on the scenario's current version, ringing. practice: a trainer trying the drill;
    the call works as any other but is kept out of statistics, reviews, certification and flags."""
    scenario = get_scenario(slug)
    if scenario is None:
        raise RoleplayError("No such scenario.", code="not_found")
    if mode not in ("voice", "typed"):
        raise RoleplayError("The mode must be voice or typed.", code="bad_mode")
    version = scenario.current_version
    if mode == "typed" and require_voice:
        raise VoiceRequired("This drill must be answered by voice.")
    if mode == "voice" and not voice_available(version.language):
        if require_voice:
            raise VoiceRequired("Voice grading is not available for this language on this server.")
        mode = "typed"
    document = version.spec
    now = utcnow()
    attempt = Attempt(user_id=user_id, scenario_id=scenario.id, version_id=version.id, mode=mode,
                      require_voice=require_voice, practice=bool(practice), status=RINGING, language=version.language,
                      difficulty=version.difficulty, node_id=document["start"],
                      anger=int(document["starting_anger"]), consecutive_poor=0, call_items=[],
                      started_at=now, last_activity_at=now)
    db.session.add(attempt)
    db.session.commit()
    return attempt


def expire_idle(user_id: int | None = None, attempt_id: int | None = None) -> None:
    """Attempts left ringing or mid-call for over 2 hours count as abandoned."""
    cutoff = utcnow() - IDLE_ABANDON_AFTER
    idle = [Attempt.status.in_(LIVE_STATUSES), Attempt.last_activity_at < cutoff]
    if user_id is not None:
        idle.append(Attempt.user_id == user_id)
    if attempt_id is not None:
        idle.append(Attempt.id == attempt_id)
    # Read first: the common case writes nothing (and takes no write lock on SQLite).
    if not db.session.scalars(select(Attempt.id).where(*idle).limit(1)).first():
        return
    db.session.execute(update(Attempt).where(*idle).values(status=ABANDONED, finished_at=utcnow()))
    db.session.commit()
    db.session.expire_all()


def ring_seconds(document: dict) -> float:
    """How long one ring lasts in this scenario (call_rules.answer_within_rings.ring_seconds, else 3 s)."""
    try:
        seconds = float(document["call_rules"]["answer_within_rings"].get("ring_seconds") or RING_SECONDS)
    except (KeyError, TypeError, ValueError, AttributeError):
        return RING_SECONDS
    return seconds if seconds > 0 else RING_SECONDS


def rings_heard(attempt: Attempt, now: datetime | None = None) -> int:
    """The ring the phone is on, by the server's clock: ring 1 as the call starts, one more every
    ring_seconds (after a short grace for the call page to load)."""
    elapsed = ((now or utcnow()) - attempt.started_at).total_seconds() - RING_GRACE_SECONDS
    return max(1, min(99, 1 + int(max(0.0, elapsed) // ring_seconds(attempt.version.spec))))


def answer_call(attempt: Attempt, rings: int | None = None) -> Attempt:
    """The trainee picked up. Repeating it changes nothing.

    The ring it was picked up on is measured here, from when the call started to this request;
    the count the browser sends (`rings`) is ignored, so it cannot be claimed.
    """
    if attempt.status != RINGING:
        return attempt
    rings = rings_heard(attempt)
    document = attempt.version.spec
    rule = document["call_rules"]["answer_within_rings"]
    items = []
    if float(rule["points"]) > 0:
        items.append(_item_json(answer_within_rings_rule(rings, int(rule["rings"]), float(rule["points"]))))
    # Guarded: two concurrent answers set the rings once.
    db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.status == RINGING)
                              .values(status=IN_CALL, rings=rings, call_items=items, answered_at=utcnow(),
                                      last_activity_at=utcnow()))
    db.session.commit()
    db.session.refresh(attempt)
    return attempt


def abandon(attempt: Attempt) -> Attempt:
    if attempt.status == IN_CALL and attempt.node_id in ENDINGS:
        # Hanging up instead of the closing turn: the call is over and keeps its grade, the goodbye missed.
        doc = doc_of(attempt)
        if doc.closing is not None:
            attempt.call_items = list(attempt.call_items or []) + [
                _item_json(closing_rule("", doc.closing, doc.language))]
        _finish(attempt, attempt.node_id.removeprefix("end:"), doc, None)
        db.session.commit()
        if not attempt.practice:
            events.roleplay_attempt_graded.send(attempt.user_id, attempt_id=attempt.id,
                                                scenario_slug=attempt.version.slug, passed=bool(attempt.passed),
                                                score=attempt.score)
        return attempt
    if attempt.status in (RINGING, IN_CALL, PENDING):
        attempt.status = ABANDONED
        attempt.finished_at = utcnow()
        db.session.commit()
    return attempt


def _claim_call(attempt: Attempt, mode: str) -> None:
    """Move the attempt from in_call to pending (one reply at a time), or refuse."""
    if mode == "typed" and attempt.require_voice:
        raise VoiceRequired("This drill must be answered by voice; typed replies are not accepted.")
    if attempt.status != IN_CALL:
        raise NotInCall(f"The call is not waiting for a reply (status: {attempt.status}).")


def _add_turn(attempt: Attempt, mode: str, *, status: str = RECEIVED, **fields) -> Turn:
    claimed = db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.status == IN_CALL)
                                 .values(status=PENDING, last_activity_at=utcnow()))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise NotInCall("The call is not waiting for a reply.")
    seq = len(attempt.turns) + 1
    turn = Turn(attempt_id=attempt.id, seq=seq, node_id=attempt.node_id, anger_before=attempt.anger, mode=mode,
                status=status, created_at=utcnow(), **fields)
    db.session.add(turn)
    if mode == "typed" and attempt.mode != "typed":
        db.session.execute(update(Attempt).where(Attempt.id == attempt.id).values(mode="typed"))
    db.session.commit()
    return turn


def submit_typed(attempt: Attempt, text: str) -> Turn:
    """Save a typed reply (status received); grade it with grade_turn."""
    _claim_call(attempt, "typed")
    text = (text or "").strip()
    if not text:
        raise RoleplayError("The reply is empty.", code="empty")
    if len(text) > MAX_TYPED_CHARS:
        raise RoleplayError(f"The reply is longer than {MAX_TYPED_CHARS} characters.", code="too_long")
    return _add_turn(attempt, "typed", transcript=text)


def recordings_dir() -> Path:
    return Path(current_app.config["RECORDINGS_DIR"])


def pending_limit_bytes() -> int:
    """How many bytes of recordings one learner may have waiting for grading (RECORDINGS_PENDING_MAX_MB)."""
    return int(float(current_app.config["RECORDINGS_PENDING_MAX_MB"]) * 1024 * 1024)


def pending_recording_bytes(user_id: int) -> int:
    """The size on disk of the learner's recordings not graded yet (received, grading or pending)."""
    paths = db.session.scalars(select(Turn.recording_path).join(Attempt).where(
        Attempt.user_id == user_id, Turn.status.in_(PENDING_STATUSES), Turn.recording_path.is_not(None))).all()
    total = 0
    for relative in paths:
        try:
            total += (recordings_dir() / relative).stat().st_size
        except OSError:
            continue
    return total


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def submit_voice(attempt: Attempt, data: bytes, speech_ended_ms: int | None = None) -> Turn:
    """Save the recording FIRST, check it is usable audio, then record the turn as received.

    Raises VoiceUnavailable before anything is stored when this server cannot recognise the
    call's language (the reply could never be graded and would hold the call), PendingStorageFull
    when the learner's ungraded recordings would exceed their allowance, and BadAudio (no turn
    is used up, the file is deleted) when the recording cannot be recognised.
    """
    streamed = db.session.scalar(select(Turn).where(Turn.attempt_id == attempt.id, Turn.status == STREAMING))
    if streamed is not None:
        # The browser's stream broke and it sent the whole recording instead: it replaces the chunks.
        from .streaming import finish
        turn, _ = finish(streamed.id, speech_ended_ms=speech_ended_ms, replacement=data, reason="upload")
        if turn is None:
            raise NotInCall("The call is not waiting for a reply.")
        return turn
    _claim_call(attempt, "voice")
    if not voice_available(attempt.language):
        raise VoiceUnavailable("This call's language cannot be recognised here; reply by typing.")
    if pending_recording_bytes(attempt.user_id) + len(data) > pending_limit_bytes():
        raise PendingStorageFull("Too many recordings are waiting for grading.")
    relative = Path(f"u{attempt.user_id}") / f"a{attempt.id}" / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex}.wav"
    path = recordings_dir() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)  # a crash never leaves half a file under the final name
    except BaseException:
        _discard(tmp)
        raise
    try:
        speech.load_audio(path)
    except AudioError as exc:
        # Not a turn: the trainee simply tries again. Kept files would let one learner fill
        # the disk with refused uploads, so nothing of it stays.
        _discard(path)
        raise BadAudio(exc.message, code=exc.code) from exc
    try:
        return _add_turn(attempt, "voice", recording_path=relative.as_posix(), speech_ended_ms=speech_ended_ms)
    except BaseException:
        _discard(path)  # the call had moved on (a second reply raced this one): no turn, no file
        raise


# --- grading -----------------------------------------------------------------------------

def _item_json(result: ItemResult) -> dict:
    return asdict(result)


MAX_CLAIMS = 5  # a turn whose grading was interrupted this often is left pending (flask roleplay regrade)


def claim_timeout() -> timedelta:
    """How long a "grading" claim may last before it counts as dead (GRADING_CLAIM_TIMEOUT seconds)."""
    seconds = current_app.config.get("GRADING_CLAIM_TIMEOUT")
    return timedelta(seconds=float(seconds)) if seconds else STALE_GRADING_AFTER


def _claim_turn(turn_id: int) -> str | None:
    """Take the turn for grading and return the claim's token; None when it is graded, being
    graded (a live claim), or unknown.

    A claim older than claim_timeout() died with its worker and is taken over; the guarded
    UPDATE lets exactly one caller take it (on PostgreSQL a concurrent UPDATE waits for the row
    and then no longer matches; SQLite serialises writers).
    """
    now = utcnow()
    claimed_since = func.coalesce(Turn.claimed_at, Turn.grading_started_at)
    claimable = or_(Turn.status.in_((RECEIVED, TURN_PENDING)),
                    and_(Turn.status == GRADING, claimed_since < now - claim_timeout(), Turn.claims < MAX_CLAIMS))
    token = uuid.uuid4().hex
    claimed = db.session.execute(
        update(Turn).where(Turn.id == turn_id, claimable)
        .values(status=GRADING, grading_started_at=now, claimed_at=now, claim_token=token,
                claims=Turn.claims + 1, error=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if claimed.rowcount == 1 else None


def grade_turn(turn_id: int, *, recognized=None) -> Turn | None:
    """Recognise (voice) and grade one reply, then move the call on; idempotent.

    Grading an already graded (or currently grading) turn does nothing and returns it.
    When recognition or grading raises, the turn is left ``pending`` with the error noted
    and GradingFailed is raised; ``regrade_attempt`` picks it up later. The grade is written
    only while this call still holds its claim (the token), so a turn taken over after the
    claim timeout is graded once, by whoever holds the claim.

    ``recognized``: the Transcript a live recogniser already made of exactly this recording while it
    was streamed (roleplays.streaming); the recording is then not recognised again.
    """
    token = _claim_turn(turn_id)
    if token is None:
        return db.session.get(Turn, turn_id)
    turn = db.session.get(Turn, turn_id)
    try:
        graded = _grade(turn) if recognized is None else _grade(turn, recognized)
        # Fence: lock the row and check the claim is still ours, in the transaction that writes the grade.
        held = db.session.execute(
            update(Turn).where(Turn.id == turn_id, Turn.status == GRADING, Turn.claim_token == token)
            .values(graded_count=Turn.graded_count + 1).execution_options(synchronize_session=False))
        if held.rowcount != 1:
            db.session.rollback()
            current_app.logger.warning("grading turn %s: the claim was taken over; this grade is dropped", turn_id)
            return db.session.get(Turn, turn_id)
        ended_attempt = _apply(turn, graded)
        db.session.commit()
    except Exception as exc:  # recognition, model loading, a broken recording... all kept for later
        db.session.rollback()
        current_app.logger.warning("grading turn %s failed, kept as pending: %s", turn_id, exc, exc_info=True)
        message = f"{type(exc).__name__}: {exc}"
        db.session.execute(update(Turn).where(Turn.id == turn_id, Turn.status == GRADING, Turn.claim_token == token)
                           .values(status=TURN_PENDING, error=message[:2000]))
        db.session.commit()
        raise GradingFailed(message, turn_id) from exc
    if ended_attempt is not None and not ended_attempt.practice:
        events.roleplay_attempt_graded.send(
            ended_attempt.user_id, attempt_id=ended_attempt.id, scenario_slug=ended_attempt.version.slug,
            passed=bool(ended_attempt.passed), score=ended_attempt.score)
    return turn


# Why a voice reply scored 0 without being graded on its words (metrics["no_speech"]).
NO_SPEECH_MESSAGES = {
    "silence": _l("No speech was heard in this recording (it is silent), so this reply scores 0. "
                  "Answer the caller in your own voice."),
    "tone": _l("No speech was heard in this recording (only a steady tone or hum), so this reply scores 0. "
               "Answer the caller in your own voice."),
    "noise": _l("No speech was heard in this recording (only noise), so this reply scores 0. "
                "Answer the caller in your own voice."),
    "no_words": _l("No words could be recognised in this recording, so this reply scores 0. "
                   "Speak clearly, close to the microphone."),
}


def no_speech_reason(turn: Turn) -> str | None:
    """silence | tone | noise | no_words when the voice reply held no speech (it scores 0), else None."""
    return (turn.metrics or {}).get("no_speech") if turn.mode == "voice" else None


def _no_speech_grade(context: TurnContext, reason: str, first_turn: bool) -> TurnGrade:
    """Nothing was said: every judgement fails and the reply earns nothing (a grammar recogniser
    would have heard the sound as the expected phrases, and saying nothing breaks no rule)."""
    from flask_babel import force_locale
    context.text, context.metrics = "", None
    grade = grade_reply_turn(context, first_turn=first_turn)
    messages = {}
    for ui, locale in (("zh-CN", "zh_CN"), ("en", "en")):
        with force_locale(locale):
            messages[ui] = str(NO_SPEECH_MESSAGES[reason])
    judgements = {name: replace(j, held=False) for name, j in grade.judgements.items()}
    return replace(grade, judgements=judgements, passed=False, earned=0.0, fraction=0.0, outcome="escalate",
                   tips={ui: [messages[ui]] + list(grade.tips.get(ui, [])) for ui in messages})


def recognition_grammar(doc: ScenarioDoc, node_id: str) -> list[str] | None:
    """The phrases recognition is limited to at this node (VOSK_GRAMMAR_LANGUAGES), else None (free)."""
    if not speech.uses_grammar(doc.language):
        return None
    phrasebook = current_phrasebook()
    forms = [form for pair in (phrasebook.pairs if phrasebook else ()) if pair.language == doc.language
             for form in pair.habitual]
    # The closing turn (the call at an ending) listens for the whole scenario's phrases too.
    return doc.grammar(node_id if node_id in doc.nodes else doc.start, phrasebook_forms=forms)


def _grade(turn: Turn, recognized=None) -> tuple[str, dict | None, TurnGrade]:
    """Recognise a voice reply, then grade it with the one grading pipeline.

    A recording without speech (a tone, noise) is not recognised at all, and one in which no
    word was recognised is not graded on words: both score 0 and say why.
    """
    attempt = turn.attempt
    doc = doc_of(attempt)
    language = doc.language
    phrasebook = current_phrasebook()
    metrics = None
    if turn.mode == "voice":
        audio = speech.load_audio(recordings_dir() / turn.recording_path)
        metrics = compute_metrics(audio).to_dict()
        presence = detect_speech(audio)
        reason = presence.reason
        transcript = ""
        if presence.speech:
            # A reply recognised live while it streamed (the same bytes) is not recognised again.
            recognised = recognized if recognized is not None else \
                speech.recognize(language, audio, recognition_grammar(doc, turn.node_id))
            transcript = recognised.text
            # The speaking rate from what was said (chars/min, words/min); the energy estimate stays.
            metrics.update(speaking_rate_from_words(recognised.words, language))
            reason = None if transcript.strip() else "no_words"
        if reason is not None:
            metrics.update(no_speech=reason, presence=presence.to_dict())
            if turn.node_id in ENDINGS:
                return "", metrics, closing_grade(doc, "")
            context = turn_context(doc, turn.node_id, "", phrasebook)
            return "", metrics, _no_speech_grade(context, reason, turn.seq == 1)
    else:
        transcript = turn.transcript or ""
    if turn.node_id in ENDINGS:
        return transcript, metrics, closing_grade(doc, transcript)
    context = turn_context(doc, turn.node_id, transcript, phrasebook)
    if turn.mode == "voice":
        context.metrics, context.baseline = metrics, _baseline_metrics(attempt, turn)
    return transcript, metrics, grade_reply_turn(context, first_turn=turn.seq == 1)


def last_line(doc: ScenarioDoc, ending: str) -> str:
    """What the customer says as the call reaches `ending` (resolved | transferred | hangup)."""
    return doc.last_line(ending)


def has_closing_turn(doc: ScenarioDoc) -> bool:
    """The trainee gets a last reply after the customer's last line (graded for the goodbye), unless the
    scenario does not grade the closing (its points are 0)."""
    return doc.closing is not None and float(doc.closing.points or 0) > 0


def closing_grade(doc: ScenarioDoc, transcript: str) -> TurnGrade:
    """The closing turn is graded for one thing: thanks and a goodbye (the library's closing item)."""
    closing = closing_rule(transcript, doc.closing, doc.language)
    tips = {ui: ([] if closing.matched else [pick(closing.explanation, ui)]) for ui in UI_LANGUAGES}
    fraction = 1.0 if closing.matched else 0.0
    return TurnGrade(items=[closing], delivery=[], judgements={}, passed=closing.matched,
                     earned=closing.points_awarded, possible=closing.points_possible, fraction=fraction,
                     outcome="stay", tips=tips, habitual={ui: [] for ui in UI_LANGUAGES})


MAX_SKIPPED = 1  # the next moment only: the customer still reacts to the reply


def covered_nodes(doc: ScenarioDoc, node_id: str, transcript: str,
                  phrasebook: GradingPhrasebook | None) -> list[str]:
    """Nodes the same reply already answers, from `node_id` (the node the call moves to) on: their
    need is met by these words, judged by the one grading pipeline (the advances judgement holds
    through the node's weightiest way of moving the case on, not a generic next step), and nothing
    forbidden is said. The customer does not ask for what they were already told."""
    covered: list[str] = []
    while node_id in doc.nodes and node_id not in covered and len(covered) < MAX_SKIPPED:
        node = doc.nodes[node_id]
        check = grade_reply_turn(turn_context(doc, node_id, transcript, phrasebook))
        advances = check.judgements.get("advances")
        if advances is None or not advances.applies or not advances.held or not check.judgements["rules"].held:
            break
        mine = [r for r in check.items if r.kind == "intent" and r.judgement == "advances"]
        weight = max((r.points_possible for r in mine), default=0.0)
        if not any(r.matched and r.points_possible >= weight for r in mine):
            break
        if "deescalate" not in node.next:
            break
        covered.append(node_id)
        node_id = node.next["deescalate"]
    return covered


def _demand_met(attempt: Attempt, turn: Turn, grade: TurnGrade) -> bool:
    """The caller's demand was met in this call: a reply (this one or an earlier) moved the case on."""
    if grade.judgements.get("advances") is not None and grade.judgements["advances"].applies \
            and grade.judgements["advances"].held:
        return True
    for earlier in attempt.turns:
        if earlier is turn or earlier.status != GRADED or earlier.node_id in ENDINGS:
            continue
        advances = score_items(earlier.items or [], earlier.delivery or [])[2].get("advances")
        if advances is not None and advances.applies and advances.held:
            return True
    return False


def turn_context(doc: ScenarioDoc, node_id: str, text: str, phrasebook: GradingPhrasebook | None) -> TurnContext:
    node = doc.nodes[node_id]
    return TurnContext(text=text, language=doc.language, items=node.rubric, rules=doc.rules,
                       greeting=doc.greeting, phrasebook=phrasebook, delivery_points=doc.delivery_points,
                       provoked=node.anger >= PROVOKED_ANGER)


def _baseline_metrics(attempt: Attempt, turn: Turn) -> dict | None:
    """The trainee's own first voice reply in this call (None while grading that one)."""
    for earlier in attempt.turns:
        if earlier.seq >= turn.seq:
            break
        if earlier.mode == "voice" and earlier.metrics and not no_speech_reason(earlier):
            return earlier.metrics
    return None


def _apply(turn: Turn, graded: tuple[str, dict | None, TurnGrade]) -> Attempt | None:
    """Write the grade and move the call on. Returns the attempt when this reply ended it."""
    transcript, metrics, grade = graded
    attempt = turn.attempt
    doc = doc_of(attempt)
    turn.transcript = transcript
    turn.metrics = metrics
    turn.delivery = [asdict(d) for d in grade.delivery]
    turn.tips = {ui: list(tips) for ui, tips in grade.tips.items()}
    turn.habitual = grade.habitual
    turn.score_fraction = round(grade.fraction, 4)
    turn.outcome = grade.outcome
    turn.status = GRADED
    turn.graded_at = utcnow()
    turn.error = None
    items = [asdict(r) for r in grade.items]
    earned, possible = grade.earned, grade.possible

    live = attempt.status == PENDING and attempt.node_id == turn.node_id
    if not live:
        # The trainee left while this reply waited: grade it, but the call does not move on.
        turn.items, turn.earned, turn.possible = items, earned, possible
        turn.anger_after, turn.next_node = attempt.anger, None
        return None

    if turn.node_id in ENDINGS:
        # The closing turn: the customer said their last line; the trainee's goodbye ends the call.
        turn.items, turn.earned, turn.possible = items, earned, possible
        turn.anger_after, turn.next_node = attempt.anger, None
        _finish(attempt, turn.node_id.removeprefix("end:"), doc, turn)
        return attempt

    node = doc.nodes[turn.node_id]
    phrasebook = current_phrasebook()
    anger_step = doc.anger_step
    if grade.judgements["rules"].held and _demand_met(attempt, turn, grade):
        # Once the caller got what they asked for, their anger never rises again (unless the
        # trainee says something forbidden).
        anger_step = {outcome: min(0, step) for outcome, step in anger_step.items()}
    state = CallState(attempt.node_id, attempt.anger, attempt.consecutive_poor).step(
        node.next, grade.outcome, anger_step=anger_step, hangup_after_poor=int(doc.hangup_after_poor))
    skipped: list[str] = []
    if state.node in doc.nodes and grade.outcome != "escalate":
        skipped = covered_nodes(doc, state.node, transcript, phrasebook)
        if skipped:
            state = replace(state, node=doc.nodes[skipped[-1]].next["deescalate"], reason="covered")
    ending = state.node.removeprefix("end:") if state.node in ENDINGS else None
    closing_turn = False
    if ending in ("resolved", "transferred") and doc.closing is not None:
        # A goodbye already said in this reply is credited and the call ends after the customer's
        # last line; otherwise the trainee gets a closing turn to thank the caller and say goodbye.
        # (After a hang-up there is nobody left to say goodbye to: the closing is not judged.)
        closing = closing_rule(transcript, doc.closing, doc.language)
        if closing.matched:
            items.append(asdict(closing))
            earned += closing.points_awarded
            possible += closing.points_possible
        else:
            closing_turn = has_closing_turn(doc)
    turn.items, turn.earned, turn.possible = items, earned, possible
    turn.anger_after, turn.next_node = state.anger, state.node
    turn.skipped = skipped or None
    attempt.node_id, attempt.anger, attempt.consecutive_poor = state.node, state.anger, state.consecutive_poor
    attempt.last_activity_at = utcnow()
    if ending is None or closing_turn:
        attempt.status = IN_CALL  # at an ending: the customer's last line, then the trainee's goodbye
        return None
    _finish(attempt, ending, doc, turn)
    return attempt


def broke_rules(turn: Turn) -> bool:
    """A forbidden behaviour in this reply (after any trainer's override)."""
    return any(i.get("kind") == "forbidden" and float(i["points_awarded"]) < 0 for i in turn.items or [])


def _finish(attempt: Attempt, ending: str, doc: ScenarioDoc, last_turn: Turn | None) -> None:
    _score_call(attempt, doc, last_turn)
    attempt.ending = ending
    attempt.status = ENDED
    attempt.finished_at = utcnow()
    _report_if_too_fast(attempt, last_turn)


def _report_if_too_fast(attempt: Attempt, last_turn: Turn | None) -> None:
    """A call whose replies came faster than a person can hear a customer's line and answer it is
    reported (certification shows it to HR and trainers); it still counts as graded."""
    if attempt.practice:
        return  # a trainer's practice call is nobody's evidence
    per_reply = float(current_app.config.get("CALL_MIN_SECONDS_PER_REPLY") or 0)
    replies = len([t for t in attempt.turns if t.status == GRADED or t is last_turn])
    if per_reply <= 0 or not replies or attempt.answered_at is None:
        return
    seconds = (attempt.finished_at - attempt.answered_at).total_seconds()
    if seconds < per_reply * replies:
        events.evidence_too_fast.send(attempt.user_id, kind="call", subject=attempt.version.slug, ref_id=attempt.id,
                                      seconds=round(seconds, 1), minimum_seconds=per_reply * replies,
                                      detail={"replies": replies, "mode": attempt.mode})


def _score_call(attempt: Attempt, doc: ScenarioDoc, last_turn: Turn | None = None) -> None:
    """The call's points, score and verdict from its graded replies and call rules."""
    attempt.call_items = list(attempt.call_items or [])
    turns = [t for t in attempt.turns if t.status == GRADED or t is last_turn]
    earned = sum(t.earned or 0.0 for t in turns) + sum(i["points_awarded"] for i in attempt.call_items)
    possible = sum(t.possible or 0.0 for t in turns) + sum(i["points_possible"] for i in attempt.call_items)
    attempt.earned, attempt.possible = round(earned, 3), round(possible, 3)
    attempt.score = percent(earned, possible)
    # Staying within the rules is asked of every reply: one forbidden behaviour fails the call.
    attempt.passed = is_passed(attempt.score, float(doc.pass_mark)) and not any(broke_rules(t) for t in turns)


def regrade_attempt(attempt_id: int) -> Attempt | None:
    """Grade every reply of the attempt that is still waiting (received, pending, or a stale claim).

    Safe to call any time: graded turns are left alone. Raises GradingFailed when a reply
    still cannot be graded (it stays pending).
    """
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    stale = utcnow() - claim_timeout()
    db.session.execute(update(Turn).where(Turn.attempt_id == attempt_id, Turn.status == GRADING,
                                          func.coalesce(Turn.claimed_at, Turn.grading_started_at) < stale)
                       .values(status=TURN_PENDING))
    db.session.commit()
    _release_unrecognisable(attempt)
    waiting = db.session.scalars(select(Turn.id).where(Turn.attempt_id == attempt_id,
                                                       Turn.status.in_((RECEIVED, TURN_PENDING)))
                                 .order_by(Turn.seq)).all()
    for turn_id in waiting:
        grade_turn(turn_id)
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def _release_unrecognisable(attempt: Attempt) -> None:
    """Give back a call held by a recording nobody here can recognise (its language has no speech
    model): the waiting voice reply is dropped with its file and the call waits for a reply again,
    which the trainee can type. Grading it as 0 would blame the trainee for the server."""
    if voice_available(attempt.language):
        return
    stuck = db.session.scalars(select(Turn).where(Turn.attempt_id == attempt.id, Turn.mode == "voice",
                                                  Turn.status.in_((RECEIVED, TURN_PENDING)))).all()
    if not stuck:
        return
    for turn in stuck:
        if turn.recording_path:
            _discard(recordings_dir() / turn.recording_path)
        current_app.logger.warning("turn %s: no speech model for %s; the reply was dropped and the call "
                                   "given back to the trainee", turn.id, attempt.language)
        db.session.delete(turn)
    db.session.flush()
    db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.status == PENDING)
                       .values(status=IN_CALL, last_activity_at=utcnow()))
    db.session.commit()
    db.session.expire_all()


RECOVER_MAX_TURNS = 200


def recover_interrupted(app, *, max_turns: int = RECOVER_MAX_TURNS, budget_seconds: float | None = None) -> dict:
    """Embedded mode start-up: grade the replies a crash left "received" or "grading".

    Without a queue (no REDIS_URL) nothing else would pick them up until someone regrades by hand.
    Run before this process serves anything, so no claim can be live: "grading" claims are put
    back to pending and graded at once. Bounded by max_turns and budget_seconds
    (RECOVER_ON_START_SECONDS); what is left stays pending for `flask roleplay regrade`.
    Returns {"graded": [...], "failed": [...], "left": n}.
    """
    import time
    report: dict = {"graded": [], "failed": [], "left": 0}
    if app.config.get("REDIS_URL"):
        return report  # production mode: the workers' sweeper recovers lost turns
    budget = float(budget_seconds if budget_seconds is not None
                   else app.config["RECOVER_ON_START_SECONDS"])
    deadline = time.monotonic() + budget
    with app.app_context():
        from .streaming import finish_all_streaming
        finish_all_streaming()  # replies that were still arriving: graded from what was saved
        db.session.execute(update(Turn).where(Turn.status == GRADING).values(status=TURN_PENDING)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        waiting = db.session.scalars(select(Turn.id).where(Turn.status.in_((RECEIVED, TURN_PENDING)))
                                     .order_by(Turn.id)).all()
        for index, turn_id in enumerate(waiting):
            if index >= max_turns or time.monotonic() > deadline:
                report["left"] = len(waiting) - index
                break
            attempt_id = db.session.scalar(select(Turn.attempt_id).where(Turn.id == turn_id))
            try:
                _release_unrecognisable(db.session.get(Attempt, attempt_id))
                turn = grade_turn(turn_id)
            except GradingFailed:
                report["failed"].append(turn_id)
                continue
            if turn is not None and turn.status == GRADED:
                report["graded"].append(turn_id)
        db.session.remove()
    if waiting:
        app.logger.warning("start-up: replies interrupted by a restart: graded %s, still failing %s, left %s "
                           "for `flask roleplay regrade`", report["graded"], report["failed"], report["left"])
    return report


def rescore_attempt(attempt_id: int) -> Attempt | None:
    """Grade the finished replies of an attempt again with today's grader, on the scenario version the
    attempt was taken on (past attempts keep their grade until someone asks for this).

    What was said and the path the call took stay as they were (the customer's reactions happened);
    each reply's items, judgements, tips and points are graded again, and the call's score and
    pass/fail recomputed from them. Trainers' overrides stay in the reviews log; re-apply them there.
    """
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    if attempt.status != ENDED:
        raise RoleplayError("Only a finished call can be re-scored.", code="not_ended")
    doc = doc_of(attempt)
    phrasebook = current_phrasebook()
    for turn in attempt.turns:
        if turn.status == GRADED and turn.node_id in ENDINGS and not no_speech_reason(turn):
            grade = closing_grade(doc, turn.transcript or "")  # the closing turn: its goodbye only
            turn.items = [asdict(r) for r in grade.items]
            turn.tips, turn.score_fraction = {ui: list(t) for ui, t in grade.tips.items()}, grade.fraction
            turn.earned, turn.possible = grade.earned, grade.possible
            continue
        if turn.status != GRADED or turn.node_id not in doc.nodes or no_speech_reason(turn):
            continue  # a reply without speech stays at 0: there are no words to grade again
        context = turn_context(doc, turn.node_id, turn.transcript or "", phrasebook)
        if turn.mode == "voice" and turn.metrics:
            context.metrics, context.baseline = turn.metrics, _baseline_metrics(attempt, turn)
        grade = grade_reply_turn(context, first_turn=turn.seq == 1)
        closing = [i for i in turn.items or [] if i.get("rule") == "call:closing"]
        turn.items = [asdict(r) for r in grade.items] + closing
        turn.delivery = [asdict(d) for d in grade.delivery]
        turn.tips, turn.habitual = {ui: list(t) for ui, t in grade.tips.items()}, grade.habitual
        turn.score_fraction = round(grade.fraction, 4)
        turn.earned = grade.earned + sum(i["points_awarded"] for i in closing)
        turn.possible = grade.possible + sum(i["points_possible"] for i in closing)
    _score_call(attempt, doc)
    db.session.commit()
    if not attempt.practice:
        events.roleplay_attempt_graded.send(attempt.user_id, attempt_id=attempt.id,
                                            scenario_slug=attempt.version.slug, passed=bool(attempt.passed),
                                            score=attempt.score)
    return attempt


def apply_overrides(attempt_id: int, overrides: dict[tuple[int | None, str], float]) -> Attempt:
    """Re-score a finished attempt with trainers' points for some items (app/reviews).

    ``overrides`` is the complete set in effect: (turn id, item id) → points, turn id None for the
    attempt's call-level items (answer within rings); ``{}`` restores the automatic result. Points
    stay within the item's range: an intent 0..its points, a forbidden item -its points..0. The
    automatic items on the turns are left exactly as graded; only the attempt's earned, score and
    pass/fail change, computed as ``_finish`` does (a reply's rubric points never below 0) with
    grading.scoring. Commits, then announces roleplay_attempt_graded so certification re-evaluates.
    """
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise RoleplayError("No such attempt.", code="not_found")
    if attempt.status != ENDED:
        raise RoleplayError("Only a finished call can be re-scored.", code="not_ended")
    doc = doc_of(attempt)
    wanted = {key: float(points) for key, points in overrides.items()}
    used: set[tuple[int | None, str]] = set()

    def points(turn: Turn | None, item: dict) -> float:
        key = (turn.id if turn is not None else None, item["item_id"])
        if key not in wanted:
            return float(item["points_awarded"])
        if key in used:
            raise RoleplayError(f"Item {key} is ambiguous.", code="bad_override")
        used.add(key)
        if item.get("kind") == "forbidden":
            rubric = doc.nodes[turn.node_id].rubric if turn is not None and turn.node_id in doc.nodes else ()
            worth = next((float(r.points) for r in rubric if r.id == item["item_id"] and r.kind == "forbidden"),
                         abs(float(item["points_awarded"])))
            low, high = -worth, 0.0
        else:
            low, high = 0.0, float(item["points_possible"])
        if not low - 1e-9 <= wanted[key] <= high + 1e-9:
            raise RoleplayError(f"Points for {key} must be within {low:g}..{high:g}.", code="bad_override")
        return wanted[key]

    earned = 0.0
    possible = 0.0
    rules_broken = False
    for turn in attempt.turns:
        if turn.status != GRADED:
            continue
        # The judgements are re-derived from the items with the trainer's points, so a
        # judgement, the reply's score and the call's verdict all follow an override.
        items = [dict(i, points_awarded=points(turn, i)) for i in turn.items or []]
        for item in items:
            item["matched"] = item["points_awarded"] < 0 if item.get("kind") == "forbidden" else item["points_awarded"] > 0
        delivery = [dict(d, points_awarded=points(turn, d)) for d in turn.delivery or []]
        if turn.node_id in ENDINGS:  # the closing turn: only its goodbye counts
            earned += sum(float(i["points_awarded"]) for i in items)
            possible += sum(float(i["points_possible"]) for i in items)
            continue
        turn_earned, turn_possible, judgements = score_items(items, delivery)
        if no_speech_reason(turn) and not any(key[0] == turn.id for key in wanted):
            turn_earned = 0.0  # nothing was said, and no trainer heard otherwise
        earned += turn_earned
        possible += turn_possible
        rules_broken = rules_broken or not judgements["rules"].held
    for item in attempt.call_items or []:
        earned += points(None, item)
        possible += float(item["points_possible"])
    unknown = set(wanted) - used
    if unknown:
        raise RoleplayError(f"No such item: {sorted(unknown, key=str)}.", code="bad_override")
    attempt.earned, attempt.possible = round(earned, 3), round(possible, 3)
    attempt.score = percent(earned, possible)
    attempt.passed = is_passed(attempt.score, float(doc.pass_mark)) and not rules_broken
    db.session.commit()
    if not attempt.practice:
        events.roleplay_attempt_graded.send(attempt.user_id, attempt_id=attempt.id,
                                            scenario_slug=attempt.version.slug, passed=bool(attempt.passed),
                                            score=attempt.score)
    return attempt


# --- what pages and other domains read ---------------------------------------------------

def attempt_for_user(attempt_id: int, user) -> Attempt | None:
    """The attempt when `user` may see it: its owner, or a trainer (reviews)."""
    from ..core.access import Role, has_role
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    if attempt.user_id == user.id or has_role(user, Role.TRAINER):
        return attempt
    return None


def item_view(item: dict, ui_language: str) -> dict:
    """An ItemResult-shaped dict for the API/templates, explanation in the UI language."""
    return {"item_id": item["item_id"], "rule": item["rule"], "kind": item.get("kind", "intent"),
            "label": label_of(item, ui_language), "judgement": item.get("judgement") or "",
            "points_possible": item["points_possible"], "points_awarded": item["points_awarded"],
            "matched": item["matched"], "evidence": [pick(e, ui_language) for e in item.get("evidence") or []],
            "explanation": pick(item.get("explanation"), ui_language)}


# --- trainers' overrides as every page shows them (registered by app/reviews) -----------------

ItemOverrides = Callable[[int], dict]


def register_item_overrides(app, source: ItemOverrides) -> None:
    """The domain that keeps trainers' overrides (reviews) registers `source(attempt_id)` →
    {(turn id or None, item id): points}; reports, reviews and the call screen then show every
    item, judgement, reply percentage, tip and verdict as the override left them."""
    app.extensions["roleplay_item_overrides"] = source


def overrides_of(attempt_id: int) -> dict:
    source = current_app.extensions.get("roleplay_item_overrides")
    return dict(source(attempt_id)) if source is not None else {}


def reply_percent(fraction) -> int:
    """A reply's share as a whole percentage: the one rounding every page and the call screen use."""
    return int(float(fraction or 0) * 100 + 0.5)


def _with_points(item: dict, points: float) -> dict:
    matched = points < 0 if item.get("kind") == "forbidden" else points > 0
    return dict(item, points_awarded=float(points), matched=matched)


def effective_items(turn: Turn, overrides: dict) -> tuple[list[dict], list[dict], bool]:
    """The turn's items and delivery with trainers' points applied; and whether any was overridden."""
    changed = False

    def apply(item: dict) -> dict:
        nonlocal changed
        key = (turn.id, item["item_id"])
        if key in overrides and abs(float(overrides[key]) - float(item["points_awarded"])) > 1e-9:
            changed = True
            return _with_points(item, overrides[key])
        return item

    return [apply(i) for i in turn.items or []], [apply(d) for d in turn.delivery or []], changed


def _overridden_tips(turn: Turn, items: list[dict], judgements: dict, ui_language: str) -> list[str]:
    """Tips from the items as a trainer left them (the stored tips were written for the automatic grade)."""
    from grading.rubric import tips_for
    from grading.pipeline import _result
    try:
        doc = doc_of(turn.attempt)
    except Exception:  # noqa: BLE001 - a report must not break on an odd stored version
        return []
    node = doc.nodes.get(turn.node_id)
    known = {item.id: item for item in (node.rubric if node else ())}
    known.update({item.id: item for item in doc.rules if item.id not in known})
    pairs = [(_result(i), known[i["item_id"]]) for i in items
             if i["item_id"] in known and not str(i.get("rule", "")).startswith(("call:", "delivery:"))]
    tips = tips_for([r for r, _ in pairs], [k for _, k in pairs], ui_language, judgements)
    tips += [pick(i.get("explanation"), ui_language) for i in items
             if str(i.get("rule", "")).startswith("call:") and not i["matched"]]
    return [t for t in tips if t]


def turn_view(turn: Turn, ui_language: str, overrides: dict | None = None) -> dict:
    raw_items, raw_delivery, overridden = effective_items(turn, overrides or {})
    closing = turn.node_id in ENDINGS
    judgements = score_items(raw_items, raw_delivery)[2] if turn.status == GRADED and not closing else {}
    no_speech = no_speech_reason(turn)
    if no_speech:
        judgements = {name: replace(j, held=False) for name, j in judgements.items()}
    fraction = turn.score_fraction
    if closing and overridden:
        fraction = 1.0 if all(i["matched"] for i in raw_items) else 0.0
    if overridden and judgements:
        applying = [j for j in judgements.values() if j.applies]
        fraction = sum(1 for j in applying if j.held) / len(applying) if applying else 0.0
    items = [item_view(item, ui_language) for item in raw_items]
    for item in items:
        # Another item of the same judgement was met: this one was an alternative, not a miss.
        held = judgements.get(item["judgement"])
        item["alternative"] = (item["kind"] == "intent" and not item["matched"] and held is not None
                               and held.held)
    return {
        "id": turn.id,
        "seq": turn.seq,
        "node_id": turn.node_id,
        "mode": turn.mode,
        "status": turn.status,
        "transcript": turn.transcript,
        "score_fraction": fraction,
        # The reply's percentage, computed once here: the call screen, report and review show this.
        "percent": reply_percent(fraction) if fraction is not None else None,
        "overridden": overridden,
        "earned": turn.earned,
        "possible": turn.possible,
        "items": items,
        "judgements": [{"name": name, "label": judgement_label(name, ui_language), "applies": j.applies,
                        "held": j.held, "evidence": j.evidence} for name, j in judgements.items()],
        "passed": (all(i["matched"] for i in raw_items) if closing and turn.status == GRADED else
                   bool(judgements) and all(j.held for j in judgements.values() if j.applies)),
        "closing": closing,
        "skipped": list(getattr(turn, "skipped", None) or []),
        "delivery": [item_view(item, ui_language) for item in raw_delivery],
        "metrics": turn.metrics,
        "tips": ([] if closing and overridden and all(i["matched"] for i in raw_items) else
                 _overridden_tips(turn, raw_items, judgements, ui_language) if overridden and judgements else
                 list((turn.tips or {}).get(ui_language) or (turn.tips or {}).get("zh-CN") or [])),
        "habitual": list((turn.habitual or {}).get(ui_language) or (turn.habitual or {}).get("zh-CN") or []),
        "outcome": turn.outcome,
        "no_speech": no_speech,
        "anger_before": turn.anger_before,
        "anger_after": turn.anger_after,
        "next_node": turn.next_node,
    }


def audio_url(version: ScenarioVersion, node_id: str) -> str | None:
    name = (version.audio or {}).get(node_id)
    return url_for("media.audio", name=name) if name else None


def attempt_report(attempt_id: int, ui_language: str = "zh-CN") -> dict | None:
    """Everything the after-call report shows (also for trainers' review pages)."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    version = attempt.version
    doc = ScenarioDoc(version.spec)
    overrides = overrides_of(attempt.id)
    turns = []
    for turn in attempt.turns:
        view = turn_view(turn, ui_language, overrides)
        if turn.node_id in doc.nodes:
            view["customer_line"] = doc.nodes[turn.node_id].line
            view["model_reply"] = model_reply(doc.nodes[turn.node_id].rubric, doc.language)
        else:  # the closing turn answers the customer's last line
            view["customer_line"] = last_line(doc, turn.node_id.removeprefix("end:"))
            view["model_reply"] = (doc.closing.phrases[0] if doc.closing is not None and doc.closing.phrases
                                   else "")
        view["skipped_lines"] = [doc.nodes[n].line for n in view["skipped"] if n in doc.nodes]
        view["customer_audio_url"] = audio_url(version, turn.node_id)
        view["recording_url"] = (url_for("roleplays.recording", turn_id=turn.id)
                                 if turn.recording_path else None)
        turns.append(view)
    return {
        "attempt_id": attempt.id,
        "user_id": attempt.user_id,
        "scenario_slug": version.slug,
        "scenario_version": version.version,
        "title": doc.text("title", ui_language),
        "language": attempt.language,
        "difficulty": attempt.difficulty,
        "mode": attempt.mode,
        "practice": bool(attempt.practice),
        "status": attempt.status,
        "ending": attempt.ending,
        # The customer's last words, when no closing turn already shows them.
        "last_line": (doc.last_line(attempt.ending) if attempt.ending and not any(
            t["closing"] for t in turns) else None),
        "score": attempt.score,
        "passed": attempt.passed,
        "pass_mark": version.pass_mark,
        "earned": attempt.earned,
        "possible": attempt.possible,
        "rings": attempt.rings,
        "call_items": [item_view(_with_points(item, overrides[(None, item["item_id"])])
                                 if (None, item["item_id"]) in overrides else item, ui_language)
                       for item in attempt.call_items or []],
        "turns": turns,
        "started_at": attempt.started_at,
        "finished_at": attempt.finished_at,
        "pending_turns": [t["id"] for t in turns if t["status"] in (RECEIVED, TURN_PENDING, GRADING, STREAMING)],
    }


def user_attempts(user_id: int, *, include_practice: bool = False) -> list[Attempt]:
    """The person's calls, newest first; trainers' practice calls only when asked for (they are no record)."""
    expire_idle(user_id=user_id)
    query = select(Attempt).where(Attempt.user_id == user_id)
    if not include_practice:
        query = query.where(Attempt.practice.is_(False))
    return db.session.scalars(query.order_by(Attempt.started_at.desc(), Attempt.id.desc())).all()


def score_trend(attempts: list[Attempt], *, width: int = 600, height: int = 200, pad: int = 24) -> dict:
    """Ended attempts' scores, oldest first, as SVG polyline points (0..100 on the y axis)."""
    scored = sorted((a for a in attempts if a.status == ENDED and a.score is not None),
                    key=lambda a: (a.finished_at or a.started_at, a.id))
    points = []
    step = (width - 2 * pad) / max(1, len(scored) - 1)
    for index, attempt in enumerate(scored):
        x = pad + (index * step if len(scored) > 1 else (width - 2 * pad) / 2)
        y = pad + (100 - attempt.score) / 100 * (height - 2 * pad)
        points.append({"x": round(x, 1), "y": round(y, 1), "score": attempt.score, "passed": attempt.passed,
                       "slug": attempt.version.slug, "attempt_id": attempt.id,
                       "at": attempt.finished_at or attempt.started_at})
    marks = {a.version.pass_mark for a in scored}
    # One dashed pass-mark line when every charted scenario has the same pass mark.
    pass_y = round(pad + (100 - marks.pop()) / 100 * (height - 2 * pad), 1) if len(marks) == 1 else None
    return {"width": width, "height": height, "pad": pad, "points": points,
            "polyline": " ".join(f"{p['x']},{p['y']}" for p in points), "pass_y": pass_y}


def weakest_items(user_id: int, ui_language: str = "zh-CN", limit: int = 5) -> list[dict]:
    """What the trainee most often falls short on over their graded replies, weakest first: the
    three judgements (how often each held), and call and delivery rules (share of points).

    Judgements, not rubric items: an apology not given because the trainee acknowledged the
    feeling instead is an alternative, not a weakness.
    """
    turns = db.session.scalars(select(Turn).join(Attempt).where(Attempt.user_id == user_id,
                                                                Attempt.practice.is_(False),
                                                                Turn.status == GRADED)).all()
    totals: dict[str, dict] = {}

    def add(rule: str, earned: float, possible: float, explanation) -> None:
        entry = totals.setdefault(rule, {"rule": rule, "earned": 0.0, "possible": 0.0, "count": 0,
                                         "explanation": explanation or {}})
        entry["count"] += 1
        entry["earned"] += earned
        entry["possible"] += possible

    for turn in turns:
        judgements = score_items(turn.items or [], turn.delivery or [])[2] if turn.node_id not in ENDINGS else {}
        for name, judgement in judgements.items():
            if judgement.applies:
                add(f"judgement:{name}", 1.0 if judgement.held else 0.0, 1.0, None)
        for item in list(turn.items or []) + list(turn.delivery or []):
            if str(item["rule"]).startswith(("call:", "delivery:")):
                add(item["rule"], item["points_awarded"], item["points_possible"], item.get("explanation"))
    rows = []
    for entry in totals.values():
        if entry["possible"] <= 0:
            continue
        share = entry["earned"] / entry["possible"]
        if share >= 1:
            continue
        rows.append({"rule": entry["rule"], "share": round(share, 3), "count": entry["count"],
                     "explanation": pick(entry["explanation"], ui_language)})
    rows.sort(key=lambda row: (row["share"], -row["count"], row["rule"]))
    return rows[:limit]


@dataclass(frozen=True)
class RoleplayEvidence:
    attempt_id: int
    scenario_slug: str
    difficulty: int
    score: float
    passed: bool
    finished_at: datetime
    mode: str
    language: str = ""


def voice_passes(user_id: int, *, min_difficulty: int, since: datetime,
                 modes: tuple[str, ...] = ("voice",)) -> list[RoleplayEvidence]:
    """Passed drills answered in one of `modes` (fully by voice by default) at or above a difficulty,
    finished since `since`, oldest first. Trainers' practice calls are never evidence."""
    rows = db.session.scalars(
        select(Attempt).where(Attempt.user_id == user_id, Attempt.status == ENDED, Attempt.passed.is_(True),
                              Attempt.mode.in_(modes), Attempt.difficulty >= min_difficulty,
                              Attempt.finished_at >= since, Attempt.practice.is_(False))
        .order_by(Attempt.finished_at, Attempt.id)).all()
    return [RoleplayEvidence(a.id, a.version.slug, a.difficulty, float(a.score), bool(a.passed), a.finished_at,
                             a.mode, a.language) for a in rows]


def call_facts(attempt_id: int) -> dict | None:
    """What certification needs to know to sign one call off (no Attempt object leaves the domain)."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    return {"attempt_id": attempt.id, "user_id": attempt.user_id, "status": attempt.status, "mode": attempt.mode,
            "passed": bool(attempt.passed), "score": attempt.score, "language": attempt.language,
            "difficulty": attempt.difficulty, "scenario_slug": attempt.version.slug,
            "finished_at": attempt.finished_at, "practice": bool(attempt.practice), "ended": attempt.status == ENDED}


def library_languages() -> list[str]:
    """The languages of the scenarios trainees can take, sorted."""
    return sorted({row.current_version.language for row in library() if row.current_version is not None})


# --- scoring a text from the command line ------------------------------------------------

def scenario_doc_for(slug: str, root: str | None = None) -> tuple[ScenarioDoc, GradingPhrasebook | None, str]:
    """The scenario as synced (current version), else straight from the content files."""
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    if row is not None and row.current_version is not None:
        return ScenarioDoc(row.current_version.spec), current_phrasebook(), f"database (version {row.current_version.version})"
    from ..content.services import load_bundle
    bundle = load_bundle(root)
    if slug not in bundle.scenarios:
        raise RoleplayError(f"unknown scenario {slug!r} (known: {', '.join(sorted(bundle.scenarios))})",
                            code="not_found")
    return ScenarioDoc(scenario_document(bundle.scenarios[slug])), load_phrasebook(bundle.phrasebook), "content files"


def score_text(doc: ScenarioDoc, node_id: str | None, text: str, ui_language: str = "zh-CN",
               phrasebook: GradingPhrasebook | None = None) -> dict:
    """How one reply at one node would grade, and where the call would go next."""
    node_id = node_id or doc.start
    if node_id not in doc.nodes:
        raise RoleplayError(f"unknown node {node_id!r} (nodes: {', '.join(doc.nodes)})", code="not_found")
    node = doc.nodes[node_id]
    grade = grade_reply_turn(turn_context(doc, node_id, text, phrasebook), first_turn=node_id == doc.start)
    score = percent(grade.earned, grade.possible)
    anger = int(doc.starting_anger) if node_id == doc.start else node.anger
    state = CallState(node_id, anger).step(node.next, grade.outcome, anger_step=doc.anger_step,
                                           hangup_after_poor=int(doc.hangup_after_poor))
    rubric = [r for r in grade.items if not r.rule.startswith("call:")]
    result = {
        "scenario": doc.slug, "node": node_id, "language": doc.language, "text": text,
        "score": score, "passed": grade.passed,
        "judgements": {name: {"applies": j.applies, "held": j.held, "evidence": j.evidence,
                              "label": judgement_label(name, ui_language)}
                       for name, j in grade.judgements.items()},
        "earned": grade.earned, "possible": grade.possible, "fraction": round(grade.fraction, 4),
        "items": [item_view(_item_json(r), ui_language) for r in rubric],
        "tips": grade.tips[ui_language],
        "habitual": grade.habitual[ui_language],
        "transition": {"outcome": grade.outcome, "next": state.node, "anger_before": anger,
                       "anger_after": state.anger, "ended": state.ended},
    }
    for rule in grade.items:
        if rule.rule == "call:greeting":
            result["greeting"] = item_view(_item_json(rule), ui_language)
    # One result for the summary and the list: each item says how it counted in its judgement
    # (a reply scores by judgements, so an unmet item of a held judgement was "not needed").
    for item in result["items"] + ([result["greeting"]] if "greeting" in result else []):
        item["status"] = item_status(item, grade.judgements)
    return result


def item_status(item: dict, judgements: dict) -> str:
    """met | not_needed | missed (intents), avoided | said (forbidden)."""
    if item.get("kind") == "forbidden":
        return "said" if item["matched"] else "avoided"
    if item["matched"]:
        return "met"
    held = judgements.get(item.get("judgement") or "")
    return "not_needed" if held is not None and held.held else "missed"


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
