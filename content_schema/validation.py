"""Run a pydantic model over a YAML document and turn its errors into ContentErrors.

pydantic reports a ``loc`` such as ``("questions", 0, "single", "options")``: the
union tag ("single") is not part of the data, so we walk the loc against the
actual data to get the data path, look the line up in the YamlDocument, and
rewrite the message so it says what was expected. Every message is a ``messages.Message``
(a stable code and its values next to the English text); pydantic's own checks get the code
``schema.<error type>``.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .errors import ErrorCollector
from .messages import TEMPLATES, Message, message
from .yaml_lines import Path, YamlDocument

M = TypeVar("M", bound=BaseModel)


def validate_document(
    model: type[M], document: YamlDocument, file: str, errors: ErrorCollector
) -> M | None:
    """Validate ``document.data`` against ``model``; on failure record every error."""
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        for detail in exc.errors(include_url=False):
            path, where, text = describe(model, document.data, detail)
            errors.add(file, document.line_for(path), text, path, where=format_path(where),
                       text=_prefixed(where, text))
        return None


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _prefixed(path: Path, message: str) -> str:
    shown = format_path(path)
    return f"{shown}: {message}" if shown else message


def _data_path(data: Any, loc: tuple[Any, ...]) -> Path:
    """The part of ``loc`` that names real data; union tags are skipped."""
    path: list[Any] = []
    current = data
    for index, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            current = current[part]
            path.append(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
            path.append(part)
        elif index == len(loc) - 1:
            path.append(part)  # a missing field: keep its name for the message
        # otherwise a union tag: not in the data, skip it
    return tuple(path)


def _show_value(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"  # as written in YAML
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


_PYDANTIC_PARAMS = {"string_too_short": ("min_length",), "string_too_long": ("max_length",),
                    "too_short": ("min_length",), "too_long": ("max_length",), "greater_than_equal": ("ge",),
                    "greater_than": ("gt",), "less_than_equal": ("le",), "less_than": ("lt",),
                    "literal_error": ("expected",), "string_pattern_mismatch": ("pattern",)}


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 100, not 100.0
    return str(value)


def _pydantic_message(kind: str, text: str, context: dict[str, Any]) -> Message:
    """pydantic's own English text, with the code ``schema.<type>`` when it is one we name."""
    code = f"schema.{kind}"
    if code not in TEMPLATES or kind == "other":
        return Message("schema.other", text, detail=text)
    params = {name: _number_text(context.get(name, "")) for name in _PYDANTIC_PARAMS.get(kind, ())}
    return Message(code, text, **params)


def describe(model: type[BaseModel], data: Any, detail: dict[str, Any]) -> tuple[Path, Path, Message]:
    """(data path for the line lookup, the path the message is about, the message) of one pydantic error."""
    kind = detail["type"]
    loc = tuple(detail["loc"])
    context = detail.get("ctx") or {}
    text = str(detail["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        text = text.removeprefix(prefix)
    raised = context.get("error")
    own = raised.args[0] if isinstance(raised, Exception) and raised.args and isinstance(raised.args[0], Message) \
        else None

    if loc and loc[-1] == "[key]":
        path = _data_path(data, loc[:-1])
        inner = own if own is not None else _pydantic_message(kind, text, context)
        return path, path, Message("schema.invalid_key", f"invalid key: {inner}", detail=inner,
                                   inner_code=inner.code, inner_params=inner.params)

    path = _data_path(data, loc)

    if kind == "missing":
        parent, name = path[:-1], path[-1]
        return parent, parent, message("schema.missing", name=name)

    if kind in ("union_tag_not_found", "union_tag_invalid"):
        field = str(context.get("discriminator", "")).strip("'")
        expected = ", ".join(_union_tags(model, loc, field))
        if not isinstance(detail.get("input"), dict):
            return path, path, message("schema.expected_tagged_mapping", field=field, expected=expected)
        if kind == "union_tag_not_found":
            return path, path, message("schema.missing_tag", field=field, expected=expected)
        key_path = path + (field,)
        return key_path, key_path, message("schema.unknown_tag", field=field, tag=context.get("tag"),
                                           expected=expected)

    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        if allowed:
            return path, path[:-1], message("schema.unknown_key", key=path[-1], expected=", ".join(allowed))
        return path, path[:-1], message("schema.unknown_key_anywhere", key=path[-1])

    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return path, path, message("schema.expected_mapping", got=_show_value(detail.get("input")))

    if own is not None:
        return path, path, own
    result = _pydantic_message(kind, text, context)
    value = detail.get("input")
    if kind != "value_error" and (value is None or isinstance(value, (str, int, float, bool))):
        got = _show_value(value)
        result = Message(result.code, f"{result} (got {got})", **result.params, got=got)
    return path, path, result


# --- which keys a model at some loc accepts (for "unknown key" messages) ----


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _unwrap(tp: Any) -> Any:
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        if _is_union(tp):
            members = [arg for arg in get_args(tp) if arg is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _has_tag(model: type[BaseModel], tag: Any) -> bool:
    return any(
        get_origin(field.annotation) is Literal and tag in get_args(field.annotation)
        for field in model.model_fields.values()
    )


def _step(tp: Any, part: Any) -> Any:
    tp = _unwrap(tp)
    if _is_union(tp):  # a discriminated union: ``part`` is the tag
        for member in get_args(tp):
            member = _unwrap(member)
            if _is_model(member) and _has_tag(member, part):
                return member
        return None
    origin = get_origin(tp)
    if origin is list:
        return get_args(tp)[0] if isinstance(part, int) else None
    if origin is dict:
        return get_args(tp)[1]
    if _is_model(tp):
        for name, field in tp.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
    return None


def _union_tags(model: type[BaseModel], loc: tuple[Any, ...], field: str) -> list[str]:
    """The values the discriminator ``field`` may take for the union at ``loc``."""
    tp: Any = model
    for part in loc:
        tp = _step(tp, part)
        if tp is None:
            return []
    tp = _unwrap(tp)
    if not _is_union(tp):
        return []
    tags: list[str] = []
    for member in get_args(tp):
        member = _unwrap(member)
        if _is_model(member) and field in member.model_fields:
            tags.extend(str(tag) for tag in get_args(member.model_fields[field].annotation))
    return tags


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    tp: Any = model
    for part in loc:
        tp = _step(tp, part)
        if tp is None:
            return None
    tp = _unwrap(tp)
    if not _is_model(tp):
        return None
    return [field.alias or name for name, field in tp.model_fields.items()]


class Reporter:
    """Reports errors for one YAML file at the line of a data path."""

    def __init__(self, file: str, document: YamlDocument, errors: ErrorCollector) -> None:
        self.file = file
        self.document = document
        self._errors = errors

    def at(self, path: Path, message: str) -> None:
        """Record ``message`` (a ``messages.Message``) about the data at ``path``."""
        self._errors.add(self.file, self.document.line_for(path), message, tuple(path), where=format_path(path),
                         text=_prefixed(path, message))
