"""Where voice replies' recordings live on disk, and each learner's allowance for ungraded ones."""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from .models import GRADING, RECEIVED, TURN_PENDING, Attempt, Turn

PENDING_STATUSES = (RECEIVED, GRADING, TURN_PENDING)


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


def discard(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
