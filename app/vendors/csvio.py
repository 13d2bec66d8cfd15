"""CSV export and import of vendors and of their contacts; an export imported again changes nothing.

Each row carries its record's id: a row with an id updates that record, a row without one creates a record,
and records missing from the file are left alone (an import never deletes). A dry run checks every row under
the same rules as the pages and changes nothing; the real import applies every row or none.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.errors import Invalid
from app.extensions import db
from app.vendors.models import EscalationLevel, Vendor, VendorContact
from app.vendors.services import vendors_query

VENDOR_COLUMNS = ("id", "name", "tier", "supports", "contract_id", "contract_level", "contract_expires",
                  "portal_url", "account_number", "support_hours", "support_zone", "sla_p1_minutes",
                  "sla_p2_minutes", "sla_p3_minutes", "owner_email", "notes")
CONTACT_COLUMNS = ("id", "vendor_id", "vendor_name", "level", "level_label", "level_when", "kind", "name", "role",
                   "phone", "mobile", "email", "hours", "time_zone", "user_email", "notes")
COLUMNS = {"vendors": VENDOR_COLUMNS, "contacts": CONTACT_COLUMNS}
REQUIRED = {"vendors": ("name", "tier"), "contacts": ("level", "kind", "name")}
KINDS = tuple(COLUMNS)
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# A spreadsheet runs a cell starting with one of these as a formula: exports prefix it with ' (which the
# spreadsheet hides), and imports take the ' off again, so the round trip is exact.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def check_kind(kind: str | None) -> str:
    if kind not in KINDS:
        raise Invalid("Choose vendors or contacts.", "kind")
    return kind


# --- cells ---------------------------------------------------------------------------------------------------

def to_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value.value if hasattr(value, "value") else value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def from_cell(text: str | None) -> str:
    text = (text or "").strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def _email_of(user: User | None) -> str:
    return user.email if user is not None else ""


def vendor_row(vendor: Vendor) -> dict[str, Any]:
    row = {column: getattr(vendor, column, None) for column in VENDOR_COLUMNS}
    row["owner_email"] = _email_of(vendor.owner)
    return row


def contact_row(contact: VendorContact) -> dict[str, Any]:
    level = contact.level
    row = {column: getattr(contact, column, None) for column in CONTACT_COLUMNS}
    row.update(vendor_name=level.vendor.name, level=level.number, level_label=level.label,
               level_when=level.when_to_use, user_email=_email_of(contact.user))
    return row


# --- export --------------------------------------------------------------------------------------------------

def _write(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([to_cell(row[column]) for column in columns])
    return out.getvalue()


def export_csv(kind: str) -> str:
    """Every vendor, or every contact (by vendor, level and id), as CSV text with a header row."""
    if check_kind(kind) == "vendors":
        vendors = db.session.scalars(vendors_query().options(selectinload(Vendor.owner)))
        return _write(VENDOR_COLUMNS, (vendor_row(vendor) for vendor in vendors))
    contacts = db.session.scalars(
        select(VendorContact).join(VendorContact.level).join(EscalationLevel.vendor)
        .options(selectinload(VendorContact.level).selectinload(EscalationLevel.vendor),
                 selectinload(VendorContact.user))
        .order_by(Vendor.name, EscalationLevel.number, VendorContact.id))
    return _write(CONTACT_COLUMNS, (contact_row(contact) for contact in contacts))


def export_filename(kind: str) -> str:
    return f"quarterdeck-{check_kind(kind)}.csv"


# --- reading a file ------------------------------------------------------------------------------------------

def decode_upload(data: bytes) -> str:
    """The uploaded bytes as text (UTF-8, with or without the byte-order mark spreadsheets write)."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.", "file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The file is not UTF-8 text: save it as \"CSV UTF-8\" and try again.", "file") from None


def read_rows(kind: str, text: str) -> list[tuple[int, dict[str, str]]]:
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
    unknown = [name for name in header if name not in COLUMNS[kind]]
    if unknown:
        raise Invalid(f"Unknown column(s) {', '.join(unknown)}; {kind} files have: {', '.join(COLUMNS[kind])}.",
                      "file")
    missing = [name for name in REQUIRED[kind] if name not in header]
    if missing:
        raise Invalid(f"Missing column(s) {', '.join(missing)}.", "file")
    if len(set(header)) != len(header):
        raise Invalid("A column appears twice in the header.", "file")
    rows = []
    try:
        for record in reader:
            if None in record:
                raise Invalid(f"Line {reader.line_num} has more cells than the header has columns.", "file")
            cells = {name: from_cell(value) for name, value in record.items()}
            if any(cells.values()):
                rows.append((reader.line_num, cells))
            if len(rows) > MAX_ROWS:
                raise Invalid(f"At most {MAX_ROWS} rows per file; split it.", "file")
    except csv.Error as error:
        raise Invalid(f"Line {reader.line_num} cannot be read: {error}.", "file") from None
    return rows
