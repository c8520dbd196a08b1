"""The clock. Times are stored as naive UTC (utcnow, here at the bottom so every domain can use it); everything a
person reads (pages, CSV exports, the certificate PDF) is in the academy's TIMEZONE, by default
Asia/Shanghai. This is the one place that converts."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """Now, as naive UTC: how every time is stored."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local(moment: datetime) -> datetime:
    """A stored (naive UTC) or aware datetime in the academy's time zone."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    return aware.astimezone(zone)


def _parse(moment: datetime | date | str | None) -> datetime | date | None:
    if isinstance(moment, str):  # evidence snapshots keep times as ISO strings
        return datetime.fromisoformat(moment) if moment else None
    return moment


def local_date(moment: datetime | date | str | None, missing: str = "—") -> str:
    moment = _parse(moment)
    if moment is None:
        return missing
    return (local(moment) if isinstance(moment, datetime) else moment).strftime("%Y-%m-%d")


def local_datetime(moment: datetime | str | None, missing: str = "—") -> str:
    moment = _parse(moment)
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else missing


def init_app(app) -> None:
    app.add_template_filter(local_date)
    app.add_template_filter(local_datetime)
