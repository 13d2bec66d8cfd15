"""The register as CSV (through app/csvio.py): an export, and an import of the same file that updates risks by id.

A row with an id updates that risk (only the columns the file has); a row without one creates a risk. Status,
levels, next review and last update are exported for reading and ignored on import: statuses move through the
workflow (an acceptance needs its approver), and levels follow from the scores. An import never deletes.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import csvio
from app.auth.models import User
from app.csvio import CsvLayout, ImportReport, RowError, RowResult
from app.extensions import db
from app.risks import cadence, history
from app.risks.models import Risk, RiskStatus
from app.risks.scoring import current_settings
from app.risks.services import apply_risk, risk_fields, touch
from app.timeutil import utcnow

COLUMNS = ("id", "title", "description", "category", "source", "owner_email", "quarter", "exposure",
           "inherent_likelihood", "inherent_impact", "likelihood", "impact", "status", "inherent_level", "level",
           "next_review_on", "updated_at")
LAYOUT = CsvLayout(columns=COLUMNS, one_of=("id", "title"),
                   one_of_message="Missing column: id (to update risks) or title (to add them).",
                   read_only=frozenset({"status", "inherent_level", "level", "next_review_on", "updated_at"}),
                   stand_ins=(("title", "(checking the rest of the row)"), ("category", "other"),
                              ("source", "process"), ("inherent_likelihood", "1"), ("inherent_impact", "1"),
                              ("likelihood", "1"), ("impact", "1"), ("quarter", ""), ("owner_email", ""),
                              ("exposure", ""), ("description", "")))
EXPORT_BATCH = 1000
# The service names the owner by id; the file names them by email.
COLUMN_OF_FIELD = {"owner_id": "owner_email"}
decode_upload = csvio.decode_upload


def risk_row(risk: Risk) -> dict[str, Any]:
    row = {column: getattr(risk, column, None) for column in COLUMNS}
    row.update(owner_email=risk.owner.email if risk.owner else "", quarter=risk.quarter_label)
    return row


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
    return csvio.export_chunks(COLUMNS, (risk_row(risk) for risk in _all_risks()))


def export_csv() -> str:
    return "".join(export_chunks())


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


def _import_row(cells: dict[str, str], result: RowResult) -> None:
    settings = current_settings()
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
    """Check every row, reporting each of its problems (and apply them all when `apply` and none is refused);
    a dry run changes nothing. Raises Invalid naming "file" when the file itself cannot be read."""
    rows = csvio.read_rows(text, LAYOUT)
    return csvio.run_import(rows, _import_row, LAYOUT, apply=apply, column_of_field=COLUMN_OF_FIELD,
                            label=lambda cells: cells.get("title", ""))
