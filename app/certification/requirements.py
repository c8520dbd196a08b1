"""Requirement versions: the certification file as synced from content, one stored row per version.

A certificate keeps the requirement version it was granted under; re-syncing a changed certification
file never rewrites it (a change needs a new version number).
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from content_schema import ContentError, ContentValidationError
from content_schema.models import CertificationSpec

from ..extensions import db
from .models import RequirementVersion


def canonical_checksum(spec_json: dict) -> str:
    text = json.dumps(spec_json, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sync_certification(bundle, report) -> None:
    """Store the certification file's version; a changed file under an old version number is an error."""
    certification = bundle.certification
    spec_json = certification.spec.model_dump(mode="json")
    checksum = canonical_checksum(spec_json)
    labels = {
        "courses": {slug: dict(course.spec.title) for slug, course in bundle.courses.items()},
        "exams": {slug: dict(exam.spec.title) for slug, exam in bundle.exams.items()},
        "scenarios": {slug: dict(scenario.spec.title) for slug, scenario in bundle.scenarios.items()},
    }
    version_number = certification.version
    row = db.session.scalar(select(RequirementVersion).where(RequirementVersion.version == version_number))
    if row is not None and row.checksum != checksum and _stored_checksum(row) != checksum:
        raise ContentValidationError([ContentError(
            certification.source_file, None,
            f"the certification requirements changed but version is still {version_number}: "
            f"bump version (e.g. to {_next_free_version()}); certificates already issued keep the "
            "version they were granted under")])
    if row is None:
        row = RequirementVersion(version=version_number, spec=spec_json, checksum=checksum,
                                 file_checksum=certification.checksum, labels=labels)
        db.session.add(row)
        report.note(f"certification: requirements version {version_number} stored")
    elif row.labels != labels:
        row.labels = labels
    for other in db.session.scalars(select(RequirementVersion).where(RequirementVersion.is_current.is_(True))):
        if other is not row:
            other.is_current = False
    if not row.is_current:
        row.is_current = True
        report.note(f"certification: version {version_number} is now current")
    db.session.flush()


def _stored_checksum(row: RequirementVersion) -> str:
    """The stored spec read with today's schema: a field added later with its default (e.g.
    voice_substitute) is not a change of the rules stored under that version."""
    try:
        return canonical_checksum(CertificationSpec.model_validate(row.spec).model_dump(mode="json"))
    except ValueError:
        return row.checksum


def _next_free_version() -> int:
    highest = db.session.scalar(select(db.func.max(RequirementVersion.version))) or 0
    return highest + 1


def current_version() -> RequirementVersion | None:
    return db.session.scalar(select(RequirementVersion).where(RequirementVersion.is_current.is_(True)))


def spec_of(version: RequirementVersion) -> CertificationSpec:
    return CertificationSpec.model_validate(version.spec)


def level_spec(spec: CertificationSpec, level: str):
    return next(item for item in spec.levels if item.level == level)


def certification_exams(spec: CertificationSpec) -> list[str]:
    """The exams any level requires to be passed (their pass rates are the roster's statistics)."""
    return sorted({r.exam for level in spec.levels for r in level.requirements if r.kind == "exam_passed"})


def substitute_levels(spec: CertificationSpec) -> list[str]:
    """Levels whose voice-only role-play requirement accepts a signed-off typed call."""
    return [level.level for level in spec.levels
            if any(r.kind == "roleplay_passes" and r.voice_only and r.voice_substitute == "typed_signoff"
                   for r in level.requirements)]


def voice_only_levels(spec: CertificationSpec) -> list[str]:
    return [level.level for level in spec.levels
            if any(r.kind == "roleplay_passes" and r.voice_only for r in level.requirements)]
