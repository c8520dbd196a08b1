"""The repeatable-rows form editors for scenarios and question banks, without a form library.

An editor holds a flat mapping of field name -> text (what the form shows and posts back), plus
the rows (nodes, rubric items, questions, options) it has. Each kind of authored content is one
``FormEditor`` subclass in ``EDITOR_KINDS``: ``from_data`` fills it from a stored spec,
``from_form`` from a POST, ``apply_action`` runs an "add node"/"remove question"… button,
``to_data`` turns it into spec data for content_schema to validate, and ``field_for_path`` puts
a validation error (a data path) next to the field it is about. The base class owns the flow they
share: starter example text as placeholders, form -> data -> save, errors back onto the fields.
"Add node" and friends change the editor and re-render; only "save" validates and stores.
"""
from __future__ import annotations

import re
from typing import Any, ClassVar

from flask_babel import gettext as _, lazy_gettext as _l
from flask_babel.speaklater import LazyString

from content_schema.models import OUTCOMES
from content_schema.yaml_lines import load_yaml

from ..content.messages import describe
from ..roleplays import sync as roleplay_sync
from . import services, starters
from .models import BANK, SCENARIO, Draft

ITEM_FIELDS = ("id", "kind", "points", "use", "judgement", "phrases", "elements", "patterns", "slots",
               "explain_zh", "explain_en")
QUESTION_TYPES = ("single", "multiple", "true_false", "ordering", "phrase_rewrite", "listen_type")
SCENARIO_LANGUAGES = ("zh-CN", "en-US", "ko-KR")
QUESTION_LANGUAGES = ("zh-CN", "en-US")
ENDINGS = ("end:resolved", "end:transferred", "end:hangup")
_ALTERNATIVES = re.compile(r"\s*[|｜]\s*")


class FormEditor:
    """One kind's form: its field values, rows and errors, and the flow every kind shares.

    A subclass names its kind (``kind``: the Draft kind; ``url_segment``: its pages live under
    /authoring/<url_segment>/), its template and "saved" message, and implements the five
    kind-specific steps (``from_data``, ``from_form``, ``apply_action``, ``to_data``,
    ``field_for_path``) plus ``template_context`` and ``published_message``.
    """

    kind: ClassVar[str]
    url_segment: ClassVar[str]
    template: ClassVar[str]
    saved_message: ClassVar[LazyString]

    def __init__(self, values: dict[str, str] | None = None, rows: list[Any] | None = None) -> None:
        self.values: dict[str, str] = values if values is not None else {}
        self.rows: list[Any] = rows if rows is not None else []  # what the subclass says a row is
        self.errors: dict[str, list[str]] = {}
        self.general: list[str] = []  # errors not tied to one field
        self.placeholders: dict[str, str] = {}  # example text shown in empty fields

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def has_errors(self) -> bool:
        return bool(self.errors or self.general)

    # --- what each kind implements --------------------------------------------------------

    @classmethod
    def from_data(cls, data: dict) -> FormEditor:
        """The editor of a stored spec (file-format data)."""
        raise NotImplementedError

    @classmethod
    def from_form(cls, form) -> FormEditor:
        """The editor of a posted form (the rows are found from the posted field names)."""
        raise NotImplementedError

    def apply_action(self, action: str) -> bool:
        """Apply an "add …"/"remove …" button; False when `action` is not one of this kind's."""
        raise NotImplementedError

    def to_data(self, base: dict) -> dict | None:
        """Spec data from the form on top of `base` (which keeps what the form does not show);
        None when the form contradicts itself (the errors are then on the editor)."""
        raise NotImplementedError

    def field_for_path(self, path: tuple) -> str | None:
        """The form field a validation error's data path is about (None: no single field)."""
        raise NotImplementedError

    def template_context(self, draft: Draft | None) -> dict[str, Any]:
        """What the kind's template needs besides the editor and the draft."""
        library = roleplay_sync.content_library()
        return {"intents": sorted(library.intents), "forbidden": sorted(library.forbidden)}

    @classmethod
    def published_message(cls, draft: Draft) -> str:
        raise NotImplementedError

    # --- the shared flow ------------------------------------------------------------------

    @classmethod
    def starter_data(cls) -> dict:
        return load_yaml(services.starter_yaml(cls.kind)).data

    @classmethod
    def for_new(cls) -> FormEditor:
        """The starter, its example text shown as placeholders in empty fields."""
        return cls.from_data(cls.starter_data()).show_examples(clear=True)

    @classmethod
    def for_draft(cls, draft: Draft) -> FormEditor:
        editor = cls.from_data(draft.spec).show_examples()
        # Saving compares it with the draft's checksum, so a concurrent edit is not overwritten.
        editor.values["base_checksum"] = draft.checksum
        return editor

    @classmethod
    def for_post(cls, form) -> FormEditor:
        return cls.from_form(form).show_examples()

    def show_examples(self, *, clear: bool = False) -> FormEditor:
        """Show the starter's example text as placeholders; ``clear``: empty the fields that hold it."""
        for path, (example, _label) in starters.example_text(self.kind).items():
            name = self.field_for_path(path)
            if name and isinstance(example, str):
                self.placeholders[name] = example
                if clear and self.get(name).strip() == example.strip():
                    self.values[name] = ""
        return self

    def place_errors(self, errors) -> None:
        """Put validation errors next to their fields (or above the form when no field fits)."""
        for error in errors:
            name = self.field_for_path(error.path) if error.path else None
            if name:
                self.error(name, describe(error))
            else:
                self.general.append(describe(error))

    def save(self, draft: Draft | None, *, user_id: int | None, base_checksum: str | None) -> Draft | None:
        """Form -> data -> validated save as `draft` (None: a new one). None when refused: the
        errors are then on the editor."""
        base = dict(draft.spec) if draft is not None else self.starter_data()
        data = self.to_data(base)
        if data is None:
            return None
        try:
            return services.save(self.kind, services.data_text(data), user_id=user_id, draft=draft,
                                 base_checksum=base_checksum)
        except services.EditRefused as exc:
            self.place_errors(exc.errors)
            return None


# --- helpers ------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _ltext_in(values: dict[str, str], name: str, value: Any) -> None:
    if isinstance(value, str):
        value = {"zh-CN": value}
    value = value or {}
    values[f"{name}_zh"] = value.get("zh-CN", "")
    values[f"{name}_en"] = value.get("en", "")


def _ltext_out(values: dict[str, str], name: str, *, optional: bool = False) -> dict[str, str] | None:
    zh, en = values.get(f"{name}_zh", "").strip(), values.get(f"{name}_en", "").strip()
    if optional and not zh and not en:
        return None
    result = {"zh-CN": zh} if zh or not en else {}
    if en:
        result["en"] = en
    return result


def _number(text: str, kind: type) -> Any:
    """"12" -> 12; "1.5" -> 1.5; "" -> None; anything else stays text so validation names it."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if kind is int:
        return int(number) if number.is_integer() else text
    return int(number) if number.is_integer() else number


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _indices(values: dict[str, str], pattern: str) -> list[int]:
    regex = re.compile(pattern)
    return sorted({int(m.group(1)) for name in values if (m := regex.fullmatch(name))})


def _form_values(form) -> dict[str, str]:
    return {name: form.get(name, "") for name in form.keys() if name != "csrf_token"}


# --- rubric items (shared by scenario nodes and phrase-rewrite questions) ----------------

def _item_in(values: dict[str, str], prefix: str, item: dict) -> None:
    values[f"{prefix}-id"] = item.get("id", "")
    values[f"{prefix}-kind"] = item.get("kind", "intent")
    values[f"{prefix}-points"] = _text(item.get("points"))
    values[f"{prefix}-use"] = item.get("use") or ""
    values[f"{prefix}-phrases"] = "\n".join(item.get("phrases") or [])
    values[f"{prefix}-elements"] = "\n".join(" | ".join(group) for group in item.get("elements") or [])
    values[f"{prefix}-judgement"] = item.get("judgement") or ""
    values[f"{prefix}-patterns"] = "\n".join(item.get("patterns") or [])
    values[f"{prefix}-slots"] = "\n".join(f"{name}: " + " | ".join(options)
                                          for name, options in (item.get("slots") or {}).items())
    _ltext_in(values, f"{prefix}-explain", item.get("explanation"))


def _item_out(values: dict[str, str], prefix: str) -> dict:
    item: dict[str, Any] = {"id": values.get(f"{prefix}-id", "").strip()}
    kind = values.get(f"{prefix}-kind", "intent").strip() or "intent"
    if kind != "intent":
        item["kind"] = kind
    item["points"] = _number(values.get(f"{prefix}-points", ""), float)
    use = values.get(f"{prefix}-use", "").strip()
    if use:
        item["use"] = use
    phrases = _lines(values.get(f"{prefix}-phrases", ""))
    if phrases:
        item["phrases"] = phrases
    elements = [[part for part in _ALTERNATIVES.split(line) if part] for line in _lines(values.get(f"{prefix}-elements", ""))]
    if elements:
        item["elements"] = elements
    judgement = values.get(f"{prefix}-judgement", "").strip()
    if judgement:
        item["judgement"] = judgement
    patterns = _lines(values.get(f"{prefix}-patterns", ""))
    if patterns:
        item["patterns"] = patterns
    slots: dict[str, list[str]] = {}
    for line in _lines(values.get(f"{prefix}-slots", "")):
        name, _sep, options = line.partition(":")
        # A line without "name:" is passed through as it is, so validation can point at it.
        slots[name.strip()] = [part for part in _ALTERNATIVES.split(options.strip()) if part] if _sep else []
    if slots:
        item["slots"] = slots
    explanation = _ltext_out(values, f"{prefix}-explain", optional=True)
    if explanation is not None:
        item["explanation"] = explanation
    return item


def _item_field(prefix: str, rest: tuple) -> str:
    if not rest:
        return prefix
    head = rest[0]
    if head == "explanation":
        return f"{prefix}-explain_en" if rest[1:2] == ("en",) else f"{prefix}-explain_zh"
    if head in ("id", "kind", "points", "use", "judgement", "phrases", "elements", "patterns", "slots"):
        return f"{prefix}-{head}"
    return prefix


def _blank_item(values: dict[str, str], prefix: str) -> None:
    _item_in(values, prefix, {"id": "", "points": 2})



# --- scenarios ----------------------------------------------------------------------------

SCENARIO_TOP = ("slug", "language", "difficulty", "persona_name", "persona_gender", "starting_anger", "pass_mark",
                "start")


class ScenarioEditor(FormEditor):
    """A role-play scenario: the call's settings, then one row per node, (i, [rubric item indices])."""

    kind = SCENARIO
    url_segment = "scenarios"
    template = "authoring/scenario_form.html"
    saved_message = _l("Saved. The preview audio of every line is ready below.")

    @classmethod
    def from_data(cls, data: dict) -> ScenarioEditor:
        values: dict[str, str] = {
            "slug": data.get("slug", ""), "language": data.get("language", "zh-CN"),
            "difficulty": _text(data.get("difficulty")), "starting_anger": _text(data.get("starting_anger")),
            "pass_mark": _text(data.get("pass_mark")), "start": data.get("start", ""),
        }
        persona = data.get("persona") or {}
        values["persona_name"] = persona.get("name", "")
        values["persona_gender"] = persona.get("gender", "female")
        _ltext_in(values, "temperament", persona.get("temperament"))
        _ltext_in(values, "title", data.get("title"))
        _ltext_in(values, "case_facts", data.get("case_facts"))
        rows = []
        for i, (node_id, node) in enumerate((data.get("nodes") or {}).items()):
            values[f"n{i}-id"] = values[f"n{i}-orig"] = node_id
            values[f"n{i}-line"] = node.get("line", "")
            values[f"n{i}-anger"] = _text(node.get("anger"))
            for outcome in OUTCOMES:
                values[f"n{i}-{outcome}"] = (node.get("next") or {}).get(outcome, "")
            items = []
            for j, item in enumerate(node.get("rubric") or []):
                _item_in(values, f"n{i}-r{j}", item)
                items.append(j)
            rows.append((i, items))
        return cls(values, rows)

    @classmethod
    def from_form(cls, form) -> ScenarioEditor:
        values = _form_values(form)
        rows = [(i, _indices(values, rf"n{i}-r(\d+)-id")) for i in _indices(values, r"n(\d+)-id")]
        return cls(values, rows)

    def apply_action(self, action: str) -> bool:
        rows = self.rows
        if action == "add-node":
            i = max((row[0] for row in rows), default=-1) + 1
            self.values.update({f"n{i}-id": "", f"n{i}-orig": "", f"n{i}-line": "", f"n{i}-anger": "50",
                                **{f"n{i}-{outcome}": "" for outcome in OUTCOMES}})
            _blank_item(self.values, f"n{i}-r0")
            rows.append((i, [0]))
            return True
        match = re.fullmatch(r"(remove-node|add-item)-(\d+)", action)
        if match:
            i = int(match.group(2))
            for index, (node, items) in enumerate(rows):
                if node != i:
                    continue
                if match.group(1) == "remove-node":
                    del rows[index]
                else:
                    j = max(items, default=-1) + 1
                    _blank_item(self.values, f"n{i}-r{j}")
                    items.append(j)
            return True
        match = re.fullmatch(r"remove-item-(\d+)-(\d+)", action)
        if match:
            i, j = int(match.group(1)), int(match.group(2))
            for node, items in rows:
                if node == i and j in items:
                    items.remove(j)
            return True
        return False

    def to_data(self, base: dict) -> dict | None:
        """`base` keeps the settings the form does not show (anger steps, thresholds, call rules…);
        None when the node ids themselves are unusable."""
        values = self.values
        ids: dict[str, int] = {}
        for i, _items in self.rows:
            node_id = values.get(f"n{i}-id", "").strip()
            if not node_id:
                self.error(f"n{i}-id", _("The node id is empty (expected an id such as opening)."))
            elif node_id in ids:
                self.error(f"n{i}-id", _('Duplicate node id "%(id)s" (expected each id once).', id=node_id))
            ids.setdefault(node_id, i)
        if self.errors:
            return None
        renames = {values.get(f"n{i}-orig", "").strip(): values[f"n{i}-id"].strip() for i, _ in self.rows
                   if values.get(f"n{i}-orig", "").strip()
                   and values.get(f"n{i}-orig", "").strip() != values[f"n{i}-id"].strip()}

        def renamed(target: str) -> str:
            target = target.strip()
            return renames.get(target, target) if target not in ids else target

        data = {key: value for key, value in base.items() if key not in ("nodes",)}
        data.update({
            "slug": values.get("slug", base.get("slug", "")).strip(),
            "language": values.get("language", "").strip(),
            "title": _ltext_out(values, "title"),
            "difficulty": _number(values.get("difficulty", ""), int),
            "persona": {"name": values.get("persona_name", "").strip(),
                        "gender": values.get("persona_gender", "").strip(),
                        "temperament": _ltext_out(values, "temperament")},
            "case_facts": _ltext_out(values, "case_facts"),
            "starting_anger": _number(values.get("starting_anger", ""), int),
            "pass_mark": _number(values.get("pass_mark", ""), float),
            "start": renamed(values.get("start", "")),
        })
        nodes = {}
        for i, items in self.rows:
            nodes[values[f"n{i}-id"].strip()] = {
                "line": values.get(f"n{i}-line", "").strip(),
                "anger": _number(values.get(f"n{i}-anger", ""), int),
                "rubric": [_item_out(values, f"n{i}-r{j}") for j in items],
                "next": {outcome: renamed(values.get(f"n{i}-{outcome}", "")) for outcome in OUTCOMES},
            }
        data["nodes"] = nodes
        return data

    def field_for_path(self, path: tuple) -> str | None:
        if not path:
            return None
        head = path[0]
        if head in ("title", "case_facts"):
            return f"{head}_en" if path[1:2] == ("en",) else f"{head}_zh"
        if head == "persona":
            if len(path) == 1:
                return "persona_name"
            if path[1] == "temperament":
                return "temperament_en" if path[2:3] == ("en",) else "temperament_zh"
            return {"name": "persona_name", "gender": "persona_gender"}.get(path[1])
        if head in SCENARIO_TOP:
            return head
        if head == "nodes":
            if len(path) == 1:
                return "nodes"
            index = {self.get(f"n{i}-id").strip(): i for i, _ in self.rows}.get(path[1])
            if index is None:
                return "nodes"
            rest = path[2:]
            if not rest:
                return f"n{index}-id"
            if rest[0] in ("line", "anger"):
                return f"n{index}-{rest[0]}"
            if rest[0] == "next":
                return f"n{index}-{rest[1]}" if len(rest) > 1 and rest[1] in OUTCOMES else f"n{index}-deescalate"
            if rest[0] == "rubric":
                if len(rest) < 2 or not isinstance(rest[1], int):
                    return f"n{index}-rubric"
                items = dict(self.rows).get(index, [])
                if rest[1] >= len(items):
                    return f"n{index}-rubric"
                return _item_field(f"n{index}-r{items[rest[1]]}", rest[2:])
            return f"n{index}-id"
        return None

    def template_context(self, draft: Draft | None) -> dict[str, Any]:
        return {**super().template_context(draft),
                "node_ids": [self.get(f"n{i}-id") for i, _items in self.rows], "endings": ENDINGS,
                "audio": dict(draft.audio or {}) if draft is not None else {}}

    @classmethod
    def published_message(cls, draft: Draft) -> str:
        return _("Published as version %(n)d. New attempts use it; earlier attempts keep the version they were "
                 "taken on.", n=draft.published_version)


# --- question banks -----------------------------------------------------------------------

BANK_FLAGS = ("shuffle_questions", "shuffle_options", "show_answers")
BANK_NUMBERS = {"pass_mark": float, "time_limit_minutes": int, "attempts_allowed": int, "cooldown_minutes": int}


def _blank_option(values: dict[str, str], p: str, k: int) -> None:
    values.update({f"{p}-o{k}-id": chr(ord("a") + k % 26) if k < 26 else f"o{k}", f"{p}-o{k}-text_zh": "",
                   f"{p}-o{k}-text_en": ""})


def _question_out(values: dict[str, str], i: int, options: list[int], items: list[int]) -> dict:
    p = f"q{i}"
    kind = values.get(f"{p}-type", "").strip()
    question: dict[str, Any] = {"id": values.get(f"{p}-id", "").strip(), "type": kind}
    tags = [tag for tag in re.split(r"[\s,，、]+", values.get(f"{p}-tags", "")) if tag]
    if tags:
        question["tags"] = tags
    points = _number(values.get(f"{p}-points", ""), float)
    if points is not None:
        question["points"] = points
    question["prompt"] = _ltext_out(values, f"{p}-prompt")
    explanation = _ltext_out(values, f"{p}-explain", optional=True)
    if explanation is not None:
        question["explanation"] = explanation
    partial = values.get(f"{p}-partial_credit", "").strip()
    if kind in ("single", "multiple"):
        question["options"] = [
            {"id": values.get(f"{p}-o{k}-id", "").strip(), "text": _ltext_out(values, f"{p}-o{k}-text"),
             **({"correct": True} if values.get(f"{p}-o{k}-correct") else {})} for k in options]
        if kind == "multiple" and partial in ("proportional", "all_or_nothing"):
            question["partial_credit"] = partial
    elif kind == "ordering":
        question["items"] = [{"id": values.get(f"{p}-o{k}-id", "").strip(), "text": _ltext_out(values, f"{p}-o{k}-text")}
                             for k in options]
        if partial in ("pairs", "all_or_nothing"):
            question["partial_credit"] = partial
    elif kind == "true_false":
        answer = values.get(f"{p}-answer", "").strip()
        question["answer"] = {"true": True, "false": False}.get(answer, answer)
    elif kind == "phrase_rewrite":
        question["language"] = values.get(f"{p}-language", "").strip()
        question["habitual"] = values.get(f"{p}-habitual", "").strip()
        question["rubric"] = [_item_out(values, f"{p}-r{j}") for j in items]
    elif kind == "listen_type":
        question["language"] = values.get(f"{p}-language", "").strip()
        question["text"] = values.get(f"{p}-text", "").strip()
        for name in ("min_accuracy", "min_cpm"):
            number = _number(values.get(f"{p}-{name}", ""), float)
            if number is not None:
                question[name] = number
    return question


class BankEditor(FormEditor):
    """A question bank (an exam of kind quiz): its settings, then one row per question,
    (i, [option indices], [rubric item indices])."""

    kind = BANK
    url_segment = "banks"
    template = "authoring/bank_form.html"
    saved_message = _l("Saved.")

    @classmethod
    def from_data(cls, data: dict) -> BankEditor:
        values: dict[str, str] = {"slug": data.get("slug", "")}
        _ltext_in(values, "title", data.get("title"))
        _ltext_in(values, "description", data.get("description"))
        for name in BANK_NUMBERS:
            values[name] = _text(data.get(name))
        for name in BANK_FLAGS:
            if data.get(name):
                values[name] = "1"
        rows = []
        for i, question in enumerate(data.get("questions") or []):
            p = f"q{i}"
            values[f"{p}-id"] = question.get("id", "")
            values[f"{p}-type"] = question.get("type", "single")
            values[f"{p}-tags"] = ", ".join(question.get("tags") or [])
            values[f"{p}-points"] = _text(question.get("points", 1))
            _ltext_in(values, f"{p}-prompt", question.get("prompt"))
            _ltext_in(values, f"{p}-explain", question.get("explanation"))
            values[f"{p}-partial_credit"] = question.get("partial_credit", "")
            values[f"{p}-answer"] = _text(question.get("answer", True))
            values[f"{p}-language"] = question.get("language", "zh-CN")
            values[f"{p}-habitual"] = question.get("habitual", "")
            values[f"{p}-text"] = question.get("text", "")
            values[f"{p}-min_accuracy"] = _text(question.get("min_accuracy", 0.9))
            values[f"{p}-min_cpm"] = _text(question.get("min_cpm", 50))
            options = []
            for k, option in enumerate(question.get("options") or question.get("items") or []):
                values[f"{p}-o{k}-id"] = option.get("id", "")
                _ltext_in(values, f"{p}-o{k}-text", option.get("text"))
                if option.get("correct"):
                    values[f"{p}-o{k}-correct"] = "1"
                options.append(k)
            items = []
            for j, item in enumerate(question.get("rubric") or []):
                _item_in(values, f"{p}-r{j}", item)
                items.append(j)
            rows.append((i, options, items))
        return cls(values, rows)

    @classmethod
    def from_form(cls, form) -> BankEditor:
        values = _form_values(form)
        rows = [(i, _indices(values, rf"q{i}-o(\d+)-id"), _indices(values, rf"q{i}-r(\d+)-id"))
                for i in _indices(values, r"q(\d+)-id")]
        return cls(values, rows)

    def apply_action(self, action: str) -> bool:
        rows = self.rows
        match = re.fullmatch(r"add-question(?:-(\w+))?", action)
        if match:
            kind = match.group(1) if match.group(1) in QUESTION_TYPES else self.get("new_type", "single")
            kind = kind if kind in QUESTION_TYPES else "single"
            i = max((row[0] for row in rows), default=-1) + 1
            p = f"q{i}"
            self.values.update({f"{p}-id": f"q{i + 1}", f"{p}-type": kind, f"{p}-tags": "", f"{p}-points": "1",
                                f"{p}-prompt_zh": "", f"{p}-prompt_en": "", f"{p}-explain_zh": "",
                                f"{p}-explain_en": "", f"{p}-answer": "true", f"{p}-language": "zh-CN",
                                f"{p}-habitual": "", f"{p}-text": "", f"{p}-min_accuracy": "0.9",
                                f"{p}-min_cpm": "50", f"{p}-partial_credit": ""})
            options = list(range(3 if kind == "ordering" else 2 if kind in ("single", "multiple") else 0))
            for k in options:
                _blank_option(self.values, p, k)
            items = [0] if kind == "phrase_rewrite" else []
            for j in items:
                _blank_item(self.values, f"{p}-r{j}")
            rows.append((i, options, items))
            return True
        match = re.fullmatch(r"(remove-question|add-option|add-item)-(\d+)", action)
        if match:
            i = int(match.group(2))
            for index, (question, options, items) in enumerate(rows):
                if question != i:
                    continue
                if match.group(1) == "remove-question":
                    del rows[index]
                elif match.group(1) == "add-option":
                    k = max(options, default=-1) + 1
                    _blank_option(self.values, f"q{i}", k)
                    options.append(k)
                else:
                    j = max(items, default=-1) + 1
                    _blank_item(self.values, f"q{i}-r{j}")
                    items.append(j)
            return True
        match = re.fullmatch(r"remove-(option|item)-(\d+)-(\d+)", action)
        if match:
            i, k = int(match.group(2)), int(match.group(3))
            for question, options, items in rows:
                if question == i:
                    target = options if match.group(1) == "option" else items
                    if k in target:
                        target.remove(k)
            return True
        return False

    def to_data(self, base: dict) -> dict:
        values = self.values
        data = {key: value for key, value in base.items() if key not in ("questions", "description")}
        data["slug"] = values.get("slug", base.get("slug", "")).strip()
        data["kind"] = "quiz"
        data["title"] = _ltext_out(values, "title")
        description = _ltext_out(values, "description", optional=True)
        if description is not None:
            data["description"] = description
        for name, kind in BANK_NUMBERS.items():
            data[name] = _number(values.get(name, ""), kind)
        for name in BANK_FLAGS:
            data[name] = bool(values.get(name))
        data["questions"] = [_question_out(values, i, options, items) for i, options, items in self.rows]
        return data

    def field_for_path(self, path: tuple) -> str | None:
        if not path:
            return None
        head = path[0]
        if head in ("title", "description"):
            return f"{head}_en" if path[1:2] == ("en",) else f"{head}_zh"
        if head in BANK_NUMBERS or head in BANK_FLAGS or head == "slug":
            return head
        if head != "questions" or len(path) < 2 or not isinstance(path[1], int):
            return "questions" if head == "questions" else None
        if path[1] >= len(self.rows):
            return "questions"
        i, options, items = self.rows[path[1]]
        p = f"q{i}"
        rest = path[2:]
        if not rest:
            return f"{p}-id"
        name = rest[0]
        if name in ("prompt", "explanation"):
            short = "prompt" if name == "prompt" else "explain"
            return f"{p}-{short}_en" if rest[1:2] == ("en",) else f"{p}-{short}_zh"
        if name in ("options", "items"):
            if len(rest) > 1 and isinstance(rest[1], int) and rest[1] < len(options):
                k = options[rest[1]]
                sub = rest[2:]
                if sub[:1] == ("text",):
                    return f"{p}-o{k}-text_en" if sub[1:2] == ("en",) else f"{p}-o{k}-text_zh"
                return f"{p}-o{k}-id"
            return f"{p}-options"
        if name == "rubric":
            if len(rest) > 1 and isinstance(rest[1], int) and rest[1] < len(items):
                return _item_field(f"{p}-r{items[rest[1]]}", rest[2:])
            return f"{p}-rubric"
        if name in ("id", "type", "tags", "points", "answer", "language", "habitual", "text", "min_accuracy",
                    "min_cpm", "partial_credit"):
            return f"{p}-{name}"
        return f"{p}-id"

    def template_context(self, draft: Draft | None) -> dict[str, Any]:
        return {**super().template_context(draft), "types": QUESTION_TYPES}

    @classmethod
    def published_message(cls, draft: Draft) -> str:
        return _("Published. New attempts use these questions; earlier attempts keep their own copy.")


# A kind of authored content is its editor class: views.py adds every kind's pages from here.
EDITOR_KINDS: dict[str, type[FormEditor]] = {SCENARIO: ScenarioEditor, BANK: BankEditor}
