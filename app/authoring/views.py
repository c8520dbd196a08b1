"""Trainer authoring pages: lists, form and YAML editors, the scenario page (diagram, audio,
try a reply), publish/retire, export/import. Trainers only."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user

from content_schema.yaml_lines import load_yaml
from grading.localize import pick

from ..core.access import Role, allow
from ..content.messages import describe, described
from ..core.i18n import content_language
from ..roleplays import services as roleplays
from . import diagram, editor as ed, services, starters
from .forms import ActionForm, ImportForm, YamlForm
from .models import BANK, SCENARIO

bp = Blueprint("authoring", __name__, template_folder="templates")

# The page of a draft of each kind.
PAGE = {SCENARIO: "authoring.scenario", BANK: "authoring.bank"}

STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "retired": _l("Retired")}
OUTCOME_LABELS = {"deescalate": _l("de-escalate"), "stay": _l("stay"), "escalate": _l("escalate")}
TYPE_LABELS = {"single": _l("Single choice"), "multiple": _l("Multiple choice"), "true_false": _l("True or false"),
               "ordering": _l("Put in order"), "phrase_rewrite": _l("Rewrite the phrase"),
               "listen_type": _l("Listen and type")}
TRY_ERRORS = {"not_found": _l("There is nothing at this address."), "empty": _l("Type a reply first."),
              "too_long": _l("The reply is too long.")}


@bp.app_context_processor
def _labels():
    return {"authoring_statuses": STATUS_LABELS, "authoring_outcomes": OUTCOME_LABELS,
            "authoring_types": TYPE_LABELS}


def _text(value) -> str:
    return pick(value, content_language()) if value else ""


def _draft_or_404(kind: str, slug: str):
    draft = services.get_draft(kind, slug)
    if draft is None:
        abort(404)
    return draft


def _place_errors(editor: ed.Editor, errors, field_for_path) -> None:
    for error in errors:
        name = field_for_path(editor, error.path) if error.path else None
        if name:
            editor.error(name, describe(error))
        else:
            editor.general.append(describe(error))


# --- lists ------------------------------------------------------------------------------

@bp.route("/authoring/")
@allow(Role.TRAINER)
def index():
    return render_template("authoring/index.html", scenario_drafts=services.drafts(SCENARIO),
                           bank_drafts=services.drafts(BANK), file_scenarios=services.file_scenarios(),
                           file_exams=services.file_exams(), text=_text)


# --- scenarios: the page ------------------------------------------------------------------

def _render_scenario(slug: str, tried: dict | None = None, status: int = 200):
    view = services.scenario_view(slug)
    if view is None:
        abort(404)
    graph = diagram.layout(view.doc.data)
    return render_template("authoring/scenario.html", view=view, doc=view.doc, graph=graph, ui=content_language(),
                           versions=services.versions(slug), form=ActionForm(), tried=tried or {},
                           text=_text), status


@bp.route("/authoring/scenarios/<slug>")
@allow(Role.TRAINER)
def scenario(slug: str):
    return _render_scenario(slug)


@bp.route("/authoring/scenarios/<slug>/try", methods=["POST"])
@allow(Role.TRAINER)
def scenario_try(slug: str):
    """Score a typed reply at one node (JSON for authoring.js; a plain form re-renders the page)."""
    body = request.get_json(silent=True) if request.is_json else request.form
    if body is None or not hasattr(body, "get"):
        return jsonify(error="bad_request", message=_("The request could not be understood.")), 400
    node, text = body.get("node") or None, body.get("text")
    if not isinstance(text, str) or (node is not None and not isinstance(node, str)):
        return jsonify(error="bad_request", message=_("The request could not be understood.")), 400
    try:
        result = services.try_reply(slug, node, text, content_language())
    except roleplays.RoleplayError as exc:
        status = 404 if exc.code == "not_found" and services.scenario_view(slug) is None else 400
        message = str(TRY_ERRORS[exc.code]) if exc.code in TRY_ERRORS else exc.message
        if request.is_json:
            return jsonify(error=exc.code, message=message), status
        if status == 404:
            abort(404)
        flash(message, "error")
        return redirect(url_for("authoring.scenario", slug=slug, _anchor=f"node-{node}" if node else None))
    result["outcome_label"] = str(OUTCOME_LABELS.get(result["transition"]["outcome"], ""))
    if request.is_json:
        return jsonify(result)
    return _render_scenario(slug, tried={result["node"]: result})


@bp.route("/authoring/scenarios/<slug>/export")
@allow(Role.TRAINER)
def scenario_export(slug: str):
    return _export(SCENARIO, slug)


def _export(kind: str, slug: str):
    text = services.export_yaml(kind, slug)
    if text is None:
        abort(404)
    response = Response(text, mimetype="application/yaml")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.yaml"'
    response.charset = "utf-8"
    return response


@bp.route("/authoring/scenarios/<slug>/publish", methods=["POST"])
@allow(Role.TRAINER)
def scenario_publish(slug: str):
    return _publish(SCENARIO, slug)


@bp.route("/authoring/scenarios/<slug>/retire", methods=["POST"])
@allow(Role.TRAINER)
def scenario_retire(slug: str):
    return _retire(SCENARIO, slug)


def _publish(kind: str, slug: str):
    draft = _draft_or_404(kind, slug)
    try:
        services.publish(draft, user_id=current_user.id)
    except services.EditRefused as exc:
        for error in exc.errors:
            flash(_("Not published: %(error)s", error=describe(error)), "error")
        return redirect(url_for(PAGE[kind], slug=slug))
    if kind == SCENARIO:
        flash(_("Published as version %(n)d. New attempts use it; earlier attempts keep the version they were "
                "taken on.", n=draft.published_version), "success")
    else:
        flash(_("Published. New attempts use these questions; earlier attempts keep their own copy."), "success")
    return redirect(url_for(PAGE[kind], slug=slug))


def _retire(kind: str, slug: str):
    draft = _draft_or_404(kind, slug)
    services.retire(draft)
    flash(_("Retired: learners no longer see it. Past attempts are kept; publish again to bring it back."), "success")
    return redirect(url_for(PAGE[kind], slug=slug))


# --- the form editors (scenarios and banks) ----------------------------------------------------

@dataclass(frozen=True)
class FormFlow:
    """What differs between the scenario and the question-bank form editors; the flow is shared."""
    kind: str
    from_form: Callable      # request.form -> Editor
    from_data: Callable      # file-format dict -> Editor
    action: Callable         # (editor, "add-…"/"remove-…") -> True when it changed the editor
    to_data: Callable        # (editor, base dict) -> file-format dict, None when the form contradicts itself
    field_for_path: Callable  # (editor, error path) -> the form field to show the error on
    render: Callable         # (editor, draft, status) -> response
    saved: LazyString


def _form_post(flow: FormFlow, draft):
    editor = _with_placeholders(flow, flow.from_form(request.form))
    action = request.form.get("action", "save")
    if action != "save" and flow.action(editor, action):
        return flow.render(editor, draft)
    base = dict(draft.spec) if draft is not None else load_yaml(services.starter_yaml(flow.kind)).data
    data = flow.to_data(editor, base)
    if data is None:
        return flow.render(editor, draft, 422)
    try:
        saved = services.save(flow.kind, services.data_text(data), user_id=current_user.id, draft=draft,
                              base_checksum=request.form.get("base_checksum"))
    except services.EditRefused as exc:
        _place_errors(editor, exc.errors, flow.field_for_path)
        return flow.render(editor, draft, 422)
    flash(str(flow.saved), "success")
    return redirect(url_for(PAGE[flow.kind], slug=saved.slug))


def _with_placeholders(flow: FormFlow, editor: ed.Editor, *, clear: bool = False) -> ed.Editor:
    """Show the starter's example text as placeholders; ``clear``: empty the fields that hold it."""
    for path, (example, _label) in starters.example_text(flow.kind).items():
        name = flow.field_for_path(editor, path)
        if name and isinstance(example, str):
            editor.placeholders[name] = example
            if clear and editor.get(name).strip() == example.strip():
                editor.values[name] = ""
    return editor


def _form_new(flow: FormFlow):
    if request.method == "POST":
        return _form_post(flow, None)
    editor = flow.from_data(load_yaml(services.starter_yaml(flow.kind)).data)
    return flow.render(_with_placeholders(flow, editor, clear=True), None)


def _form_edit(flow: FormFlow, slug: str):
    draft = _draft_or_404(flow.kind, slug)
    if request.method == "POST":
        return _form_post(flow, draft)
    editor = _with_placeholders(flow, flow.from_data(draft.spec))
    editor.values["base_checksum"] = draft.checksum
    return flow.render(editor, draft)


def _scenario_form(editor: ed.Editor, draft, status: int = 200):
    node_ids = [editor.get(f"n{i}-id") for i, _items in editor.rows]
    audio = dict(draft.audio or {}) if draft is not None else {}
    library = roleplays.content_library()
    return render_template("authoring/scenario_form.html", ed=editor, draft=draft, form=ActionForm(),
                           node_ids=node_ids, endings=ed.ENDINGS, audio=audio,
                           intents=sorted(library.intents), forbidden=sorted(library.forbidden)), status


def _bank_form(editor: ed.Editor, draft, status: int = 200):
    library = roleplays.content_library()
    return render_template("authoring/bank_form.html", ed=editor, draft=draft, form=ActionForm(),
                           types=ed.QUESTION_TYPES,
                           intents=sorted(library.intents), forbidden=sorted(library.forbidden)), status


SCENARIO_FORM = FormFlow(SCENARIO, ed.scenario_editor_from_form, ed.scenario_editor_from_data, ed.scenario_action,
                         ed.scenario_data_from_editor, ed.scenario_field_for_path, _scenario_form,
                         _l("Saved. The preview audio of every line is ready below."))
BANK_FORM = FormFlow(BANK, ed.bank_editor_from_form, ed.bank_editor_from_data, ed.bank_action,
                     ed.bank_data_from_editor, ed.bank_field_for_path, _bank_form, _l("Saved."))


@bp.route("/authoring/scenarios/new", methods=["GET", "POST"])
@allow(Role.TRAINER)
def scenario_new():
    return _form_new(SCENARIO_FORM)


@bp.route("/authoring/scenarios/<slug>/edit", methods=["GET", "POST"])
@allow(Role.TRAINER)
def scenario_edit(slug: str):
    return _form_edit(SCENARIO_FORM, slug)


# --- YAML views and import (scenarios and banks) ---------------------------------------------

def _yaml_page(kind: str, slug: str):
    draft = _draft_or_404(kind, slug)
    form = YamlForm()
    errors = []
    status = 200
    if request.method == "POST":
        text = (form.text.data or "").replace("\r\n", "\n")
        try:
            services.save(kind, text, user_id=current_user.id, draft=draft, base_checksum=form.base_checksum.data)
        except services.EditRefused as exc:
            errors, status = described(exc.errors), 422
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(PAGE[kind], slug=slug))
    else:
        form.text.data = services.draft_yaml(draft)
        form.base_checksum.data = draft.checksum
    return render_template("authoring/yaml.html", kind=kind, draft=draft, form=form, errors=errors), status


@bp.route("/authoring/scenarios/<slug>/yaml", methods=["GET", "POST"])
@allow(Role.TRAINER)
def scenario_yaml(slug: str):
    return _yaml_page(SCENARIO, slug)


def _import_page(kind: str):
    form = ImportForm()
    errors = []
    status = 200
    if request.method == "POST":
        text = form.text.data or ""
        upload = request.files.get("upload")
        if upload is not None and upload.filename:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                text = ""
                errors = [services.ContentError("", None, _("The file is not UTF-8 text."))]
        text = text.replace("\r\n", "\n")
        form.text.data = text
        if not errors:
            try:
                draft = services.import_text(kind, text, user_id=current_user.id)
            except services.EditRefused as exc:
                errors = described(exc.errors)
            else:
                flash(_("Imported and saved as a draft."), "success")
                return redirect(url_for(PAGE[kind], slug=draft.slug))
        status = 422
    elif not form.text.data:
        form.text.data = services.starter_yaml(kind)
    return render_template("authoring/import.html", kind=kind, form=form, errors=errors), status


@bp.route("/authoring/scenarios/import", methods=["GET", "POST"])
@allow(Role.TRAINER)
def scenario_import():
    return _import_page(SCENARIO)


# --- question banks ---------------------------------------------------------------------

@bp.route("/authoring/banks/import", methods=["GET", "POST"])
@allow(Role.TRAINER)
def bank_import():
    return _import_page(BANK)


@bp.route("/authoring/banks/<slug>")
@allow(Role.TRAINER)
def bank(slug: str):
    draft = services.get_draft(BANK, slug)
    if draft is not None:
        data = draft.spec
    else:
        if services.file_exam(slug) is None:
            abort(404)
        text = services.file_yaml(BANK, slug)
        if text is None:
            abort(404)
        data = load_yaml(text).data
    return render_template("authoring/bank.html", draft=draft, data=data, slug=slug, form=ActionForm(),
                           exam=services.file_exam(slug), text=_text)


@bp.route("/authoring/banks/<slug>/export")
@allow(Role.TRAINER)
def bank_export(slug: str):
    return _export(BANK, slug)


@bp.route("/authoring/banks/<slug>/publish", methods=["POST"])
@allow(Role.TRAINER)
def bank_publish(slug: str):
    return _publish(BANK, slug)


@bp.route("/authoring/banks/<slug>/retire", methods=["POST"])
@allow(Role.TRAINER)
def bank_retire(slug: str):
    return _retire(BANK, slug)


@bp.route("/authoring/banks/<slug>/yaml", methods=["GET", "POST"])
@allow(Role.TRAINER)
def bank_yaml(slug: str):
    return _yaml_page(BANK, slug)


@bp.route("/authoring/banks/new", methods=["GET", "POST"])
@allow(Role.TRAINER)
def bank_new():
    return _form_new(BANK_FORM)


@bp.route("/authoring/banks/<slug>/edit", methods=["GET", "POST"])
@allow(Role.TRAINER)
def bank_edit(slug: str):
    return _form_edit(BANK_FORM, slug)
