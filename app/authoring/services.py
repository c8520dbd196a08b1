"""Authoring operations: save (validate + preview audio), publish, retire, export, import, try a reply.

Every save goes through content_schema with the same rules as the content files, and stores
nothing unless the whole scenario (or bank) is valid: ``EditRefused`` carries the errors, each
with its line in the YAML text and its data path (for the form). Publishing goes through the
role-play and exam domains' own services (``roleplays.sync.publish_version``,
``exams.services.publish_exam``), which share the content sync's code path.

For other domains: ``web_scenarios()`` (published web scenarios) and ``publish_version``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from content_schema import (
    ContentError,
    ContentValidationError,
    dump_exam,
    dump_scenario,
    spec_data,
    validate_exam_text,
    validate_scenario_text,
)
from content_schema.dump import dump_data
from content_schema.yaml_lines import YamlLimit, YamlProblems, load_yaml

from ..content.messages import describe
from ..core.clock import utcnow
from ..core.errors import UserError
from ..exams import services as exams
from ..exams.models import Exam
from ..extensions import db
from ..roleplays import errors as roleplay_errors
from ..roleplays import operations as roleplay_operations
from ..roleplays import queries as roleplay_queries
from ..roleplays import sync as roleplay_sync
from ..roleplays import text_scoring as roleplay_text_scoring
from ..roleplays.models import Scenario, ScenarioVersion
from ..roleplays.scenario import ScenarioDoc, scenario_document
from .models import BANK, DRAFT, PUBLISHED, RETIRED, SCENARIO, Draft
from .starters import STARTER_BANK, STARTER_SCENARIO, fields_with_example_text

MAX_YAML_CHARS = 200_000
FOLDER = {SCENARIO: "roleplays", BANK: "exams"}
RESERVED_SLUGS = ("new", "import")  # page addresses under /authoring/scenarios/ and /authoring/banks/


class EditRefused(UserError):
    """An edit that was not saved; ``errors`` are ContentErrors (line in the YAML text, data path).

    The editor pages catch it and show each error at its field or line; anywhere else the one
    error handler answers 422 with the errors in the reader's language.
    """

    code = "content_invalid"
    status = 422
    default_message = _l("The content has problems, so nothing was saved.")

    def __init__(self, errors: list[ContentError], text: str = "") -> None:
        super().__init__(LazyString(_described_errors, errors) if errors else None)
        self.errors = errors
        self.text = text


def _described_errors(errors: list[ContentError]) -> str:
    return "; ".join(describe(error) for error in errors)


def web_scenarios(*, include_retired: bool = False) -> list[Scenario]:
    """Published role-play scenarios authored in the browser (roleplays rows, current version set)."""
    return roleplay_queries.web_scenarios(include_retired=include_retired)


publish_version = roleplay_sync.publish_version


def _checksum(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _refuse(message: str, path: tuple = ("slug",), text: str = "", line: int | None = None) -> EditRefused:
    return EditRefused([ContentError("", line, message, path)], text)


def _with_lines(errors: list[ContentError], text: str) -> list[ContentError]:
    """Fill in the line of errors that know only their data path (text-to-speech failures)."""
    try:
        document = load_yaml(text)
    except YamlProblems:
        return errors
    return [error if error.line is not None or not error.path
            else dataclasses.replace(error, line=document.line_for(error.path))
            for error in errors]


def _slug_in(text: str) -> str:
    """The slug the text declares (for naming the file it is validated as), or a placeholder."""
    try:
        data = load_yaml(text).data
    except YamlProblems:
        return "untitled"
    slug = data.get("slug") if isinstance(data, dict) else None
    return slug if isinstance(slug, str) and slug.strip() else "untitled"


def _check_size(text: str) -> None:
    if len(text) > MAX_YAML_CHARS:
        raise _refuse(_("The YAML is longer than %(n)d characters.", n=MAX_YAML_CHARS), (), text)
    # The content loader refuses the same documents, but in English only; say it in the page's language.
    try:
        load_yaml(text)
    except YamlProblems as problems:
        for problem in problems.problems:
            if isinstance(problem, YamlLimit) and problem.kind == "values":
                raise _refuse(_("The YAML expands to more than %(n)d values: each alias (*name) copies "
                                "everything its anchor (&name) holds. Use fewer or smaller aliases.",
                                n=problem.maximum), (), text, problem.line) from None
            if isinstance(problem, YamlLimit) and problem.kind == "depth":
                raise _refuse(_("The YAML is nested more than %(n)d levels deep.", n=problem.maximum), (),
                              text, problem.line) from None
    if not text.strip():
        raise _refuse(_("The YAML is empty."), (), text, 1)


# --- lookups ------------------------------------------------------------------------------

def get_draft(kind: str, slug: str) -> Draft | None:
    return db.session.scalar(select(Draft).where(Draft.kind == kind, Draft.slug == slug))


def drafts(kind: str) -> list[Draft]:
    return list(db.session.scalars(select(Draft).where(Draft.kind == kind).order_by(Draft.slug)))


def file_scenarios() -> list[Scenario]:
    """Scenarios from roleplays/ files (synced), current first."""
    rows = db.session.scalars(select(Scenario).where(Scenario.source == "file")).all()
    return sorted((row for row in rows if row.current_version is not None), key=lambda row: (row.retired, row.slug))


def file_exams() -> list[Exam]:
    rows = db.session.scalars(select(Exam).where(Exam.source == "file")).all()
    return sorted(rows, key=lambda exam: (exam.retired, exam.kind, exam.position, exam.slug))


def file_scenario(slug: str) -> Scenario | None:
    return db.session.scalar(select(Scenario).where(Scenario.slug == slug, Scenario.source == "file"))


def file_exam(slug: str) -> Exam | None:
    return db.session.scalar(select(Exam).where(Exam.slug == slug, Exam.source == "file"))


def _content_file(kind: str, slug: str) -> Path:
    return Path(current_app.config["CONTENT_ROOT"]) / FOLDER[kind] / f"{slug}.yaml"


def slug_taken(kind: str, slug: str) -> str | None:
    """Why a new draft may not take `slug` (a translated reason), or None."""
    if slug in RESERVED_SLUGS:
        return _('"%(slug)s" is a reserved word here (expected another slug).', slug=slug)
    if get_draft(kind, slug) is not None:
        return _('"%(slug)s" is already used by another draft (expected a new slug).', slug=slug)
    model = Scenario if kind == SCENARIO else Exam
    if db.session.scalar(select(model.id).where(model.slug == slug)) is not None or _content_file(kind, slug).exists():
        return _('"%(slug)s" is already used by a shipped file (expected a new slug: slugs are permanent).', slug=slug)
    return None


# --- saving -------------------------------------------------------------------------------

def _store(kind: str, draft: Draft | None, spec: dict, document: dict | None, audio: dict,
           user_id: int | None) -> Draft:
    now = utcnow()
    if draft is None:
        draft = Draft(kind=kind, slug=spec["slug"], status=DRAFT, created_by_id=user_id, created_at=now)
        db.session.add(draft)
    draft.spec = spec
    draft.document = document
    draft.audio = audio
    draft.checksum = _checksum(spec)
    draft.updated_by_id = user_id
    draft.updated_at = now
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _refuse(_('"%(slug)s" was just taken by someone else (expected a new slug).', slug=spec["slug"]))
    return draft


def _check_base(draft: Draft | None, base_checksum: str | None, text: str) -> None:
    """Refuse to overwrite changes someone else saved since this form was opened."""
    if draft is not None and base_checksum and base_checksum != draft.checksum:
        raise _refuse(_("Someone else saved this draft after you opened it. Reload it, then make your change "
                        "again (your text is kept below)."), (), text)


def save_scenario(text: str, *, user_id: int | None, draft: Draft | None = None,
                  base_checksum: str | None = None) -> Draft:
    """Validate a scenario's YAML, synthesize its lines (preview audio) and store it as the draft.

    New when `draft` is None (its slug must be free), else an edit of `draft` (the slug stays).
    Raises EditRefused and changes nothing when anything is wrong.
    """
    _check_size(text)
    _check_base(draft, base_checksum, text)
    slug = draft.slug if draft is not None else _slug_in(text)
    try:
        content = validate_scenario_text(text, library=roleplay_sync.content_library(), filename=f"roleplays/{slug}.yaml")
    except ContentValidationError as exc:
        raise EditRefused(exc.errors, text) from None
    if draft is None and (reason := slug_taken(SCENARIO, slug)):
        raise _refuse(reason, ("slug",), text, _line_of(text, ("slug",)))
    try:
        audio = roleplay_sync.synthesize_lines([content], Path(current_app.config["AUDIO_CACHE_DIR"]))[slug]
    except ContentValidationError as exc:
        raise EditRefused(_with_lines(exc.errors, text), text) from None
    return _store(SCENARIO, draft, spec_data(content.spec), scenario_document(content), audio, user_id)


def save_bank(text: str, *, user_id: int | None, draft: Draft | None = None,
              base_checksum: str | None = None) -> Draft:
    """Validate a question bank's YAML (an exam of kind quiz) and store it as the draft."""
    _check_size(text)
    _check_base(draft, base_checksum, text)
    slug = draft.slug if draft is not None else _slug_in(text)
    try:
        item = validate_exam_text(text, library=roleplay_sync.content_library(), filename=f"exams/{slug}.yaml")
    except ContentValidationError as exc:
        raise EditRefused(exc.errors, text) from None
    if item.spec.kind != "quiz":
        raise _refuse(_("A question bank is kind: quiz (certification exams are shipped files)."), ("kind",), text,
                      _line_of(text, ("kind",)))
    if draft is None and (reason := slug_taken(BANK, slug)):
        raise _refuse(reason, ("slug",), text, _line_of(text, ("slug",)))
    return _store(BANK, draft, spec_data(item.spec), None, {}, user_id)


def save(kind: str, text: str, **kwargs) -> Draft:
    return (save_scenario if kind == SCENARIO else save_bank)(text, **kwargs)


def import_text(kind: str, text: str, *, user_id: int | None) -> Draft:
    """Import a file-format YAML: updates the draft with its slug if there is one, else creates one."""
    _check_size(text)
    existing = get_draft(kind, _slug_in(text))
    return save(kind, text, user_id=user_id, draft=existing)


def _line_of(text: str, path: tuple) -> int | None:
    try:
        return load_yaml(text).line_for(path)
    except YamlProblems:
        return None


def data_text(data: dict) -> str:
    """Spec data (from a form) as YAML text in the file format, for validation."""
    return dump_data(data)


# --- YAML export --------------------------------------------------------------------------

def draft_yaml(draft: Draft) -> str:
    return dump_data(draft.spec)


def starter_yaml(kind: str) -> str:
    return STARTER_SCENARIO if kind == SCENARIO else STARTER_BANK


def file_yaml(kind: str, slug: str) -> str | None:
    """A shipped file's scenario or exam, validated and written in the canonical file format."""
    path = _content_file(kind, slug)
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    library = roleplay_sync.content_library()
    filename = f"{FOLDER[kind]}/{slug}.yaml"
    if kind == SCENARIO:
        return dump_scenario(validate_scenario_text(text, library=library, filename=filename).spec)
    return dump_exam(validate_exam_text(text, library=library, filename=filename).spec)


def export_yaml(kind: str, slug: str) -> str | None:
    draft = get_draft(kind, slug)
    return draft_yaml(draft) if draft is not None else file_yaml(kind, slug)


# --- publishing ---------------------------------------------------------------------------

def publish(draft: Draft, *, user_id: int | None) -> Draft:
    """Publish the draft as a new version (scenario) or new question versions (bank); all or nothing.

    Refused while a field still holds the starter's example text (it would reach trainees)."""
    text = draft_yaml(draft)
    examples = fields_with_example_text(draft.kind, draft.spec)
    if examples:
        raise EditRefused([ContentError("", _line_of(text, path), _(
            "\u201c%(field)s\u201d still holds the example text; write your own text there before publishing.",
            field=label), path) for path, label in examples],
            text)
    try:
        if draft.kind == SCENARIO:
            version = roleplay_sync.publish_version(draft.slug, text, source="web", author_id=user_id)
            draft.published_version = version.version
        else:
            exams.publish_exam(draft.slug, text, source="web")
    except ContentValidationError as exc:
        db.session.rollback()
        raise EditRefused(_with_lines(exc.errors, text), text) from None
    draft.status = PUBLISHED
    draft.published_checksum = draft.checksum
    draft.published_by_id = user_id
    draft.published_at = utcnow()
    db.session.commit()
    return draft


def retire(draft: Draft) -> Draft:
    """Withdraw the published scenario or bank; attempts, versions and the draft stay."""
    if draft.kind == SCENARIO:
        roleplay_sync.retire_scenario(draft.slug, source="web")
    else:
        exams.retire_exam(draft.slug, source="web")
    draft.status = RETIRED
    db.session.commit()
    return draft


def versions(slug: str) -> list[ScenarioVersion]:
    return roleplay_queries.versions_of(slug)


# --- trying a reply -----------------------------------------------------------------------

@dataclass
class ScenarioView:
    """What the scenario page shows, for a draft or a shipped file alike."""

    slug: str
    doc: ScenarioDoc
    audio: dict[str, str]
    draft: Draft | None
    scenario: Scenario | None  # the roleplays row, when published or synced

    @property
    def editable(self) -> bool:
        return self.draft is not None


def scenario_view(slug: str) -> ScenarioView | None:
    draft = get_draft(SCENARIO, slug)
    row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
    if draft is not None:
        return ScenarioView(slug, ScenarioDoc(draft.document), dict(draft.audio or {}), draft, row)
    if row is not None and row.source == "file" and row.current_version is not None:
        version = row.current_version
        return ScenarioView(slug, ScenarioDoc(version.spec), dict(version.audio or {}), None, row)
    return None


def try_reply(slug: str, node_id: str | None, text: str, ui_language: str) -> dict:
    """Score a typed reply at a node of the draft (or shipped scenario): the CLI's engine."""
    view = scenario_view(slug)
    if view is None:
        raise roleplay_errors.RoleplayError("No such scenario.", code="not_found")
    text = (text or "").strip()
    if not text:
        raise roleplay_errors.RoleplayError("The reply is empty.", code="empty")
    if len(text) > roleplay_operations.MAX_TYPED_CHARS:
        raise roleplay_errors.RoleplayError("The reply is too long.", code="too_long")
    return roleplay_text_scoring.score_text(view.doc, node_id, text, ui_language, roleplay_queries.current_phrasebook())
