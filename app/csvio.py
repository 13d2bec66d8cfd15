"""CSV for every domain: formula-safe export, strict reading, and an import that is a dry run until applied.

- Export: a cell a spreadsheet would run as a formula (starting with = + - @ tab or CR) gets a leading ' which
  the spreadsheet hides; the import takes it off again, so an export imported back changes nothing.
- Reading: UTF-8 (with or without the byte-order mark), a header naming known columns, a row limit; a row is
  known by the line it starts on (a quoted cell may span lines).
- Import: every row goes through the domain's own rules; each row reports every problem it has (a refused
  column is set aside and the row checked again, so the next problem shows too), and the file is applied in
  one transaction only when asked and no row has an error. Otherwise nothing is written.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import false, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, DomainError, Invalid
from app.extensions import db

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _check_size(size: int, field: str) -> None:
    """A file may be as large as any request body (REQUEST_MAX_KB): the same limit, said in the same words."""
    limit_kb = int(current_app.config["REQUEST_MAX_KB"])
    if size > limit_kb * 1024:
        raise Invalid(f"The file is larger than {limit_kb} kB (REQUEST_MAX_KB); split it.", field)


# --- cells ---------------------------------------------------------------------------------------------------

def to_cell(value: Any) -> str:
    """A value as the text of one cell, escaped so that a spreadsheet shows it instead of running it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value.value if hasattr(value, "value") else value)
    return "'" + text if text.startswith(FORMULA_START) else text


def from_cell(text: str | None) -> str:
    """A cell's text as typed: stripped, and without the ' an export put in front of a formula-like value."""
    text = (text or "").strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


# --- export --------------------------------------------------------------------------------------------------

def export_chunks(columns: Sequence[str], rows: Iterable[dict[str, Any]], chunk_size: int = 64 * 1024
                  ) -> Iterator[str]:
    """The header and every row as escaped CSV text, in chunks (for streaming a large export)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([to_cell(row.get(column)) for column in columns])
        if out.tell() > chunk_size:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def export_text(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    return "".join(export_chunks(columns, rows))


# --- reading -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CsvLayout:
    """What a domain's file looks like: its columns, which must be there, and limits."""

    columns: tuple[str, ...]
    required: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()  # at least one of these columns (e.g. id to update, or title to create)
    read_only: frozenset[str] = frozenset()  # exported for reading, ignored on import
    max_rows: int = 5000
    field: str = "file"  # the form field / JSON key errors about the file itself are reported on
    one_of_message: str = ""
    # A value each column may take while the rest of a row is checked once that column was refused (a new
    # record still needs its required columns); a refused column without one is left out of the row.
    stand_ins: tuple[tuple[str, str], ...] = ()
    # Columns that say which record a row is about: once one is refused, the rest of the row means nothing.
    identifying: tuple[str, ...] = ("id",)


def decode_upload(data: bytes, field: str = "file") -> str:
    """The uploaded bytes as text (UTF-8, with or without the byte-order mark spreadsheets write)."""
    _check_size(len(data), field)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The file is not UTF-8 text: save it as \"CSV UTF-8\" and try again.", field) from None


def read_rows(text: str, layout: CsvLayout) -> list[tuple[int, dict[str, str]]]:
    """(line number, cells by column) of each non-empty row; raises Invalid for a file that cannot be read."""
    where = layout.field
    if not isinstance(text, str) or not text.strip():
        raise Invalid("The file is empty: it needs a header row naming the columns.", where)
    _check_size(len(text.encode("utf-8", "surrogatepass")), where)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
    except csv.Error as error:
        raise Invalid(f"This is not a readable CSV file: {error}.", where) from None
    reader.fieldnames = header
    unknown = [name for name in header if name not in layout.columns]
    if unknown:
        raise Invalid(f"Unknown column(s) {', '.join(unknown)}; use those of the export: "
                      f"{', '.join(layout.columns)}.", where)
    missing = [name for name in layout.required if name not in header]
    if missing:
        raise Invalid(f"Missing column(s) {', '.join(missing)}.", where)
    if layout.one_of and not set(layout.one_of) & set(header):
        raise Invalid(layout.one_of_message or f"Missing column: one of {' or '.join(layout.one_of)}.", where)
    if len(set(header)) != len(header):
        raise Invalid("A column appears twice in the header.", where)
    rows, ended = [], reader.line_num
    try:
        for record in reader:
            line, ended = ended + 1, reader.line_num
            if None in record:
                raise Invalid(f"Line {line} has more cells than the header has columns.", where)
            cells = {name: from_cell(value) for name, value in record.items() if name not in layout.read_only}
            if any(cells.values()):
                rows.append((line, cells))
            if len(rows) > layout.max_rows:
                raise Invalid(f"At most {layout.max_rows} rows per file; split it.", where)
    except csv.Error as error:
        raise Invalid(f"Line {reader.line_num} cannot be read: {error}.", where) from None
    if not rows:
        raise Invalid("The file has a header but no rows.", where)
    return rows


# --- import --------------------------------------------------------------------------------------------------

class RowError(Exception):
    """A problem with one column of one row (raised by a domain's row handler)."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column, self.message = column, message


@dataclass
class RowResult:
    line: int
    action: str = "unchanged"  # create | update | unchanged | error
    record_id: int | None = None
    label: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    app: str = ""  # the watch list names a job by its app and name
    name: str = ""


@dataclass
class ImportReport:
    rows: list[RowResult]
    applied: bool
    kind: str = ""

    @property
    def error_count(self) -> int:
        return sum(bool(row.errors) for row in self.rows)

    def count(self, action: str) -> int:
        return sum(row.action == action for row in self.rows)

    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in ("create", "update", "unchanged", "error")}


RowHandler = Callable[[dict[str, str], RowResult], None]


def _check_row(handle: RowHandler, cells: dict[str, str], result: RowResult, column_of_field: dict[str, str],
               layout: CsvLayout) -> None:
    """Run the row; on a refusal, set the refused columns aside and run it again, until it passes or nothing
    new is found. Only a row without any error keeps its changes (in the import's transaction)."""
    stand_ins = dict(layout.stand_ins)
    for _attempt in range(len(cells) + 1):
        savepoint = db.session.begin_nested()
        trial = RowResult(line=result.line, label=result.label, app=result.app, name=result.name)
        try:
            handle({column: stand_ins[column] if column in result.errors else text for column, text in cells.items()
                    if column not in result.errors or column in stand_ins}, trial)
            found = dict(trial.errors)
        except RowError as error:
            found = {error.column: error.message}
        except DomainError as error:
            found = {column_of_field.get(error.field or "", error.field or "row"): error.message}
        if not found and not result.errors:
            savepoint.commit()
            result.action, result.record_id, result.notes = trial.action, trial.record_id, trial.notes
            result.label = trial.label or result.label
            return
        savepoint.rollback()
        new = {column: message for column, message in found.items() if column not in result.errors}
        result.errors.update(new)
        if not any(column in cells for column in new) or set(new) & set(layout.identifying):
            break  # nothing more to set aside, or the row names no record it could be checked against
    result.action = "error"


def run_import(rows: list[tuple[int, dict[str, str]]], handle: RowHandler, layout: CsvLayout, *, apply: bool,
               column_of_field: dict[str, str] | None = None, kind: str = "",
               label: Callable[[dict[str, str]], str] = lambda cells: cells.get("name", "")) -> ImportReport:
    """Check every row with `handle`; apply them all in one commit when `apply` and none has an error."""
    # SQLite's driver begins a transaction only before a write, and a savepoint released outside one commits:
    # a write that changes nothing first, so the rows' savepoints nest in a transaction that can roll back.
    from app.system.models import SchedulerHeartbeat

    db.session.execute(update(SchedulerHeartbeat).where(false()).values(name=SchedulerHeartbeat.name))
    results = []
    try:
        for line, cells in rows:
            result = RowResult(line=line, label=label(cells), app=cells.get("app", ""), name=cells.get("name", ""))
            _check_row(handle, cells, result, column_of_field or {}, layout)
            results.append(result)
    except IntegrityError:
        db.session.rollback()
        raise Conflict("The data changed while the file was being checked; try again.", "file") from None
    report = ImportReport(rows=results, applied=False, kind=kind)
    if apply and not report.error_count:
        db.session.commit()
        report.applied = True
    else:
        db.session.rollback()
    return report
