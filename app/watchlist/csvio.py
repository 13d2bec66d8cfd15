"""Jobs as CSV: an export, and an import of the same columns that first reports what it would do, row by row.

A job is matched by app and name: a match is updated, anything else created (with its app when that is new).
Nothing is written unless the import is confirmed and every row is valid: one transaction, all or nothing.
The ping URL's secret is never in the file.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import false, select, update

from app.auth.services import find_user_by_email
from app.errors import DomainError, Invalid
from app.extensions import db
from app.oncall.models import EscalationPolicy
from app.watchlist.models import Job, WatchedApp
from app.watchlist.services import apply_job, find_app_by_name, job_values, set_paused

COLUMNS = ["app", "name", "description", "owner_email", "criticality", "escalation_policy", "schedule_kind",
           "interval_minutes", "cron", "time_zone", "grace_minutes", "max_duration_minutes", "min_duration_minutes",
           "failures_before_paging", "paused"]
REQUIRED = {"app", "name", "schedule_kind"}
INT_COLUMNS = {"interval_minutes": "interval_minutes", "grace_minutes": "grace_minutes",
               "max_duration_minutes": "max_duration_minutes", "min_duration_minutes": "min_duration_minutes",
               "failures_before_paging": "failures_before_paging"}
# A service refusal names the form field; the report names the column the person typed it in.
FIELD_TO_COLUMN = {"cron_expr": "cron", "owner_id": "owner_email", "escalation_policy_id": "escalation_policy",
                   "app_id": "app"}
MAX_ROWS = 2000
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


def export_jobs() -> str:
    """Every job as CSV, ordered by app and name, in the columns import_jobs() reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    jobs = db.session.scalars(select(Job).join(WatchedApp).order_by(WatchedApp.name, Job.name))
    for job in jobs:
        writer.writerow([job.app.name, job.name, job.description, job.owner.email if job.owner else "",
                         job.criticality, job.escalation_policy.name if job.escalation_policy else "",
                         job.schedule_kind, job.interval_seconds // 60 if job.interval_seconds else "",
                         job.cron_expr or "", job.time_zone, job.grace_seconds // 60,
                         job.max_duration_seconds // 60,
                         "" if job.min_duration_seconds is None else job.min_duration_seconds // 60,
                         job.failures_before_paging, "true" if job.paused else "false"])
    return out.getvalue()


@dataclass
class RowResult:
    line: int
    app: str
    name: str
    action: str = "unchanged"  # create | update | unchanged | error
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowResult]
    applied: bool

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    def counts(self) -> dict[str, int]:
        result = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            result[row.action] += 1
        return result


def _read(text: str) -> list[dict[str, str]]:
    if not isinstance(text, str) or not text.strip():
        raise Invalid("Paste or upload the CSV.", "csv")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = sorted(REQUIRED - set(header))
    if missing:
        raise Invalid(f"The header must name these columns: {', '.join(missing)}.", "csv")
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        raise Invalid(f"Unknown columns: {', '.join(unknown)}. Use those of the export.", "csv")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    if len(rows) > MAX_ROWS:
        raise Invalid(f"Import at most {MAX_ROWS} rows at a time.", "csv")
    return rows


def _values(row: dict[str, str], result: RowResult, app: WatchedApp) -> dict[str, Any]:
    values: dict[str, Any] = {"app_id": app.id, "name": row.get("name", ""), "description": row.get("description", ""),
                              "criticality": row.get("criticality") or "high",
                              "schedule_kind": row.get("schedule_kind", ""), "cron_expr": row.get("cron") or None,
                              "time_zone": row.get("time_zone") or "UTC"}
    for column, key in INT_COLUMNS.items():
        raw = row.get(column, "")
        if raw == "":
            continue
        try:
            values[key] = int(raw)
        except ValueError:
            result.errors[column] = "Must be a whole number."
    email = row.get("owner_email", "")
    if email:
        owner = find_user_by_email(email)
        if owner is None:
            result.errors["owner_email"] = f"No person with email {email}."
        else:
            values["owner_id"] = owner.id
    policy_name = row.get("escalation_policy", "")
    if policy_name:
        policy = db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == policy_name))
        if policy is None:
            result.errors["escalation_policy"] = f"No escalation policy named {policy_name}."
        else:
            values["escalation_policy_id"] = policy.id
    if row.get("paused", "").lower() not in TRUE | FALSE:
        result.errors["paused"] = "Use true or false."
    return values


def _import_row(row: dict[str, str], result: RowResult) -> None:
    app = find_app_by_name(result.app) if result.app else None
    if app is None:
        if not result.app:
            result.errors["app"] = "Name the app."
            return
        app = WatchedApp(name=" ".join(result.app.split())[:80])
        db.session.add(app)
        db.session.flush()
        result.notes.append(f"creates app {app.name}")
    values = _values(row, result, app)
    if result.errors:
        return
    existing = db.session.scalar(select(Job).where(Job.app_id == app.id, Job.name == " ".join(result.name.split())))
    before = job_values(existing) if existing is not None else None
    job = apply_job(existing, values)
    paused = row.get("paused", "").lower() in TRUE
    pause_changed = job.paused != paused
    set_paused(job, paused, "a CSV import")
    if existing is None:
        result.action = "create"
    elif before != job_values(job) or pause_changed:
        result.action = "update"
        result.notes += [f"{key}: {before[key]!r} → {value!r}" for key, value in job_values(job).items()
                         if before[key] != value]
        if pause_changed:
            result.notes.append("paused" if paused else "resumed")


def import_jobs(text: str, *, confirm: bool = False) -> ImportReport:
    """Check every row and report; with `confirm` and no errors, apply them all in one commit; otherwise nothing."""
    rows = _read(text)
    # SQLite's driver opens a transaction only before a write, and a savepoint released outside one commits:
    # write nothing first so the per-row savepoints below nest inside a transaction that can still roll back.
    db.session.execute(update(WatchedApp).where(false()).values(name=WatchedApp.name))
    results, seen = [], {}
    for line, row in enumerate(rows, start=2):
        result = RowResult(line=line, app=row.get("app", ""), name=row.get("name", ""))
        results.append(result)
        key = (" ".join(result.app.split()).lower(), " ".join(result.name.split()).lower())
        if key in seen:
            result.errors["name"] = f"The same job is on line {seen[key]}."
        else:
            seen[key] = line
            savepoint = db.session.begin_nested()
            try:
                _import_row(row, result)
            except DomainError as error:
                column = FIELD_TO_COLUMN.get(error.field or "", error.field or "row")
                result.errors[column] = error.message
            if result.errors:
                savepoint.rollback()
            else:
                savepoint.commit()
        if result.errors:
            result.action = "error"
    applied = confirm and not any(r.errors for r in results)
    if applied:
        db.session.commit()
    else:
        db.session.rollback()
    return ImportReport(rows=results, applied=applied)
