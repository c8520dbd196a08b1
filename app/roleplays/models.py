"""Role-play scenarios as synced from roleplays/, and trainees' attempts at them.

A scenario is a stable slug; every change to what it grades makes a new immutable
ScenarioVersion (the full resolved spec as JSON), and an attempt points at the exact
version it was taken on, so editing a scenario never changes a past grade.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..extensions import db

# Attempt.status
RINGING, IN_CALL, PENDING, ENDED, ABANDONED = "ringing", "in_call", "pending", "ended", "abandoned"
LIVE_STATUSES = (RINGING, IN_CALL)
# A call left ringing or in progress this long without activity is abandoned. Reads derive it
# (Attempt.effective_status, Attempt.abandoned_condition) and never write it: `flask roleplay
# expire-idle` (cron) and the next write that acts on the call persist it.
IDLE_ABANDON_AFTER = timedelta(hours=2)
# Turn.status: received (saved, not graded yet) → grading → graded; a failure leaves it pending.
RECEIVED, GRADING, GRADED, TURN_PENDING = "received", "grading", "graded", "pending"
# A voice reply still arriving in chunks (roleplays.streaming); it becomes "received" when it ends.
STREAMING = "streaming"


class Scenario(db.Model):
    __tablename__ = "roleplay_scenarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    # "file" (roleplays/<slug>.yaml, owned by the content sync) or "web" (authored in the browser,
    # published by sync.publish_version; the sync never retires it).
    source: Mapped[str] = mapped_column(String(8), default="file", server_default="file")
    # The version new attempts use. Deliberately no foreign key (the versions table already
    # points here; a cycle would complicate deletes and migrations): kept right by the sync.
    current_version_id: Mapped[int | None]
    retired: Mapped[bool] = mapped_column(default=False)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    current_version: Mapped[ScenarioVersion | None] = relationship(
        primaryjoin="foreign(Scenario.current_version_id) == ScenarioVersion.id", viewonly=True, lazy="joined")
    versions: Mapped[list[ScenarioVersion]] = relationship(
        back_populates="scenario", foreign_keys="ScenarioVersion.scenario_id", order_by="ScenarioVersion.version")

    def __repr__(self) -> str:
        return f"<Scenario {self.slug}>"


class ScenarioVersion(db.Model):
    __tablename__ = "roleplay_scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("roleplay_scenarios.id"), index=True)
    slug: Mapped[str] = mapped_column(String(63))
    version: Mapped[int]
    # sha256 of the resolved spec below (library phrases included), so a library change that
    # alters how a scenario grades makes a new version too; audio file names are not part of it.
    checksum: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    difficulty: Mapped[int]
    pass_mark: Mapped[float]
    title: Mapped[dict] = mapped_column(JSON)
    # The whole resolved scenario: see scenario.scenario_document.
    spec: Mapped[dict] = mapped_column(JSON)
    # node id -> synthesized audio file name in AUDIO_CACHE_DIR (served by media.audio).
    audio: Mapped[dict] = mapped_column(JSON, default=dict)
    # Who published it (web-authored versions); None for versions made by the content sync.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    scenario: Mapped[Scenario] = relationship(back_populates="versions", foreign_keys=[scenario_id])


class Phrasebook(db.Model):
    """The habitual → professional table (roleplays/_phrasebook.yaml); one row, replaced on change."""

    __tablename__ = "roleplay_phrasebook"

    id: Mapped[int] = mapped_column(primary_key=True)
    checksum: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attempt(db.Model):
    __tablename__ = "roleplay_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("roleplay_scenarios.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("roleplay_scenario_versions.id"), index=True)
    # voice | typed. A voice attempt becomes typed for good as soon as one reply is typed.
    mode: Mapped[str] = mapped_column(String(8))
    require_voice: Mapped[bool] = mapped_column(default=False)  # set by assignments
    # A trainer trying the drill: kept out of statistics, reviews, certification and flags (0022).
    practice: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status: Mapped[str] = mapped_column(String(16), default=RINGING, index=True)
    language: Mapped[str] = mapped_column(String(8))
    difficulty: Mapped[int]
    # The live call: the customer's current node (or the ending once over), anger, poor streak.
    node_id: Mapped[str] = mapped_column(String(63))
    anger: Mapped[int]
    consecutive_poor: Mapped[int] = mapped_column(default=0)
    rings: Mapped[int | None]  # rings heard when the trainee picked up
    # Call-level results not tied to one reply (answer within rings).
    call_items: Mapped[list] = mapped_column(JSON, default=list)
    ending: Mapped[str | None] = mapped_column(String(16))  # resolved | transferred | hangup
    earned: Mapped[float | None]
    possible: Mapped[float | None]
    score: Mapped[float | None]  # percent, grading.scoring.percent
    passed: Mapped[bool | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    version: Mapped[ScenarioVersion] = relationship(lazy="joined")
    scenario: Mapped[Scenario] = relationship()
    turns: Mapped[list[Turn]] = relationship(back_populates="attempt", order_by="Turn.seq",
                                             cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Attempt {self.id} {self.status}>"

    def is_idle(self, now: datetime | None = None) -> bool:
        """Still ringing or in progress, but untouched for longer than IDLE_ABANDON_AFTER: abandoned,
        though not written as such yet."""
        return (self.status in LIVE_STATUSES and self.last_activity_at is not None
                and self.last_activity_at < (now or utcnow()) - IDLE_ABANDON_AFTER)

    def effective_status(self, now: datetime | None = None) -> str:
        """The status to show and to decide by: an idle live call is abandoned."""
        return ABANDONED if self.is_idle(now) else self.status

    def is_abandoned(self, now: datetime | None = None) -> bool:
        return self.effective_status(now) == ABANDONED

    @classmethod
    def idle_condition(cls, now: datetime | None = None):
        """SQL for is_idle: live calls untouched for longer than IDLE_ABANDON_AFTER."""
        return sa.and_(cls.status.in_(LIVE_STATUSES), cls.last_activity_at < (now or utcnow()) - IDLE_ABANDON_AFTER)

    @classmethod
    def abandoned_condition(cls, now: datetime | None = None):
        """SQL for is_abandoned: written as abandoned, or idle."""
        return sa.or_(cls.status == ABANDONED, cls.idle_condition(now))


class Turn(db.Model):
    """One reply of the trainee to one customer line."""

    __tablename__ = "roleplay_turns"
    __table_args__ = (UniqueConstraint("attempt_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("roleplay_attempts.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]  # 1, 2, ... in call order
    node_id: Mapped[str] = mapped_column(String(63))  # the customer line this replies to
    anger_before: Mapped[int]
    mode: Mapped[str] = mapped_column(String(8))  # voice | typed
    status: Mapped[str] = mapped_column(String(16), default=RECEIVED, index=True)
    # Relative to RECORDINGS_DIR; written before anything else happens to the reply.
    recording_path: Mapped[str | None] = mapped_column(String(255))
    speech_ended_ms: Mapped[int | None] = mapped_column(BigInteger)  # client clock, end of speech
    transcript: Mapped[str | None] = mapped_column(Text)
    # Graded results (ItemResult-shaped dicts; tips and habitual hits per UI language).
    items: Mapped[list] = mapped_column(JSON, default=list)
    delivery: Mapped[list] = mapped_column(JSON, default=list)
    metrics: Mapped[dict | None] = mapped_column(JSON)
    tips: Mapped[dict] = mapped_column(JSON, default=dict)
    habitual: Mapped[dict] = mapped_column(JSON, default=dict)
    earned: Mapped[float | None]
    possible: Mapped[float | None]
    score_fraction: Mapped[float | None]  # share of the node's rubric points: drives the outcome
    outcome: Mapped[str | None] = mapped_column(String(16))
    anger_after: Mapped[int | None]
    next_node: Mapped[str | None] = mapped_column(String(63))
    # Nodes this reply already answered, so the customer did not ask them (migration 0028).
    skipped: Mapped[list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    grading_started_at: Mapped[datetime | None]
    graded_at: Mapped[datetime | None]
    # The grading claim (grader.grade_turn): when it was taken (a stale one may be taken over
    # once), the token that fences the final write, how often it was claimed, and how many
    # grades were written (0 or 1: a reclaimed turn is never graded twice). Migration 0011.
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claims: Mapped[int] = mapped_column(default=0, server_default="0")
    graded_count: Mapped[int] = mapped_column(default=0, server_default="0")

    attempt: Mapped[Attempt] = relationship(back_populates="turns")
