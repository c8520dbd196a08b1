"""A voice reply that arrives as one whole recording (the browser's upload, and its fallback when a
stream broke). Above streaming and the call flow, which it uses, so neither imports the other."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import select

from speech.errors import AudioError

from ..core.clock import utcnow
from ..extensions import db
from ..speechops import services as speech
from .errors import BadAudio, NotInCall, PendingStorageFull, VoiceUnavailable
from .models import STREAMING, Attempt, Turn
from .operations import add_turn, claim_call
from .queries import voice_available
from .recordings import discard, pending_limit_bytes, pending_recording_bytes, recordings_dir
from .streaming import finish


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
        turn, _ = finish(streamed.id, speech_ended_ms=speech_ended_ms, replacement=data, reason="upload")
        if turn is None:
            raise NotInCall("The call is not waiting for a reply.")
        return turn
    claim_call(attempt, "voice")
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
        discard(tmp)
        raise
    try:
        speech.load_audio(path)
    except AudioError as exc:
        # Not a turn: the trainee simply tries again. Kept files would let one learner fill
        # the disk with refused uploads, so nothing of it stays.
        discard(path)
        raise BadAudio(exc.message, code=exc.code) from exc
    try:
        return add_turn(attempt, "voice", recording_path=relative.as_posix(), speech_ended_ms=speech_ended_ms)
    except BaseException:
        discard(path)  # the call had moved on (a second reply raced this one): no turn, no file
        raise
