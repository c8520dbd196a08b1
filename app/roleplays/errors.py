"""The role-play domain's refusals: each a UserError with a stable ``code`` and an HTTP ``status``.

The JSON answers carry the code as ``error``; the call screen's script (static/js) acts on some of them
(stream_ended, out_of_order, chunk_format, chunk_too_long, too_many_chunks), so codes never change.
"""
from __future__ import annotations

from ..core.errors import UserError


class RoleplayError(UserError):
    """A refused action; ``status`` is the HTTP status, ``code`` a stable machine name."""

    status = 400
    code = "invalid"


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
