"""Importing a register CSV: every row through the same rules as the risk form; a dry run, then all or nothing."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.errors import Conflict, DomainError, Invalid
from app.extensions import db
from app.risks import cadence, history
from app.risks.csvio import read_rows
from app.risks.models import Risk, RiskStatus
from app.risks.scoring import current_settings
from app.risks.services import apply_risk, risk_fields, touch
from app.timeutil import utcnow

# The service names the owner by id; the file names them by email.
COLUMN_OF_FIELD = {"owner_id": "owner_email"}


@dataclass
class RowResult:
    line: int
    action: str = "unchanged"  # create | update | unchanged | error
    record_id: int | None = None
    label: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportReport:
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


def _existing(raw: str) -> Risk | None:
    if not raw:
        return None
    try:
        risk_id = int(raw.upper().removeprefix("R-"))
    except ValueError:
        raise RowError("id", "Give the risk's id (a whole number, or R-12), or leave it empty to add a risk.") \
            from None
    risk = db.session.get(Risk, risk_id) if 0 < risk_id < 2**31 else None
    if risk is None:
        raise RowError("id", f"No risk R-{risk_id}; leave id empty to add a new risk.")
    return risk


def _owner_id(email: str) -> int | None:
    if not email:
        return None
    person = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if person is None:
        raise RowError("owner_email", f"No person with the email {email}.")
    return person.id


def _import_row(cells: dict[str, str], result: RowResult, settings) -> None:
    risk = _existing(cells.get("id", ""))
    before = risk_fields(risk) if risk is not None else {}
    values = dict(before)
    for column, text in cells.items():
        if column == "owner_email":
            values["owner_id"] = _owner_id(text)
        elif column != "id":
            values[column] = text
    target = risk or Risk(status=RiskStatus.OPEN, created_at=utcnow())
    apply_risk(target, settings, **values)
    result.label = target.title
    if risk is None:
        target.updated_at = target.created_at
        db.session.add(target)
        db.session.flush()
        cadence.schedule_review(target, settings)
        history.record_state(target, cause="created")
        result.action = "create"
    elif risk_fields(target) != before:
        touch(target)
        history.record_state(target, cause="import")
        result.action = "update"
    result.record_id = target.id


def import_csv(*, text: str, apply: bool) -> ImportReport:
    """Check every row (and apply them all when `apply` and none is refused); a dry run changes nothing.

    Raises Invalid naming "file" when the file itself cannot be read (columns, size, encoding).
    """
    rows = read_rows(text)
    if not rows:
        raise Invalid("The file has a header but no rows.", "file")
    settings = current_settings()
    results = []
    try:
        for line, cells in rows:
            result = RowResult(line=line, label=cells.get("title", ""))
            try:
                _import_row(cells, result, settings)
            except RowError as error:
                result.action, result.errors = "error", {error.column: error.message}
            except DomainError as error:
                column = COLUMN_OF_FIELD.get(error.field or "", error.field or "row")
                result.action, result.errors = "error", {column: error.message}
            results.append(result)
    except IntegrityError:
        db.session.rollback()
        raise Conflict("The register changed while the file was being checked; try again.", "file") from None
    report = ImportReport(rows=results, applied=False)
    if apply and not report.error_count:
        db.session.commit()
        report.applied = True
    else:
        db.session.rollback()
    return report
