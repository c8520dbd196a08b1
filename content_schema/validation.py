"""Run a pydantic model over a YAML document and turn its errors into ContentErrors.

pydantic reports a ``loc`` such as ``("questions", 0, "single", "options")``: the
union tag ("single") is not part of the data, so we walk the loc against the
actual data to get the data path, look the line up in the YamlDocument, and
rewrite the message so it says what was expected.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .errors import ErrorCollector
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
            path, message = describe_error(model, document.data, detail)
            errors.add(file, document.line_for(path), message, path)
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


def describe_error(model: type[BaseModel], data: Any, detail: dict[str, Any]) -> tuple[Path, str]:
    """Return (data path for the line lookup, one-line message) for one pydantic error."""
    kind = detail["type"]
    loc = tuple(detail["loc"])
    context = detail.get("ctx") or {}
    message = str(detail["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)

    if loc and loc[-1] == "[key]":
        path = _data_path(data, loc[:-1])
        return path, _prefixed(path, f"invalid key: {message}")

    path = _data_path(data, loc)

    if kind == "missing":
        parent, name = path[:-1], path[-1]
        return parent, _prefixed(parent, f'missing required field "{name}"')

    if kind in ("union_tag_not_found", "union_tag_invalid"):
        field = str(context.get("discriminator", "")).strip("'")
        expected = ", ".join(_union_tags(model, loc, field))
        if not isinstance(detail.get("input"), dict):
            return path, _prefixed(path, f"expected a mapping with {field}: one of {expected}")
        if kind == "union_tag_not_found":
            return path, _prefixed(path, f'missing required field "{field}" (expected one of: {expected})')
        key_path = path + (field,)
        return key_path, _prefixed(key_path, f'unknown {field} "{context.get("tag")}" (expected one of: {expected})')

    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        expected = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        return path, _prefixed(path[:-1], f'unknown key "{path[-1]}"{expected}')

    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return path, _prefixed(path, f"expected a mapping (got {_show_value(detail.get('input'))})")

    value = detail.get("input")
    if kind != "value_error" and (value is None or isinstance(value, (str, int, float, bool))):
        message = f"{message} (got {_show_value(value)})"
    return path, _prefixed(path, message)


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
        self._errors.add(self.file, self.document.line_for(path), _prefixed(path, message), tuple(path))
