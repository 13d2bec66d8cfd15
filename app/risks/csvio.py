"""The register as CSV: an export, and an import of the same file that updates those risks by id.

A row with an id updates that risk (only the columns the file has); a row without one creates a risk. Status,
levels, next review and last update are exported for reading and ignored on import: statuses move through the
workflow (an acceptance needs its approver), and levels follow from the scores. An import never deletes.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import Invalid
from app.extensions import db
from app.risks.models import Risk

COLUMNS = ("id", "title", "description", "category", "source", "owner_email", "quarter", "exposure",
           "inherent_likelihood", "inherent_impact", "likelihood", "impact", "status", "inherent_level", "level",
           "next_review_on", "updated_at")
READ_ONLY = frozenset({"status", "inherent_level", "level", "next_review_on", "updated_at"})
IDENTIFYING = ("id", "title")  # a file names the risks it updates, or has what new ones need
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
EXPORT_BATCH = 1000
# A spreadsheet runs a cell starting with one of these as a formula: the export puts a ' in front (which the
# spreadsheet hides) and the import takes it off, so the round trip is exact.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value.value if hasattr(value, "value") else value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def from_cell(text: str | None) -> str:
    text = (text or "").strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def risk_row(risk: Risk) -> dict[str, Any]:
    row = {column: getattr(risk, column, None) for column in COLUMNS}
    row.update(owner_email=risk.owner.email if risk.owner else "", quarter=risk.quarter_label)
    return row


def _write(rows: Iterable[dict[str, Any]]) -> Iterable[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([to_cell(row[column]) for column in COLUMNS])
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _all_risks() -> Iterable[Risk]:
    # Batches by id keep memory flat on a large register; owners come in one query per batch.
    last = 0
    while True:
        batch = list(db.session.scalars(select(Risk).where(Risk.id > last).options(selectinload(Risk.owner))
                                        .order_by(Risk.id).limit(EXPORT_BATCH)))
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def export_chunks() -> Iterable[str]:
    """Every risk by id, as CSV text in chunks (header first)."""
    return _write(risk_row(risk) for risk in _all_risks())


def export_csv() -> str:
    return "".join(export_chunks())


def decode_upload(data: bytes) -> str:
    """The uploaded bytes as text (UTF-8, with or without the byte-order mark spreadsheets write)."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.", "file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The file is not UTF-8 text: save it as \"CSV UTF-8\" and try again.", "file") from None


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, cells by column) for each non-empty row; refuse a file with unknown or missing columns."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise Invalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.", "file")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
    except csv.Error as error:
        raise Invalid(f"This is not a readable CSV file: {error}.", "file") from None
    if not header:
        raise Invalid("The file is empty: it needs a header row naming the columns.", "file")
    reader.fieldnames = header
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise Invalid(f"Unknown column(s) {', '.join(unknown)}; the register has: {', '.join(COLUMNS)}.", "file")
    if not set(IDENTIFYING) & set(header):
        raise Invalid("Missing column: id (to update risks) or title (to add them).", "file")
    if len(set(header)) != len(header):
        raise Invalid("A column appears twice in the header.", "file")
    rows = []
    ended = reader.line_num
    try:
        for record in reader:
            # A quoted cell can span lines: a row is known by the line it starts on.
            line, ended = ended + 1, reader.line_num
            if None in record:
                raise Invalid(f"Line {line} has more cells than the header has columns.", "file")
            cells = {name: from_cell(value) for name, value in record.items() if name not in READ_ONLY}
            if any(cells.values()):
                rows.append((line, cells))
            if len(rows) > MAX_ROWS:
                raise Invalid(f"At most {MAX_ROWS} rows per file; split it.", "file")
    except csv.Error as error:
        raise Invalid(f"Line {reader.line_num} cannot be read: {error}.", "file") from None
    return rows
