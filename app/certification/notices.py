"""Time-based states of certificates for the notifications sweep (app.core.events.sweep_due): the holder
hears when a certificate in force ends within the warning period, and once it has ended."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from ..core import events
from ..extensions import db
from .labels import level_names
from .models import ACTIVE, EXPIRED, Certificate

# Certificates that ended longer ago than this are not announced any more (a first sweep stays short).
EXPIRED_LOOKBACK_DAYS = 30


def on_sweep_due(_sender, *, now: datetime, expiring_days: int = 30, **_extra) -> None:
    ending = list(db.session.scalars(select(Certificate).where(
        Certificate.expires_at.is_not(None),
        or_(and_(Certificate.status == ACTIVE, Certificate.expires_at <= now + timedelta(days=expiring_days)),
            Certificate.status == EXPIRED),
        Certificate.expires_at > now - timedelta(days=EXPIRED_LOOKBACK_DAYS)).order_by(Certificate.id)))
    for certificate in ending:
        # Past its end date it has expired, whether or not `flask cert expire` has marked it yet.
        state = "expired" if certificate.expires_at <= now else "expiring"
        events.certificate_expiry.send(certificate.user_id, certificate_id=certificate.id, state=state,
                                       level_names=level_names(certificate.level), expires_at=certificate.expires_at)


def connect_receivers() -> None:
    events.sweep_due.connect(on_sweep_due)
