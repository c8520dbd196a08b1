"""HR's CSV exports: the roster (in the UI language, or machine-readable) and the audit log."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l

from ..core.clock import local_datetime, utcnow
from ..core.csvfile import csv_bytes
from . import rules
from .labels import LEVEL_NAMES, STATUS_LABELS, level_label
from .models import AuditEntry
from .presenters import requirements_text
from .queries import RosterRow


def _csv_bytes(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    return csv_bytes(header, rows)  # formula-escaped cells, UTF-8 with a BOM for Excel


def _when(moment: datetime | None) -> str:
    return local_datetime(moment, missing="")


# format=machine: these English snake_case headings and raw values, for integrations; columns are only
# ever added at the end. Times in the configured TIMEZONE, as on screen.
ROSTER_MACHINE_HEADER = ["username", "name", "cohort", "level", "level_zh", "certificate_status", "issued_at",
                         "expires_at", "requirement_version", "pending_approval", "next_level", "requirements_met",
                         "requirements_total", "last_activity"]


def roster_csv(rows: list[RosterRow], summaries: dict | None = None, *, machine: bool = False,
               now: datetime | None = None) -> bytes:
    """HR's roster as CSV: headings and values in the UI language, or (machine) the fixed header above.

    summaries: user id -> batch.LadderSummary (requirements met, last activity) for these rows.
    A certificate's status is the one every page shows (past its end date: expired)."""
    from .batch import LadderSummary
    now = now or utcnow()
    summaries = summaries or {}
    lines = []
    for row in rows:
        current = row.current
        latest = row.certificates[-1] if row.certificates else None
        shown = current or latest
        status = shown.status_at(now) if shown else ""
        summary = summaries.get(row.user.id) or LadderSummary(row.level, rules.next_level(row.level), 0, 0, current)
        if machine:
            lines.append([row.user.username, row.user.name, row.user.cohort, row.level, LEVEL_NAMES[row.level][0],
                          status,
                          _when(current.issued_at) if current else "", _when(current.expires_at) if current else "",
                          current.requirement_version if current else "",
                          ",".join(c.level for c in row.pending), summary.next_level or "",
                          summary.met if summary.total else "", summary.total or "", _when(summary.last_activity)])
        else:
            lines.append([row.user.name, row.user.username, row.user.cohort, level_label(row.level),
                          str(STATUS_LABELS[status]) if shown else "",
                          _when(current.issued_at) if current else "", _when(current.expires_at) if current else "",
                          current.requirement_version if current else "",
                          "、".join(level_label(c.level) for c in row.pending),
                          level_label(summary.next_level) if summary.next_level else "",
                          requirements_text(summary), _when(summary.last_activity)])
    if machine:
        return _csv_bytes(ROSTER_MACHINE_HEADER, lines)
    header = [_l("Name"), _l("Username"), _l("Cohort"), _l("Level"), _l("Certificate status"), _l("Issued"),
              _l("Valid until"), _l("Requirements version"), _l("Awaiting approval"), _l("Next level"),
              _l("Requirements met"), _l("Last activity")]
    return _csv_bytes([str(title) for title in header], lines)


def audit_csv(entries: list[AuditEntry]) -> bytes:
    header = ["time", "actor", "subject_username", "subject_name", "action", "level", "certificate_id", "reason",
              "evidence"]
    lines = [[_when(e.created_at), e.actor.username if e.actor else "system", e.subject.username, e.subject.name,
              e.action, e.level, e.certificate_id, e.reason,
              json.dumps(e.evidence, ensure_ascii=False, sort_keys=True) if e.evidence else ""]
             for e in entries]
    return _csv_bytes(header, lines)
