"""The role-play domain's refusals sit on the one error base, with the codes the call screen relies on."""
from __future__ import annotations

from app.core.errors import UserError
from app.roleplays.errors import (BadAudio, GradingFailed, NotInCall, PendingStorageFull, RoleplayError,
                                  VoiceRequired, VoiceUnavailable)


def test_refusals_are_user_errors_with_their_codes_and_statuses():
    assert all(issubclass(cls, UserError) for cls in (RoleplayError, NotInCall, BadAudio, GradingFailed))
    assert {cls.__name__: (cls.code, cls.status) for cls in
            (RoleplayError, NotInCall, VoiceRequired, VoiceUnavailable, PendingStorageFull, GradingFailed)} == {
        "RoleplayError": ("invalid", 400), "NotInCall": ("not_in_call", 409),
        "VoiceRequired": ("voice_required", 409), "VoiceUnavailable": ("voice_unavailable", 409),
        "PendingStorageFull": ("pending_full", 429), "GradingFailed": ("pending", 202)}


def test_the_constructor_keeps_its_message_and_an_instance_code():
    refused = RoleplayError("The reply is empty.", code="empty")
    assert (refused.code, refused.status, refused.message, str(refused)) == (
        "empty", 400, "The reply is empty.", "The reply is empty.")
    assert BadAudio("cut off", code="truncated").code == "truncated"
    failed = GradingFailed("ModelNotInstalled: ko-KR", 7)
    assert (failed.turn_id, failed.code, failed.message) == (7, "pending", "ModelNotInstalled: ko-KR")
