"""Trainer authoring pages: lists, form and YAML editors, the scenario page (diagram, audio,
try a reply), publish/retire, export/import. Trainers only."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from content_schema.yaml_lines import load_yaml
from grading.localize import pick

from ..core.access import Role, allow
from ..content.messages import describe, described
from ..core.i18n import content_language
from ..roleplays import errors as roleplay_errors
from . import diagram, services
from .editor import EDITOR_KINDS, FormEditor
from .forms import ActionForm, ImportForm, YamlForm
from .models import BANK, SCENARIO

bp = Blueprint("authoring", __name__, template_folder="templates")

# The page of a draft of each kind (the kind-specific views below: authoring.scenario, authoring.bank).
PAGE = {kind: f"authoring.{kind}" for kind in EDITOR_KINDS}

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
    except roleplay_errors.RoleplayError as exc:
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


# --- question banks: the page ---------------------------------------------------------------

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


# --- the pages every kind has (registered once per kind in EDITOR_KINDS, below) ------------------

Kind = type[FormEditor]


def _export(editor_class: Kind, slug: str):
    text = services.export_yaml(editor_class.kind, slug)
    if text is None:
        abort(404)
    response = Response(text, mimetype="application/yaml")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.yaml"'
    response.charset = "utf-8"
    return response


def _publish(editor_class: Kind, slug: str):
    draft = _draft_or_404(editor_class.kind, slug)
    try:
        services.publish(draft, user_id=current_user.id)
    except services.EditRefused as exc:
        for error in exc.errors:
            flash(_("Not published: %(error)s", error=describe(error)), "error")
    else:
        flash(editor_class.published_message(draft), "success")
    return redirect(url_for(PAGE[editor_class.kind], slug=slug))


def _retire(editor_class: Kind, slug: str):
    draft = _draft_or_404(editor_class.kind, slug)
    services.retire(draft)
    flash(_("Retired: learners no longer see it. Past attempts are kept; publish again to bring it back."), "success")
    return redirect(url_for(PAGE[editor_class.kind], slug=slug))


def _render_form(editor: FormEditor, draft, status: int = 200):
    return render_template(editor.template, ed=editor, draft=draft, form=ActionForm(),
                           **editor.template_context(draft)), status


def _form_post(editor_class: Kind, draft):
    editor = editor_class.for_post(request.form)
    action = request.form.get("action", "save")
    if action != "save" and editor.apply_action(action):
        return _render_form(editor, draft)
    saved = editor.save(draft, user_id=current_user.id, base_checksum=request.form.get("base_checksum"))
    if saved is None:
        return _render_form(editor, draft, 422)
    flash(str(editor.saved_message), "success")
    return redirect(url_for(PAGE[editor_class.kind], slug=saved.slug))


def _form_new(editor_class: Kind):
    if request.method == "POST":
        return _form_post(editor_class, None)
    return _render_form(editor_class.for_new(), None)


def _form_edit(editor_class: Kind, slug: str):
    draft = _draft_or_404(editor_class.kind, slug)
    if request.method == "POST":
        return _form_post(editor_class, draft)
    return _render_form(editor_class.for_draft(draft), draft)


def _yaml_page(editor_class: Kind, slug: str):
    kind = editor_class.kind
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


def _import_page(editor_class: Kind):
    kind = editor_class.kind
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


# (name, address under /authoring/<url_segment>, methods, view): each kind gets the endpoint
# "authoring.<kind>_<name>" (authoring.scenario_edit, authoring.bank_yaml, …).
KIND_PAGES: tuple[tuple[str, str, tuple[str, ...], Callable], ...] = (
    ("new", "/new", ("GET", "POST"), _form_new),
    ("import", "/import", ("GET", "POST"), _import_page),
    ("edit", "/<slug>/edit", ("GET", "POST"), _form_edit),
    ("yaml", "/<slug>/yaml", ("GET", "POST"), _yaml_page),
    ("export", "/<slug>/export", ("GET",), _export),
    ("publish", "/<slug>/publish", ("POST",), _publish),
    ("retire", "/<slug>/retire", ("POST",), _retire),
)


def _for_kind(view: Callable, editor_class: Kind) -> Callable:
    @wraps(view)
    def kind_view(**kwargs):
        return view(editor_class, **kwargs)
    return kind_view


def _register_kind_pages(editor_class: Kind) -> None:
    for name, path, methods, view in KIND_PAGES:
        bp.add_url_rule(f"/authoring/{editor_class.url_segment}{path}", f"{editor_class.kind}_{name}",
                        allow(Role.TRAINER)(_for_kind(view, editor_class)), methods=list(methods))


for _editor_class in EDITOR_KINDS.values():
    _register_kind_pages(_editor_class)
