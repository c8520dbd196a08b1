"""Streamed voice replies: the call screen sends the microphone's audio while the trainee speaks.

Transport: chunked HTTP POSTs (``POST /api/roleplays/attempts/<id>/stream?seq=N[&final=1]``, body raw
16 kHz mono PCM16, 100–250 ms each), one at a time per turn, with the session's CSRF token like every
other call of the drill API (docs/production.md says why not a WebSocket).

What is kept where:

- The recording, on disk, is the truth. Each accepted chunk is appended to ``<recording>.stream``
  (raw PCM) and its sequence number and byte count written to ``<recording>.stream.json`` under an
  exclusive file lock; bytes past the recorded count (a crash between the two writes) are cut off
  before the next append, so a retried chunk is never stored twice. When the reply ends the PCM is
  written as ``<recording>.wav`` (temporary name, then renamed) and checked before it is graded.
- The recogniser, in memory (a cache): in embedded mode (no REDIS_URL) each open turn has a Vosk
  RecognitionStream in this process, fed chunk by chunk (``LiveStreams``: capped, idle streams closed
  by a reaper thread). When the last chunk arrives only it and the final result remain to decode.
  In production mode the web processes stay stateless: each saved chunk is also passed on (Redis
  stream per turn, ``app.jobs.streams``) to one grading worker that owns that turn's recogniser and,
  after the final chunk, grades it; without such an owner the worker recognises the saved recording.
- A stream that breaks (network, closed tab, killed process) leaves a turn "streaming": the reaper
  (embedded), the start-up recovery, or the jobs sweeper (production) finish it from the saved
  recording after STREAM_IDLE_SECONDS; the browser, when a chunk fails, sends the whole recording
  the old way instead (``replies.submit_voice`` takes it over). Whichever comes first moves the turn from
  "streaming" to "received" (a guarded UPDATE), and grading is the usual exactly-once ``grade_turn``.
"""
from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import uuid
import wave
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select, update

from speech.asr import RecognitionStream, Transcript
from speech.audio import TARGET_RATE
from speech.errors import AudioError

from ..core.clock import utcnow
from ..extensions import db
from ..speechops import services as speech
from . import errors, grader, operations, queries, recordings
from .dispatch import grading_queue
from .models import IN_CALL, PENDING, RECEIVED, STREAMING, Attempt, Turn

BYTES_PER_SECOND = TARGET_RATE * 2
# Settings (type, default and meaning of each: app/settings.py).
SETTINGS = ("STREAM_CHUNK_MAX_MS", "STREAM_CHUNK_MIN_MS", "STREAM_IDLE_SECONDS", "STREAMS_MAX")


class StreamRefused(errors.BadAudio):
    """A chunk that is not taken; nothing of it is stored."""

    STATUSES = {"out_of_order": 409, "stream_ended": 409, "chunk_too_long": 413, "chunk_format": 400,
                "too_many_chunks": 400, "too_long": 400}

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code)
        self.status = self.STATUSES.get(code, 400)


def settings(app=None) -> dict:
    config = (app or current_app).config
    return {key: float(config[key]) for key in SETTINGS}


def max_chunks(app=None) -> int:
    """Most chunks one reply may have: the longest reply in the shortest chunks allowed."""
    config = (app or current_app).config
    s = settings(app)
    return int(float(config["MAX_AUDIO_SECONDS"]) * 1000 / s["STREAM_CHUNK_MIN_MS"]) + 1


# --- the recording on disk -----------------------------------------------------------------

def _pcm_path(wav: Path) -> Path:
    return wav.with_suffix(".stream")


def _meta_path(wav: Path) -> Path:
    return wav.with_suffix(".stream.json")


@contextmanager
def _locked(wav: Path):
    """An exclusive lock on the turn's stream (held across processes: gunicorn workers)."""
    lock_path = wav.with_suffix(".stream.lock")
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_meta(wav: Path) -> dict | None:
    try:
        return json.loads(_meta_path(wav).read_text())
    except (OSError, ValueError):
        return None


def _write_meta(wav: Path, meta: dict) -> None:
    tmp = _meta_path(wav).with_suffix(f".{uuid.uuid4().hex[:6]}.tmp")
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, _meta_path(wav))


def _cleanup(wav: Path) -> None:
    for path in (_pcm_path(wav), _meta_path(wav), wav.with_suffix(".stream.lock")):
        recordings.discard(path)


def _write_wav(wav: Path, pcm: bytes) -> None:
    tmp = wav.with_suffix(".part")
    try:
        with wave.open(str(tmp), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(TARGET_RATE)
            out.writeframes(pcm)
        os.replace(tmp, wav)  # a crash never leaves half a file under the final name
    except BaseException:
        recordings.discard(tmp)
        raise


# --- live recognisers (embedded mode) -----------------------------------------------------------

@dataclass
class LiveStream:
    turn_id: int
    stream: RecognitionStream | None
    fed: int = 0                 # bytes fed to the recogniser, in order
    broken: bool = False         # a chunk the recogniser missed or raised on: recognise the file instead
    last: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)


class LiveStreams:
    """This process's open recognisers, keyed by turn id (capped; idle ones closed by the reaper)."""

    def __init__(self, app) -> None:
        self.app = app
        self._streams: dict[int, LiveStream] = {}
        self._guard = threading.Lock()
        self._reaper: threading.Thread | None = None
        self._stop = threading.Event()

    def get(self, turn_id: int) -> LiveStream | None:
        with self._guard:
            return self._streams.get(turn_id)

    def open(self, turn_id: int, factory) -> LiveStream:
        with self._guard:
            if turn_id in self._streams:
                return self._streams[turn_id]
            full = len(self._streams) >= int(settings(self.app)["STREAMS_MAX"])
        recogniser = None
        if not full:
            try:
                recogniser = factory()
            except Exception:  # no model, a load failure: the saved recording is recognised at the end
                self.app.logger.warning("turn %s: no live recogniser; it is recognised when it ends", turn_id,
                                        exc_info=True)
        live = LiveStream(turn_id, recogniser, broken=recogniser is None)
        with self._guard:
            live = self._streams.setdefault(turn_id, live)
        self._ensure_reaper()
        return live

    def pop(self, turn_id: int) -> LiveStream | None:
        with self._guard:
            return self._streams.pop(turn_id, None)

    def count(self) -> int:
        with self._guard:
            return len(self._streams)

    def idle(self, older_than: float) -> list[int]:
        cutoff = time.monotonic() - older_than
        with self._guard:
            return [turn_id for turn_id, live in self._streams.items() if live.last < cutoff]

    def _ensure_reaper(self) -> None:
        if self._reaper is not None and self._reaper.is_alive():
            return
        if not self.app.config["STREAM_REAPER"]:
            return  # tests drive reap_idle() themselves
        self._reaper = threading.Thread(target=self._reap_loop, name="stream-reaper", daemon=True)
        self._reaper.start()

    def _reap_loop(self) -> None:
        while not self._stop.wait(1.0):
            if not self.count():
                continue  # nothing open here: no database access at all
            try:
                with self.app.app_context():
                    try:
                        # Every stream of this process is in the registry; orphans of a dead process are
                        # finished by the start-up recovery (embedded) or the sweeper (production).
                        reap_idle(scan_database=False)
                    finally:
                        db.session.remove()
            except Exception:  # the database may be restarting; the next round tries again
                self.app.logger.exception("stream reaper failed")

    def stop(self) -> None:
        self._stop.set()


def live_streams(app=None) -> LiveStreams:
    app = app or current_app._get_current_object()
    streams = app.extensions.get("roleplay_live_streams")
    if streams is None:
        streams = app.extensions.setdefault("roleplay_live_streams", LiveStreams(app))
    return streams


def _live_enabled() -> bool:
    """Embedded mode recognises while the trainee speaks; production keeps web processes stateless."""
    return grading_queue() is None


def _recogniser_factory(attempt: Attempt, node_id: str):
    def make() -> RecognitionStream:
        doc = queries.doc_of(attempt)
        grammar = grader.recognition_grammar(doc, node_id)
        return speech.registry().stream(attempt.language, grammar or None)
    return make


# --- chunks ---------------------------------------------------------------------------------

@dataclass
class ChunkResult:
    turn: Turn
    seq: int
    received_ms: int
    partial: str | None = None
    duplicate: bool = False
    final: bool = False


def _streaming_turn(attempt_id: int) -> Turn | None:
    return db.session.scalar(select(Turn).where(Turn.attempt_id == attempt_id, Turn.status == STREAMING)
                             .order_by(Turn.seq.desc()).limit(1))


def check_chunk(data: bytes, *, final: bool) -> None:
    """The chunk's own shape: whole 16-bit samples, not too long, not a flood of tiny ones."""
    s = settings()
    if len(data) % 2:
        raise StreamRefused("A chunk must hold whole 16-bit samples.", code="chunk_format")
    if len(data) > s["STREAM_CHUNK_MAX_MS"] / 1000 * BYTES_PER_SECOND:
        raise StreamRefused("The chunk is too long.", code="chunk_too_long")
    if not final and len(data) < s["STREAM_CHUNK_MIN_MS"] / 1000 * BYTES_PER_SECOND:
        raise StreamRefused("The chunk is too short.", code="chunk_format")


def open_stream(attempt: Attempt) -> Turn:
    """The first chunk: the reply becomes a turn ("streaming") holding the call, with an empty recording."""
    operations.claim_call(attempt, "voice")
    if not queries.voice_available(attempt.language):
        raise errors.VoiceUnavailable("This call's language cannot be recognised here; reply by typing.")
    if recordings.pending_recording_bytes(attempt.user_id) >= recordings.pending_limit_bytes():
        raise errors.PendingStorageFull("Too many recordings are waiting for grading.")
    relative = Path(f"u{attempt.user_id}") / f"a{attempt.id}" / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex}.wav"
    wav = recordings.recordings_dir() / relative
    wav.parent.mkdir(parents=True, exist_ok=True)
    _pcm_path(wav).write_bytes(b"")
    _write_meta(wav, {"next": 0, "bytes": 0, "last_len": 0, "closed": False})
    try:
        return operations.add_turn(attempt, "voice", recording_path=relative.as_posix(), status=STREAMING)
    except BaseException:
        _cleanup(wav)
        raise


def accept_chunk(attempt: Attempt, seq: int, data: bytes, *, final: bool = False,
                 speech_ended_ms: int | None = None) -> ChunkResult:
    """Store one chunk in order (and feed it to the live recogniser). Raises StreamRefused / RoleplayError.

    seq 0 opens the reply; a repeat of the last accepted chunk (its answer was lost) is answered again
    without storing anything. With ``final`` the reply ends: see ``finish``.
    """
    check_chunk(data, final=final)
    turn = _streaming_turn(attempt.id)
    if turn is None:
        if seq != 0:
            if attempt.turns:
                raise StreamRefused("This reply has already ended.", code="stream_ended")
            raise StreamRefused("The reply must start with chunk 0.", code="out_of_order")
        turn = open_stream(attempt)
    wav = recordings.recordings_dir() / turn.recording_path
    live = live_streams().open(turn.id, _recogniser_factory(attempt, turn.node_id)) if _live_enabled() else None
    partial = None
    with _locked(wav):
        meta = _read_meta(wav)
        if meta is None or meta.get("closed"):
            raise StreamRefused("This reply has already ended.", code="stream_ended")
        if seq == meta["next"] - 1 and len(data) == meta.get("last_len") and not final:
            return ChunkResult(turn, seq, _ms(meta["bytes"]), duplicate=True)
        if seq != meta["next"]:
            raise StreamRefused(f"Expected chunk {meta['next']}, got {seq}.", code="out_of_order")
        if seq + 1 > max_chunks():
            raise StreamRefused("Too many chunks.", code="too_many_chunks")
        if meta["bytes"] + len(data) > float(current_app.config["MAX_AUDIO_SECONDS"]) * BYTES_PER_SECOND:
            raise StreamRefused("The recording is too long.", code="too_long")
        with open(_pcm_path(wav), "r+b") as pcm:
            pcm.truncate(meta["bytes"])  # drop what a crash may have left past the last recorded chunk
            pcm.seek(meta["bytes"])
            pcm.write(data)
            pcm.flush()
            os.fsync(pcm.fileno())
        meta.update(next=seq + 1, bytes=meta["bytes"] + len(data), last_len=len(data))
        _write_meta(wav, meta)
        if live is not None:
            partial = _feed(live, data, meta["bytes"])
        else:
            _pass_on(turn.id, seq, data)  # still under the lock: the chunks leave in their order
    return ChunkResult(turn, seq, _ms(meta["bytes"]), partial=partial)


def _pass_on(turn_id: int, seq: int, data: bytes) -> None:
    """Production: hand the saved chunk to the grading worker that recognises this reply live (a Redis
    stream per turn, app.jobs.streams). Best effort: the saved recording stays the truth."""
    queue = grading_queue()
    if queue is None or queue.stream_chunk is None:
        return
    try:
        queue.stream_chunk(turn_id, seq, data)
    except Exception:  # Redis down: the reply is recognised from its recording when it ends
        current_app.logger.warning("turn %s: chunk %s not passed on to a live recogniser", turn_id, seq,
                                   exc_info=True)


def live_owner_grades(turn_id: int) -> bool:
    """Production, after the final chunk: True when a grading worker recognised the reply live and now
    grades it (so nothing is queued); False: queue it as usual (the worker recognises the recording)."""
    queue = grading_queue()
    if queue is None or queue.stream_end is None:
        return False
    try:
        return bool(queue.stream_end(turn_id))
    except Exception:
        current_app.logger.warning("turn %s: could not reach its live recogniser; queued instead", turn_id,
                                   exc_info=True)
        return False


def _ms(nbytes: int) -> int:
    return int(nbytes * 1000 / BYTES_PER_SECOND)


def _feed(live: LiveStream, data: bytes, total: int) -> str | None:
    with live.lock:
        live.last = time.monotonic()
        if live.broken or live.stream is None:
            return None
        if live.fed + len(data) != total:  # chunks reached another process (or were missed): use the file
            live.broken = True
            return None
        try:
            text = live.stream.feed(data) if data else None
        except Exception:
            current_app.logger.warning("turn %s: live recognition failed; the saved recording will be "
                                       "recognised instead", live.turn_id, exc_info=True)
            live.broken = True
            return None
        live.fed = total
        return text


def _final_transcript(live: LiveStream | None, total: int) -> Transcript | None:
    if live is None:
        return None
    with live.lock:
        if live.broken or live.stream is None or live.fed != total:
            return None
        try:
            return live.stream.final()
        except Exception:
            current_app.logger.warning("turn %s: the live recogniser's final result failed", live.turn_id,
                                       exc_info=True)
            return None


# --- ending a reply ---------------------------------------------------------------------------

def finish(turn_id: int, *, speech_ended_ms: int | None = None, replacement: bytes | None = None,
           reason: str = "final") -> tuple[Turn | None, Transcript | None]:
    """End a streaming reply: write and check its recording, then mark it "received" (exactly once).

    ``replacement``: the whole recording the browser sent after its stream broke (a WAV); it holds
    everything the chunks did and more, so it replaces them. Returns (turn, live transcript or None);
    (None, None) when someone else already finished it. Raises BadAudio when the recording is unusable:
    the turn is removed and the call waits for a reply again (as a refused upload leaves it).
    """
    turn = db.session.get(Turn, turn_id)
    if turn is None or turn.status != STREAMING:
        return None, None
    wav = recordings.recordings_dir() / turn.recording_path
    with _locked(wav):
        db.session.expire_all()
        turn = db.session.get(Turn, turn_id)
        if turn is None or turn.status != STREAMING:
            return None, None
        meta = _read_meta(wav) or {"bytes": None}
        if replacement is not None:
            tmp = wav.with_suffix(".part")
            try:
                tmp.write_bytes(replacement)
                os.replace(tmp, wav)
            except BaseException:
                recordings.discard(tmp)
                raise
        elif _pcm_path(wav).exists():
            pcm = _pcm_path(wav).read_bytes()
            if meta.get("bytes") is not None:
                pcm = pcm[:meta["bytes"]]
            _write_wav(wav, pcm)
        meta["closed"] = True
        if _meta_path(wav).exists():
            _write_meta(wav, meta)
        live = live_streams().pop(turn_id)
        try:
            speech.load_audio(wav)
        except AudioError as exc:
            _give_back(turn, wav)
            raise errors.BadAudio(exc.message, code=exc.code) from exc
        except OSError as exc:  # no recording at all (the stream's files are gone)
            _give_back(turn, wav)
            raise errors.BadAudio(str(exc), code="empty") from exc
        moved = db.session.execute(
            update(Turn).where(Turn.id == turn_id, Turn.status == STREAMING)
            .values(status=RECEIVED, speech_ended_ms=speech_ended_ms if speech_ended_ms is not None
                    else turn.speech_ended_ms)
            .execution_options(synchronize_session=False))
        db.session.commit()
        _cleanup(wav)
        if moved.rowcount != 1:
            return None, None
    transcript = None
    if replacement is None and reason == "final":
        transcript = _final_transcript(live, int(meta.get("bytes") or 0))
    db.session.expire_all()
    return db.session.get(Turn, turn_id), transcript


def _give_back(turn: Turn, wav: Path) -> None:
    """An unusable streamed reply is no reply: remove it and let the trainee answer again."""
    attempt_id = turn.attempt_id
    recordings.discard(wav)
    _cleanup(wav)
    removed = db.session.execute(delete(Turn).where(Turn.id == turn.id, Turn.status == STREAMING)
                                 .execution_options(synchronize_session=False))
    if removed.rowcount == 1:
        db.session.execute(update(Attempt).where(Attempt.id == attempt_id, Attempt.status == PENDING)
                           .values(status=IN_CALL, last_activity_at=utcnow()))
    db.session.commit()
    db.session.expire_all()


def grade_finished(turn: Turn, transcript: Transcript | None):
    """Grade a reply that just finished streaming: in this process (embedded) or by a worker (queued)."""
    queue = grading_queue()
    if queue is not None:
        queue.enqueue(turn.id, reason="streamed")
        return None
    return grader.grade_turn(turn.id, recognized=transcript)


def reap_idle(idle_seconds: float | None = None, *, scan_database: bool = True) -> list[int]:
    """Finish, from their saved recordings, streams no chunk reached for STREAM_IDLE_SECONDS: the ones
    this process holds, and (``scan_database``) every "streaming" turn whose recording has not grown
    for that long (the jobs sweeper: chunks may have reached any web process). Returns the ids of the
    turns finished and graded (or queued)."""
    idle = settings()["STREAM_IDLE_SECONDS"] if idle_seconds is None else idle_seconds
    candidates = set(live_streams().idle(idle))
    now = time.time()
    rows = db.session.execute(select(Turn.id, Turn.recording_path).where(Turn.status == STREAMING)).all() \
        if scan_database else []
    for turn_id, path in rows:
        wav = recordings.recordings_dir() / (path or "")
        try:
            touched = _meta_path(wav).stat().st_mtime
        except OSError:
            touched = 0.0
        if now - touched >= idle:
            candidates.add(turn_id)
    done = []
    for turn_id in sorted(candidates):
        done.extend(_finish_broken(turn_id))
    return done


def _finish_broken(turn_id: int) -> list[int]:
    try:
        turn, _ = finish(turn_id, reason="broken")
    except errors.BadAudio:
        current_app.logger.info("turn %s: the broken stream held no usable audio; the call waits again", turn_id)
        return []
    if turn is None:
        live_streams().pop(turn_id)
        return []
    current_app.logger.info("turn %s: the stream broke; grading its saved recording", turn_id)
    try:
        grade_finished(turn, None)
    except errors.GradingFailed:
        pass
    return [turn_id]


def finish_all_streaming() -> list[int]:
    """Start-up (embedded): every reply left streaming by the previous process is finished from its
    saved recording (nothing can still be sending to it: its recogniser died with that process)."""
    ids = db.session.scalars(select(Turn.id).where(Turn.status == STREAMING).order_by(Turn.id)).all()
    done = []
    for turn_id in ids:
        try:
            turn, _ = finish(turn_id, reason="broken")
        except errors.BadAudio:
            continue
        if turn is not None:
            done.append(turn_id)
    return done
