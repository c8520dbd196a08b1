"""Drafts of role-play scenarios and question banks authored in the browser.

A draft is always valid: an edit is saved only when the whole scenario (or bank) passes the
same validation as the content files, so there is never a half-saved draft. Publishing copies
the draft into the role-play (or exam) tables as a new immutable version; the draft keeps
the authored spec for further editing and export.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..extensions import db

SCENARIO, BANK = "scenario", "bank"
# Draft.status
DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"


class Draft(db.Model):
    __tablename__ = "authoring_drafts"
    __table_args__ = (UniqueConstraint("kind", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # scenario | bank
    slug: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    # The authored spec as the plain data of its YAML file (content_schema.spec_data).
    spec: Mapped[dict] = mapped_column(JSON)
    # Scenarios: the resolved document the grader reads (roleplays.scenario.scenario_document),
    # for "try a reply" on the draft; banks: None.
    document: Mapped[dict | None] = mapped_column(JSON)
    # Scenarios: node id -> preview audio file name in AUDIO_CACHE_DIR, synthesized at save time.
    audio: Mapped[dict] = mapped_column(JSON, default=dict)
    checksum: Mapped[str] = mapped_column(String(64))  # of spec
    published_checksum: Mapped[str | None] = mapped_column(String(64))  # spec checksum last published
    published_version: Mapped[int | None]  # scenarios: the roleplays version number last published
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    @property
    def unpublished_changes(self) -> bool:
        return self.published_checksum != self.checksum

    def __repr__(self) -> str:
        return f"<Draft {self.kind} {self.slug} {self.status}>"
