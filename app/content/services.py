"""Loading authored content (courses/, exams/, roleplays/) into the database.

The pure ``content_schema`` package validates every file and returns one bundle; each
domain registers a syncer that writes its part. All syncers run in one transaction, so a
sync is all or nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from flask import current_app

from content_schema import ContentBundle, load_content

from ..extensions import db


@dataclass
class SyncReport:
    summary: str = ""
    lines: list[str] = field(default_factory=list)  # what each syncer changed

    def note(self, line: str) -> None:
        self.lines.append(line)


Syncer = Callable[[ContentBundle, SyncReport], None]


def register_syncer(app, order: int, name: str, syncer: Syncer) -> None:
    """Domains call this from init_app; lower order runs first."""
    app.extensions.setdefault("academy_syncers", []).append((order, name, syncer))
    app.extensions["academy_syncers"].sort(key=lambda entry: entry[0])


def asset_url(course_slug: str) -> str:
    return f"/courses/{course_slug}/assets/"


def load_bundle(root: str | Path | None = None) -> ContentBundle:
    """Validate everything under the content root; raises ContentValidationError with every error."""
    return load_content(Path(root or current_app.config["CONTENT_ROOT"]), asset_url_prefix=asset_url)


def sync_content(root: str | Path | None = None) -> SyncReport:
    return sync_bundle(load_bundle(root))


def sync_bundle(bundle: ContentBundle) -> SyncReport:
    """Write an already validated bundle: every domain's syncer, in one transaction."""
    report = SyncReport(summary=bundle.summary())
    try:
        for _order, _name, syncer in current_app.extensions.get("academy_syncers", []):
            syncer(bundle, report)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report
