"""Jobs as CSV (through app/csvio.py): an export, and an import of the same columns that first reports what it
would do, row by row, with every problem of every row.

A job is matched by app and name: a match is updated, anything else created (with its app when that is new).
Nothing is written unless the import is confirmed and every row is valid: one transaction, all or nothing.
The ping URL's secret is never in the file.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import csvio
from app.auth.services import find_user_by_email
from app.csvio import CsvLayout, ImportReport, RowError, RowResult
from app.extensions import db
from app.oncall.models import EscalationPolicy
from app.watchlist.models import Job, WatchedApp
from app.watchlist.services import apply_job, find_app_by_name, job_values, set_paused

COLUMNS = ("app", "name", "description", "owner_email", "criticality", "escalation_policy", "schedule_kind",
           "interval_minutes", "cron", "time_zone", "grace_minutes", "max_duration_minutes", "min_duration_minutes",
           "failures_before_paging", "paused")
LAYOUT = CsvLayout(columns=COLUMNS, required=("app", "name", "schedule_kind"), max_rows=2000, field="csv",
                   stand_ins=(("name", "(checking the rest of the row)"), ("schedule_kind", "interval"),
                              ("interval_minutes", "60"), ("criticality", "high"), ("time_zone", "UTC")),
                   identifying=("app", "name"))
INT_COLUMNS = ("interval_minutes", "grace_minutes", "max_duration_minutes", "min_duration_minutes",
               "failures_before_paging")
# A service refusal names the form field; the report names the column the person typed it in.
FIELD_TO_COLUMN = {"cron_expr": "cron", "owner_id": "owner_email", "escalation_policy_id": "escalation_policy",
                   "app_id": "app"}
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


def _job_row(job: Job) -> dict[str, Any]:
    return {"app": job.app.name, "name": job.name, "description": job.description,
            "owner_email": job.owner.email if job.owner else "", "criticality": job.criticality,
            "escalation_policy": job.escalation_policy.name if job.escalation_policy else "",
            "schedule_kind": job.schedule_kind,
            "interval_minutes": job.interval_seconds // 60 if job.interval_seconds else "",
            "cron": job.cron_expr or "", "time_zone": job.time_zone, "grace_minutes": job.grace_seconds // 60,
            "max_duration_minutes": job.max_duration_seconds // 60,
            "min_duration_minutes": "" if job.min_duration_seconds is None else job.min_duration_seconds // 60,
            "failures_before_paging": job.failures_before_paging, "paused": job.paused}


def export_jobs() -> str:
    """Every job as CSV, ordered by app and name, in the columns import_jobs() reads."""
    jobs = db.session.scalars(select(Job).join(WatchedApp).order_by(WatchedApp.name, Job.name))
    return csvio.export_text(COLUMNS, (_job_row(job) for job in jobs))


def _values(row: dict[str, str], result: RowResult, app: WatchedApp) -> dict[str, Any]:
    values: dict[str, Any] = {"app_id": app.id, "name": row.get("name", ""), "description": row.get("description", ""),
                              "criticality": row.get("criticality") or "high",
                              "schedule_kind": row.get("schedule_kind", ""), "cron_expr": row.get("cron") or None,
                              "time_zone": row.get("time_zone") or "UTC"}
    for column in INT_COLUMNS:
        raw = row.get(column, "")
        if raw == "":
            continue
        if raw.lstrip("-").isdigit() and len(raw) <= 9:
            values[column] = int(raw)
        else:
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
    app_name = row.get("app", "")
    if not app_name:
        raise RowError("app", "Name the app.")
    app = find_app_by_name(app_name)
    if app is None:
        app = WatchedApp(name=" ".join(app_name.split())[:80])
        db.session.add(app)
        db.session.flush()
        result.notes.append(f"creates app {app.name}")
    values = _values(row, result, app)
    if result.errors:
        return
    existing = db.session.scalar(select(Job).where(Job.app_id == app.id, Job.name == " ".join(
        row.get("name", "").split())))
    before = job_values(existing) if existing is not None else None
    job = apply_job(existing, values)
    paused = row.get("paused", "").lower() in TRUE
    pause_changed = job.paused != paused
    set_paused(job, paused, "a CSV import")
    result.record_id = job.id
    if existing is None:
        result.action = "create"
    elif before != job_values(job) or pause_changed:
        result.action = "update"
        result.notes += [f"{key}: {before[key]!r} → {value!r}" for key, value in job_values(job).items()
                         if before[key] != value]
        if pause_changed:
            result.notes.append("paused" if paused else "resumed")


def import_jobs(text: str, *, confirm: bool = False) -> ImportReport:
    """Check every row and report each of its problems; with `confirm` and no errors, apply them all in one
    commit; otherwise nothing is written."""
    rows = csvio.read_rows(text, LAYOUT)
    first_line: dict[tuple[str, str], int] = {}

    def handle(cells: dict[str, str], result: RowResult) -> None:
        key = (" ".join(result.app.split()).lower(), " ".join(result.name.split()).lower())
        line = first_line.setdefault(key, result.line)
        if line != result.line:
            raise RowError("name", f"The same job is on line {line}.")
        _import_row(cells, result)

    return csvio.run_import(rows, handle, LAYOUT, apply=confirm, column_of_field=FIELD_TO_COLUMN)
