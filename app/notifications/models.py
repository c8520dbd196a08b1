"""A notice for one person: what happened (kind), its details (params) and where to look (link).

The text is not stored: it is rendered when the notice is shown or mailed, in the reader's language
(app.notifications.kinds). Email is an outbox on the same row: ``emailed_at`` stays empty until a
message was handed to the SMTP server, so a notice whose mail failed is tried again later.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"
    # Time-based notices (due tomorrow, overdue, expiring, expired) carry a key, so the sweep that
    # makes them can run again and again without making one twice.
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    link_endpoint: Mapped[str | None] = mapped_column(String(64))
    link_values: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} to {self.user_id}>"
