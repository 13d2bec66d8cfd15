"""Importing a vendors or contacts CSV: every row through the same checks as the pages, all or nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.errors import Conflict, DomainError, Invalid
from app.extensions import db
from app.vendors import ladder
from app.vendors.csvio import check_kind, read_rows
from app.vendors.models import Vendor, VendorContact
from app.vendors.services import apply_vendor, clean_text, find_vendor_by_name, vendor_fields

# The services name some inputs by id; the file names them by email.
COLUMN_OF_FIELD = {"owner_id": "owner_email", "user_id": "user_email", "label": "level_label",
                   "when_to_use": "level_when"}


@dataclass
class RowResult:
    line: int
    action: str = "unchanged"  # create | update | unchanged | error
    record_id: int | None = None
    label: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportReport:
    kind: str
    rows: list[RowResult]
    applied: bool

    @property
    def error_count(self) -> int:
        return sum(bool(row.errors) for row in self.rows)

    def count(self, action: str) -> int:
        return sum(row.action == action for row in self.rows)


class RowError(Exception):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column, self.message = column, message


def _record_id(cells: dict[str, str], model: type, what: str) -> Any:
    raw = cells.get("id", "")
    if not raw:
        return None
    try:
        record = db.session.get(model, int(raw))
    except (ValueError, OverflowError):
        raise RowError("id", "Give a whole number, or leave it empty to create a new record.") from None
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
        try:
            vendor = db.session.get(Vendor, int(cells["vendor_id"]))
        except (ValueError, OverflowError):
            raise RowError("vendor_id", "Give the vendor's id as a whole number.") from None
        if vendor is None:
            raise RowError("vendor_id", f"No vendor with id {cells['vendor_id']}.")
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
    if label is not None and label:
        target.level.label = label
    if when is not None and when:
        target.level.when_to_use = when
    db.session.flush()
    if contact is None:
        result.action = "create"
    elif _contact_state(target) != before:
        result.action = "update"
    result.record_id, result.label = target.id, f"{target.name} ({vendor.name}, level {target.level.number})"


def import_csv(*, kind: str, text: str, apply: bool) -> ImportReport:
    """Check every row (and apply them all when `apply` and none is refused); a dry run changes nothing.

    Raises Invalid naming "file" when the file itself cannot be read (columns, size, encoding).
    """
    check_kind(kind)
    rows = read_rows(kind, text)
    if not rows:
        raise Invalid("The file has a header but no rows.", "file")
    handle = _vendor_row if kind == "vendors" else _contact_row
    results = []
    try:
        for line, cells in rows:
            result = RowResult(line=line, label=cells.get("name", ""))
            try:
                handle(cells, result)
            except RowError as error:
                result.action, result.errors = "error", {error.column: error.message}
            except DomainError as error:
                column = COLUMN_OF_FIELD.get(error.field or "", error.field or "row")
                result.action, result.errors = "error", {column: error.message}
            results.append(result)
    except IntegrityError:
        db.session.rollback()
        raise Conflict("The data changed while the file was being checked; try again.", "file") from None
    report = ImportReport(kind=kind, rows=results, applied=False)
    if apply and not report.error_count:
        db.session.commit()
        report.applied = True
    else:
        db.session.rollback()
    return report

