"""Request input the database or the parsers cannot take is refused with a 4xx, not a 500.

- JSON bodies (every ``request.get_json``): NaN, Infinity, numbers too large to store
  (``1e400``, 30-digit integers), nesting deeper than ``MAX_JSON_DEPTH`` and NUL characters
  get a 400 with the reason. Python's ``json`` accepts the first ones, which then overflow a
  column or end in a ``RecursionError``.
- ``<int:…>`` in a route matches only numbers the database's INTEGER ids can hold, so a
  larger number is a 404 instead of an overflow in the query.
- Query and form integers: ``request.args.get(name, default, type=db_int)``.
- NUL characters in the path, the query or a form field: 400 before any view runs
  (PostgreSQL refuses them in text, the login form and /verify/ included).
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask import Request, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, ValidationError

MAX_DB_INT = 2**31 - 1  # INTEGER columns (every id) on PostgreSQL
MAX_DB_BIGINT = 2**63 - 1  # BIGINT columns
MAX_JSON_DEPTH = 32  # the app's JSON bodies are at most a few levels deep


class UnsafeInput(BadRequest):
    """A 400 whose description says what was refused (the error page shows it)."""


def db_int(value: str) -> int:
    """A whole number 0..2**31-1 (ids, page numbers: what an INTEGER column holds), else ValueError.

    For ``request.args.get(name, default, type=db_int)``: anything else (``1e22``, a
    30-digit number, ``-1``) gives the default, as a word does.
    """
    return _bounded_int(value, MAX_DB_INT)


def db_bigint(value: str) -> int:
    """A whole number 0..2**63-1 (what a BIGINT column holds, e.g. milliseconds), else ValueError."""
    return _bounded_int(value, MAX_DB_BIGINT)


def parse_db_int(value: str | None) -> int | None:
    """``db_int`` for a form field: the number, or None for empty, words and out-of-range numbers."""
    try:
        return db_int(value or "")
    except ValueError:
        return None


def _bounded_int(value: str, maximum: int) -> int:
    digits = value.strip()
    # ASCII digits only, and few enough that int() is cheap (it refuses over 4,300 digits anyway).
    if not digits.isascii() or not digits.isdigit() or len(digits.lstrip("0")) > len(str(maximum)):
        raise ValueError(f"not a whole number up to {maximum}: {value[:40]!r}")
    number = int(digits)
    if number > maximum:
        raise ValueError(f"not a whole number up to {maximum}: {value[:40]!r}")
    return number


class DbIntConverter(IntegerConverter):
    """``<int:…>`` that matches only what an INTEGER id can hold; a larger number is a 404."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_DB_INT,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-").lstrip("0")) > len(str(MAX_DB_INT)):
            raise ValidationError()  # before int(): it is slow, then refuses, on thousands of digits
        return super().to_python(value)


def _refuse_constant(name: str) -> Any:
    raise UnsafeInput(_("The request's JSON contains NaN, Infinity or a number too large to store."))


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400 parses as inf
        raise UnsafeInput(_("The request's JSON contains NaN, Infinity or a number too large to store."))
    return number


def _stored_int(text: str) -> int:
    if len(text.lstrip("-")) > len(str(MAX_DB_BIGINT)) or abs(int(text)) > MAX_DB_BIGINT:
        raise UnsafeInput(_("The request's JSON contains NaN, Infinity or a number too large to store."))
    return int(text)


def _refuse_nul() -> UnsafeInput:
    return UnsafeInput(_("The request contains a NUL character (code 0), which is not allowed."))


def check_json(data: bytes | str) -> None:
    """Raise UnsafeInput if ``data`` is JSON the app must not accept; malformed JSON is left to the caller."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float,
                           parse_int=_stored_int)
    except RecursionError:
        raise UnsafeInput(_("The request's JSON is nested more than %(n)d levels deep.", n=MAX_JSON_DEPTH)) from None
    except ValueError:
        return  # not JSON at all: get_json reports it as it always has
    # Iterative walk: depth and NUL characters in keys and strings.
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise UnsafeInput(_("The request's JSON is nested more than %(n)d levels deep.", n=MAX_JSON_DEPTH))
            if isinstance(item, dict):
                for key, child in item.items():
                    if "\x00" in key:
                        raise _refuse_nul()
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and "\x00" in item:
            raise _refuse_nul()


class CheckedRequest(Request):
    """Every JSON body is checked (``check_json``) before a view sees it, ``silent=True`` or not."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if (force or self.is_json) and not getattr(self, "_json_checked", False):
            check_json(self.get_data(cache=True))
            self._json_checked = True
        return super().get_json(force=force, silent=silent, cache=cache)


def refuse_nul_characters() -> None:
    """before_request: a NUL in the path, the query or a form field is a 400 for everyone."""
    if "\x00" in request.path:
        raise _refuse_nul()
    sources = [request.args, request.form] if request.mimetype in _FORM_TYPES else [request.args]
    for fields in sources:
        for key, values in fields.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise _refuse_nul()


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def init_app(app) -> None:
    # Routes bind their converters when they are added: this must run before any blueprint.
    if any(rule.endpoint != "static" for rule in app.url_map.iter_rules()):
        raise RuntimeError("core.inputs.init_app must run before any route is added")
    app.url_map.converters["int"] = DbIntConverter
    app.request_class = CheckedRequest
    app.before_request(refuse_nul_characters)
