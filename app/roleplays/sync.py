"""Scenarios into the database: the content sync, scenarios authored in the browser (app/authoring),
and the overlays other domains add to every stored version. Each stores and flushes; the caller commits."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from content_schema import ContentBundle, ContentError, ContentValidationError
from content_schema import Scenario as ContentScenario

from ..core.clock import utcnow
from ..extensions import db
from .models import Phrasebook, Scenario, ScenarioVersion
from .scenario import document_checksum, scenario_document


def synthesize_lines(scenarios: Iterable[ContentScenario], cache_dir: Path) -> dict[str, dict[str, str]]:
    """Speak every customer line into the audio cache: {slug: {node id: file name}}.

    Any failure raises ContentValidationError naming the scenario and the node (each error's
    path is ("nodes", node id, "line"), so an editor can show it next to that line).
    """
    from speech.errors import SynthesisError
    from speech.tts import synthesize

    jobs = [(scenario, node) for scenario in scenarios for node in scenario.nodes.values()]

    def speak(job):
        scenario, node = job
        try:
            return synthesize(node.line, scenario.spec.language, gender=scenario.spec.persona.gender,
                              anger=node.anger, cache_dir=cache_dir).path.name
        except (SynthesisError, ValueError, OSError) as exc:
            return ContentError(scenario.source_file, None,
                                f'scenario "{scenario.slug}", node "{node.id}": the customer line could not be '
                                f"synthesized ({exc})", ("nodes", node.id, "line"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(speak, jobs))
    errors = [result for result in results if isinstance(result, ContentError)]
    if errors:
        raise ContentValidationError(errors)
    audio: dict[str, dict[str, str]] = defaultdict(dict)
    for (scenario, node), name in zip(jobs, results):
        audio[scenario.slug][node.id] = name
    return audio


DocumentOverlay = Callable[[str, dict], dict]


def register_document_overlay(app, overlay: DocumentOverlay) -> None:
    """A domain that adds to scenario documents (reviews: lessons trainers taught the grader) registers
    here, so every version stored from content files, the browser or a lesson carries the addition."""
    app.extensions.setdefault("roleplay_document_overlays", []).append(overlay)


def _overlaid(slug: str, document: dict) -> dict:
    for overlay in current_app.extensions.get("roleplay_document_overlays", []):
        document = overlay(slug, document)
    return document


def _store_version(row: Scenario, content: ContentScenario, audio: dict[str, str], now: datetime, report=None,
                   *, author_id: int | None = None) -> ScenarioVersion:
    """Make `content` the scenario's current version: a new immutable version when what grades
    changed, else the latest one (with refreshed audio names). Shared by the sync and publish_version."""
    return _store_document(row, scenario_document(content), content.source_file, audio, now, report,
                           author_id=author_id)


def republish(slug: str, *, author_id: int | None = None) -> ScenarioVersion | None:
    """Store the current version again with today's overlays (a new version when they changed what
    grades); its audio is reused. The caller commits."""
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    if row is None or row.current_version is None:
        return None
    current = row.current_version
    return _store_document(row, json.loads(json.dumps(current.spec)), current.source_file, dict(current.audio or {}),
                           utcnow(), author_id=author_id)


def _store_document(row: Scenario, document: dict, source_file: str, audio: dict[str, str], now: datetime,
                    report=None, *, author_id: int | None = None) -> ScenarioVersion:
    slug = row.slug
    document = _overlaid(slug, document)
    checksum = document_checksum(document)
    latest = db.session.scalar(select(ScenarioVersion).where(ScenarioVersion.scenario_id == row.id)
                               .order_by(ScenarioVersion.version.desc()).limit(1))
    if latest is None or latest.checksum != checksum:
        version = ScenarioVersion(
            scenario_id=row.id, slug=slug, version=(latest.version + 1) if latest else 1, checksum=checksum,
            source_file=source_file, language=document["language"], difficulty=int(document["difficulty"]),
            pass_mark=float(document["pass_mark"]), title=dict(document["title"]), spec=document,
            audio=dict(audio), author_id=author_id, created_at=now)
        db.session.add(version)
        db.session.flush()
        row.current_version_id = version.id
        row.updated_at = now
        if report is not None:
            report.note(f"role-play {slug}: version {version.version}" + (" (new)" if latest is None else ""))
        return version
    if latest.audio != audio:
        latest.audio = dict(audio)  # same words, new synthesis (e.g. espeak-ng upgraded)
    if row.current_version_id != latest.id:
        row.current_version_id = latest.id
    return latest


def sync_roleplays(bundle: ContentBundle, report) -> None:
    """Load bundle.scenarios idempotently; a changed scenario becomes a new version.

    Only file-sourced scenarios are retired when their file goes; web-authored ones are left alone,
    and a file may not take a slug that a web-authored scenario already holds.
    """
    now = utcnow()
    existing = {row.slug: row for row in db.session.scalars(select(Scenario))}
    taken = [ContentError(content.source_file, None,
                          f'slug "{slug}" is already used by a scenario authored in the browser '
                          "(expected another slug: slugs are permanent)", ("slug",))
             for slug, content in bundle.scenarios.items()
             if slug in existing and existing[slug].source != "file"]
    if taken:
        raise ContentValidationError(taken)
    audio = synthesize_lines(bundle.scenarios.values(), Path(current_app.config["AUDIO_CACHE_DIR"]))
    _sync_phrasebook(bundle.phrasebook, report)
    for slug, content in bundle.scenarios.items():
        row = existing.get(slug)
        if row is None:
            row = Scenario(slug=slug, source="file", created_at=now, updated_at=now)
            db.session.add(row)
            db.session.flush()
        _store_version(row, content, audio[slug], now, report)
        if row.retired:
            row.retired, row.retired_at, row.updated_at = False, None, now
            report.note(f"role-play {slug}: restored")
    for slug, row in existing.items():
        if row.source == "file" and slug not in bundle.scenarios and not row.retired:
            row.retired, row.retired_at, row.updated_at = True, now, now
            report.note(f"role-play {slug}: retired")
    db.session.flush()


def _sync_phrasebook(data: Any, report) -> None:
    checksum = document_checksum(data)
    row = db.session.scalar(select(Phrasebook).order_by(Phrasebook.id).limit(1))
    if row is None:
        db.session.add(Phrasebook(checksum=checksum, data=data))
        report.note("role-play phrasebook: loaded")
    elif row.checksum != checksum:
        row.checksum, row.data, row.updated_at = checksum, data, utcnow()
        report.note("role-play phrasebook: updated")


_library_cache: dict[tuple, Any] = {}


def content_library():
    """The shared rubric library (roleplays/_library.yaml under CONTENT_ROOT), validated; reread
    only when the file changes."""
    from content_schema import load_library
    root = Path(current_app.config["CONTENT_ROOT"])
    try:
        stat = (root / "roleplays" / "_library.yaml").stat()
    except OSError:
        return load_library(root)  # raises ContentValidationError naming the missing file
    key = (str(root), stat.st_mtime_ns, stat.st_size)
    if key not in _library_cache:
        library = load_library(root)
        _library_cache.clear()
        _library_cache[key] = library
    return _library_cache[key]


def publish_version(slug: str, spec_yaml_text: str, *, source: str = "web",
                    author_id: int | None = None) -> ScenarioVersion:
    """Validate one scenario written in the roleplays/<slug>.yaml format and make it the current
    version of `slug`: the same validation, text-to-speech and versioning as the content sync.

    A new immutable ScenarioVersion is made only when what grades changed; attempts keep the
    version they were taken on. A retired scenario is restored. Raises ContentValidationError
    (errors with line and path) and stores nothing when the text is invalid, the slug belongs to
    a scenario of another source, or a line cannot be synthesized. The caller commits.
    """
    from content_schema import validate_scenario_text
    filename = f"roleplays/{slug}.yaml"
    content = validate_scenario_text(spec_yaml_text, library=content_library(), filename=filename)
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    owner = row.source if row is not None else None
    if owner is None and source != "file" and (Path(current_app.config["CONTENT_ROOT"]) / filename).exists():
        owner = "file"
    if owner is not None and owner != source:
        raise ContentValidationError([ContentError(
            filename, None, f'slug "{slug}" belongs to a {owner} scenario (expected a slug of your own)', ("slug",))])
    audio = synthesize_lines([content], Path(current_app.config["AUDIO_CACHE_DIR"]))[slug]
    now = utcnow()
    if row is None:
        row = Scenario(slug=slug, source=source, created_at=now, updated_at=now)
        db.session.add(row)
        db.session.flush()
    version = _store_version(row, content, audio, now, author_id=author_id)
    if row.retired:
        row.retired, row.retired_at, row.updated_at = False, None, now
    db.session.flush()
    return version


def retire_scenario(slug: str, *, source: str = "web") -> Scenario | None:
    """Withdraw a scenario of `source` from the library (attempts and versions stay). The caller commits."""
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug, Scenario.source == source))
    if row is not None and not row.retired:
        now = utcnow()
        row.retired, row.retired_at, row.updated_at = True, now, now
        db.session.flush()
    return row
