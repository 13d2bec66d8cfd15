"""The one CSV module: formula escaping that round-trips, strict reading, and every problem of every row."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from app import csvio
from app.csvio import CsvLayout, RowError, RowResult
from app.errors import Invalid


@pytest.mark.parametrize("text", ["=SUM(A1:A9)", "+1 212 555", "-2", "@cmd", "\tTAB", "\rCR"])
def test_a_cell_a_spreadsheet_would_run_gets_a_quote_and_comes_back_unchanged(text):
    cell = csvio.to_cell(text)
    assert cell == "'" + text
    assert csvio.from_cell(cell) == text


def test_ordinary_cells_are_written_as_they_are():
    assert [csvio.to_cell(v) for v in (None, True, date(2027, 1, 31), 7, "O'Brien", "'quoted")] == \
        ["", "true", "2027-01-31", "7", "O'Brien", "'quoted"]
    assert csvio.from_cell("'quoted") == "'quoted"  # a quote before ordinary text is the text's own


def test_the_export_escapes_every_formula_cell():
    text = csvio.export_text(("a", "b"), [{"a": "=1+1", "b": "@x"}])
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ["'=1+1", "'@x"]]


LAYOUT = CsvLayout(columns=("id", "name", "size", "colour"), required=("name",), stand_ins=(("name", "stand-in"),))


def test_reading_refuses_unknown_and_missing_columns_naming_the_file(app):
    for text, message in (("name,weight\nx,1\n", "Unknown column(s) weight"), ("size\n1\n", "Missing column(s) name"),
                          ("", "The file is empty"), ("name\n", "header but no rows")):
        with pytest.raises(Invalid, match=re.escape(message)) as refused:
            csvio.read_rows(text, LAYOUT)
        assert refused.value.field == "file"


def handle(cells: dict[str, str], result: RowResult) -> None:
    if not cells.get("name"):
        raise RowError("name", "Name it.")
    if cells.get("size") and not cells["size"].isdigit():
        raise RowError("size", "A whole number.")
    if cells.get("colour") not in (None, "", "red", "blue"):
        raise RowError("colour", "red or blue.")
    result.action = "create"


def test_a_dry_run_reports_every_problem_of_every_row(app):
    rows = csvio.read_rows("name,size,colour\n,big,green\nok,2,red\nfine,x,\n", LAYOUT)

    report = csvio.run_import(rows, handle, LAYOUT, apply=True)

    assert not report.applied
    assert [(row.line, row.action, row.errors) for row in report.rows] == [
        (2, "error", {"name": "Name it.", "size": "A whole number.", "colour": "red or blue."}),
        (3, "create", {}),
        (4, "error", {"size": "A whole number."}),
    ]


@pytest.mark.config(REQUEST_MAX_KB=16)
def test_a_file_larger_than_the_request_limit_is_refused_as_a_whole(app):
    with pytest.raises(Invalid, match=re.escape("larger than 16 kB (REQUEST_MAX_KB)")):
        csvio.read_rows("name\n" + "x\n" * 10_000, LAYOUT)
    with pytest.raises(Invalid, match="larger than 16 kB"):
        csvio.decode_upload(b"name\n" + b"x\n" * 10_000)
