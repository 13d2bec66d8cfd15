"""Vendors and their contacts as CSV (through app/csvio.py); an export imported again changes nothing.

Each row carries its record's id: a row with an id updates that record, a row without one creates a record,
and records missing from the file are left alone (an import never deletes). A dry run checks every row under
the same rules as the pages and reports every problem of every row; the real import applies every row or none.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import csvio
from app.auth.models import User
from app.csvio import CsvLayout, ImportReport, RowError, RowResult
from app.errors import Invalid
from app.extensions import db
from app.vendors import ladder
from app.vendors.models import EscalationLevel, Vendor, VendorContact
from app.vendors.services import apply_vendor, clean_text, find_vendor_by_name, vendor_fields, vendors_query

VENDOR_COLUMNS = ("id", "name", "tier", "supports", "contract_id", "contract_level", "contract_expires",
                  "portal_url", "account_number", "support_hours", "support_zone", "sla_p1_minutes",
                  "sla_p2_minutes", "sla_p3_minutes", "owner_email", "notes")
CONTACT_COLUMNS = ("id", "vendor_id", "vendor_name", "level", "level_label", "level_when", "kind", "name", "role",
                   "phone", "mobile", "email", "hours", "time_zone", "user_email", "notes")
CHECKING = "(checking the rest of the row)"
LAYOUTS = {"vendors": CsvLayout(columns=VENDOR_COLUMNS, required=("name", "tier"), stand_ins=(
               ("name", CHECKING), ("tier", "other"))),
           "contacts": CsvLayout(columns=CONTACT_COLUMNS, required=("level", "kind", "name"), stand_ins=(
               ("level", "1"), ("kind", "external"), ("name", CHECKING)),
               identifying=("id", "vendor_id", "vendor_name"))}
COLUMNS = {kind: layout.columns for kind, layout in LAYOUTS.items()}
KINDS = tuple(LAYOUTS)
# The services name some inputs by id; the file names them by email.
COLUMN_OF_FIELD = {"owner_id": "owner_email", "user_id": "user_email", "label": "level_label",
                   "when_to_use": "level_when"}
decode_upload = csvio.decode_upload


def check_kind(kind: str | None) -> str:
    if kind not in KINDS:
        raise Invalid("Choose vendors or contacts.", "kind")
    return kind


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


def export_csv(kind: str) -> str:
    """Every vendor, or every contact (by vendor, level and id), as CSV text with a header row."""
    if check_kind(kind) == "vendors":
        vendors = db.session.scalars(vendors_query().options(selectinload(Vendor.owner)))
        return csvio.export_text(VENDOR_COLUMNS, (vendor_row(vendor) for vendor in vendors))
    contacts = db.session.scalars(
        select(VendorContact).join(VendorContact.level).join(EscalationLevel.vendor)
        .options(selectinload(VendorContact.level).selectinload(EscalationLevel.vendor),
                 selectinload(VendorContact.user))
        .order_by(Vendor.name, EscalationLevel.number, VendorContact.id))
    return csvio.export_text(CONTACT_COLUMNS, (contact_row(contact) for contact in contacts))


def export_filename(kind: str) -> str:
    return f"quarterdeck-{check_kind(kind)}.csv"


def read_rows(kind: str, text: str) -> list[tuple[int, dict[str, str]]]:
    return csvio.read_rows(text, LAYOUTS[check_kind(kind)])


# --- import rows ---------------------------------------------------------------------------------------------

def _record_id(cells: dict[str, str], model: type, what: str) -> Any:
    raw = cells.get("id", "")
    if not raw:
        return None
    try:
        record_id = int(raw)
    except ValueError:
        raise RowError("id", "Give a whole number, or leave it empty to create a new record.") from None
    record = db.session.get(model, record_id) if 0 < record_id < 2**31 else None
    if record is None:
        raise RowError("id", f"No {what} with id {raw}; leave id empty to create one.")
    return record


def _user_id(email: str, column: str) -> int | None:
    if not email:
        return None
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise RowError(column, f"No person with the email {email}.")
    return user.id


def _date(text: str, column: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(column, "Give a date as YYYY-MM-DD.") from None


def _vendor_row(cells: dict[str, str], result: RowResult) -> None:
    vendor = _record_id(cells, Vendor, "vendor")
    before = vendor_fields(vendor) if vendor is not None else None
    values = dict(before or {})
    for column, text in cells.items():
        if column == "owner_email":
            values["owner_id"] = _user_id(text, column)
        elif column == "contract_expires":
            values[column] = _date(text, column)
        elif column != "id":
            values[column] = text
    target = vendor or Vendor()
    apply_vendor(target, **values)
    if vendor is None:
        db.session.add(target)
        db.session.flush()
        result.action = "create"
    elif vendor_fields(target) != before:
        result.action = "update"
    result.record_id, result.label = target.id, target.name


def _contact_vendor(cells: dict[str, str], contact: VendorContact | None) -> Vendor:
    if cells.get("vendor_id"):
        raw = cells["vendor_id"]
        vendor = db.session.get(Vendor, int(raw)) if raw.isdigit() and int(raw) < 2**31 else None
        if vendor is None:
            raise RowError("vendor_id", f"No vendor with id {raw}; give the vendor's id as a whole number.")
        return vendor
    if cells.get("vendor_name"):
        vendor = find_vendor_by_name(cells["vendor_name"])
        if vendor is None:
            raise RowError("vendor_name", f"No vendor named {cells['vendor_name']}; import the vendors first.")
        return vendor
    if contact is not None:
        return contact.level.vendor
    raise RowError("vendor_id", "Give the vendor's id or name.")


def _contact_state(contact: VendorContact) -> tuple:
    level = contact.level
    return level.vendor_id, tuple(sorted(ladder.contact_fields(contact).items())), level.label, level.when_to_use


def _contact_row(cells: dict[str, str], result: RowResult) -> None:
    contact = _record_id(cells, VendorContact, "vendor contact")
    vendor = _contact_vendor(cells, contact)
    before = _contact_state(contact) if contact is not None else None
    values = ladder.contact_fields(contact) if contact is not None else {}
    for column, text in cells.items():
        if column == "user_email":
            values["user_id"] = _user_id(text, column)
        elif column in ladder.CONTACT_FIELDS:
            values[column] = text
    # Label and "when" are checked before anything changes, so a refused row leaves the ladder as it was.
    label = clean_text(cells["level_label"], "label", 80) if "level_label" in cells else None
    when = clean_text(cells["level_when"], "when_to_use", 200) if "level_when" in cells else None
    target = contact or VendorContact()
    ladder.apply_contact(target, vendor, create_levels=True, **values)
    if label:
        target.level.label = label
    if when:
        target.level.when_to_use = when
    db.session.flush()
    if contact is None:
        result.action = "create"
    elif _contact_state(target) != before:
        result.action = "update"
    result.record_id, result.label = target.id, f"{target.name} ({vendor.name}, level {target.level.number})"


def import_csv(*, kind: str, text: str, apply: bool) -> ImportReport:
    """Check every row, reporting each of its problems (and apply them all when `apply` and none is refused);
    a dry run changes nothing. Raises Invalid naming "file" when the file itself cannot be read."""
    rows = read_rows(kind, text)
    handle = _vendor_row if kind == "vendors" else _contact_row
    return csvio.run_import(rows, handle, LAYOUTS[kind], apply=apply, column_of_field=COLUMN_OF_FIELD, kind=kind)
