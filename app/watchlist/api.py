"""API: /api/v1/watchlist — apps, jobs, pause/resume, runs, maintenance windows, CSV export and import."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import current_app, jsonify, request
from flask_login import current_user

from app.access import allow, can
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import ApiError, json_body, load_form
from app.auth.roles import EDITORS, EVERYONE
from app.forms_common import form_values
from app.views_common import page_args
from app.watchlist import history, job_csv, services, windows
from app.watchlist.forms import AppForm, JobForm, WindowForm
from app.watchlist.models import STATES, Job, JobRun, MaintenanceWindow, WatchedApp

TAG = "watch list"
APP_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
    "owner_id": {"type": ["integer", "null"]}, "criticality": {"type": "string"},
    "rto_minutes": {"type": ["integer", "null"]}, "rpo_minutes": {"type": ["integer", "null"]},
    "runbook_url": {"type": "string"}, "job_ids": {"type": "array", "items": {"type": "integer"}}}}
JOB_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "app_id": {"type": "integer"}, "name": {"type": "string"},
    "state": {"type": "string", "enum": list(STATES)}, "schedule_kind": {"type": "string"},
    "interval_minutes": {"type": ["integer", "null"]}, "cron_expr": {"type": ["string", "null"]},
    "time_zone": {"type": "string"}, "due_at": {"type": ["string", "null"], "format": "date-time"},
    "ping_url": {"type": "string", "description": "only for editors: the job's secret ping URL"}}}
RUN_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "rid": {"type": ["string", "null"]}, "outcome": {"type": "string"},
    "started_at": {"type": ["string", "null"]}, "ended_at": {"type": ["string", "null"]},
    "duration_seconds": {"type": ["number", "null"]}, "exit_code": {"type": ["integer", "null"]},
    "late": {"type": "boolean"}, "too_slow": {"type": "boolean"}, "too_fast": {"type": "boolean"},
    "log": {"type": "string"}}}
IMPORT_SCHEMA = {"type": "object", "properties": {
    "applied": {"type": "boolean"}, "counts": {"type": "object"},
    "rows": {"type": "array", "items": {"type": "object"}}}}
IMPORT_REFUSED = {"anyOf": [IMPORT_SCHEMA, {"$ref": "#/components/schemas/Error"}]}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def app_json(app: WatchedApp) -> dict[str, Any]:
    return {"id": app.id, "name": app.name, "description": app.description, "owner_id": app.owner_id,
            "criticality": app.criticality, "rto_minutes": app.rto_minutes, "rpo_minutes": app.rpo_minutes,
            "runbook_url": app.runbook_url, "job_ids": [job.id for job in app.jobs]}


def job_json(job: Job) -> dict[str, Any]:
    body = {"id": job.id, **services.job_values(job), "paused": job.paused, "state": job.state,
            "state_changed_at": _iso(job.state_changed_at), "due_at": _iso(job.due_at),
            "last_ping_at": _iso(job.last_ping_at), "down_since": _iso(job.down_since),
            "down_reason": job.down_reason, "consecutive_failures": job.consecutive_failures,
            "windows": [window_json(w) for w in job.windows]}
    if can(EDITORS):
        body["ping_url"] = f"{current_app.config['PUBLIC_BASE_URL']}/ping/{job.ping_key}"
    return body


def window_json(window: MaintenanceWindow) -> dict[str, Any]:
    return {"id": window.id, "kind": window.kind, "description": windows.describe(window), "note": window.note,
            "time_zone": window.time_zone, "starts_at": _iso(window.starts_at), "ends_at": _iso(window.ends_at),
            "weekday": window.weekday, "start_time": window.start_time.strftime("%H:%M") if window.start_time else None,
            "end_time": window.end_time.strftime("%H:%M") if window.end_time else None,
            "bd_start": window.bd_start, "bd_end": window.bd_end}


def run_json(run: JobRun) -> dict[str, Any]:
    return {"id": run.id, "rid": run.rid, "outcome": run.outcome, "started_at": _iso(run.started_at),
            "ended_at": _iso(run.ended_at), "duration_seconds": run.duration_seconds, "exit_code": run.exit_code,
            "late": run.late, "too_slow": run.too_slow, "too_fast": run.too_fast, "log": run.log}


@bp.get("/watchlist/apps")
@allow(EVERYONE)
@api_doc("Every watched app", response={"type": "array", "items": APP_SCHEMA}, tag=TAG)
def list_watch_apps():
    return jsonify([app_json(app) for app in services.list_apps()])


@bp.post("/watchlist/apps")
@allow(EDITORS)
@api_doc("Create an app", request=AppForm, response=APP_SCHEMA, status=201, tag=TAG)
def create_watch_app():
    form = load_form(AppForm)
    return jsonify(app_json(services.save_app(None, **form_values(form)))), 201


@bp.get("/watchlist/apps/<int:app_id>")
@allow(EVERYONE)
@api_doc("One app", response=APP_SCHEMA, tag=TAG)
def get_watch_app(app_id: int):
    return jsonify(app_json(services.get_app(app_id)))


@bp.patch("/watchlist/apps/<int:app_id>")
@allow(EDITORS)
@api_doc("Change an app; fields left out keep their value", request=AppForm, response=APP_SCHEMA, tag=TAG)
def update_watch_app(app_id: int):
    app = services.get_app(app_id)
    form = load_form(AppForm, obj=app, partial=True)
    return jsonify(app_json(services.save_app(app, **form_values(form))))


@bp.delete("/watchlist/apps/<int:app_id>")
@allow(EDITORS)
@api_doc("Delete an app without jobs (409 while it has some)", tag=TAG)
def delete_watch_app(app_id: int):
    services.delete_app(services.get_app(app_id))
    return jsonify({"deleted": app_id})


@bp.get("/watchlist/jobs")
@allow(EVERYONE)
@api_doc("Jobs, by app and name, one page at a time", response={"type": "object", "properties": {
    "jobs": {"type": "array", "items": JOB_SCHEMA}, "total": {"type": "integer"}, "page": {"type": "integer"}}},
    query={"app_id": "only this app's jobs", "owner_id": "only this person's jobs",
           "state": "only jobs in this state", "page": "page number", "per_page": "up to 200"}, tag=TAG)
def list_watch_jobs():
    page, per_page = page_args()
    state = request.args.get("state")
    if state and state not in STATES:
        raise ApiError(422, "Unknown state.", {"state": f"Use one of: {', '.join(STATES)}."})
    jobs, total = services.list_jobs(app_id=request.args.get("app_id", type=int),
                                     owner_id=request.args.get("owner_id", type=int), states=(state,) if state else (),
                                     page=page, per_page=per_page)
    return jsonify({"jobs": [job_json(job) for job in jobs], "total": total, "page": page, "per_page": per_page})


@bp.post("/watchlist/jobs")
@allow(EDITORS)
@api_doc("Create a job; the answer carries its secret ping URL", request=JobForm, response=JOB_SCHEMA, status=201,
         tag=TAG)
def create_watch_job():
    form = load_form(JobForm)
    return jsonify(job_json(services.save_job(None, **form_values(form)))), 201


@bp.get("/watchlist/jobs/<int:job_id>")
@allow(EVERYONE)
@api_doc("One job with its state", response=JOB_SCHEMA, tag=TAG)
def get_watch_job(job_id: int):
    return jsonify(job_json(services.get_job(job_id)))


@bp.patch("/watchlist/jobs/<int:job_id>")
@allow(EDITORS)
@api_doc("Change a job; fields left out keep their value; a changed schedule is expected afresh from now",
         request=JobForm, response=JOB_SCHEMA, tag=TAG)
def update_watch_job(job_id: int):
    job = services.get_job(job_id)
    form = load_form(JobForm, obj=SimpleNamespace(**services.job_values(job)), partial=True)
    return jsonify(job_json(services.save_job(job, **form_values(form))))


@bp.delete("/watchlist/jobs/<int:job_id>")
@allow(EDITORS)
@api_doc("Delete a job with its runs and timeline; its open alert is resolved", tag=TAG)
def delete_watch_job(job_id: int):
    services.delete_job(services.get_job(job_id))
    return jsonify({"deleted": job_id})


@bp.post("/watchlist/jobs/<int:job_id>/pause")
@allow(EDITORS)
@api_doc("Pause a job: not watched, never pages; an open alert about it is resolved", response=JOB_SCHEMA, tag=TAG)
def pause_watch_job(job_id: int):
    return jsonify(job_json(services.pause_job(services.get_job(job_id), actor=_actor())))


@bp.post("/watchlist/jobs/<int:job_id>/resume")
@allow(EDITORS)
@api_doc("Resume a paused job: its next run is expected from now", response=JOB_SCHEMA, tag=TAG)
def resume_watch_job(job_id: int):
    return jsonify(job_json(services.resume_job(services.get_job(job_id), actor=_actor())))


def _actor():
    return current_user._get_current_object()


@bp.get("/watchlist/jobs/<int:job_id>/runs")
@allow(EVERYONE)
@api_doc("A job's runs, newest first", response={"type": "object", "properties": {
    "runs": {"type": "array", "items": RUN_SCHEMA}, "total": {"type": "integer"}}},
    query={"page": "page number", "per_page": "up to 200"}, tag=TAG)
def list_watch_job_runs(job_id: int):
    page, per_page = page_args()
    runs, total = history.list_runs(services.get_job(job_id), page=page, per_page=per_page)
    return jsonify({"runs": [run_json(run) for run in runs], "total": total, "page": page, "per_page": per_page})


@bp.post("/watchlist/jobs/<int:job_id>/maintenance-windows")
@allow(EDITORS)
@api_doc("Add a maintenance window: weekly (weekday, start_time, end_time in time_zone), once (starts_at and ends_at "
         "with their UTC offsets) or freeze (bd_start to bd_end around every quarter's BD0, in the close region)",
         request=WindowForm, status=201, tag=TAG)
def add_watch_window(job_id: int):
    job = services.get_job(job_id)
    form = load_form(WindowForm)
    return jsonify(window_json(windows.add_window(job, **form_values(form)))), 201


@bp.delete("/watchlist/jobs/<int:job_id>/maintenance-windows/<int:window_id>")
@allow(EDITORS)
@api_doc("Remove a maintenance window", tag=TAG)
def delete_watch_window(job_id: int, window_id: int):
    job = services.get_job(job_id)
    windows.delete_window(job, windows.get_window(job, window_id))
    return jsonify({"deleted": window_id})


@bp.get("/watchlist/jobs/export")
@allow(EVERYONE)
@api_doc("Every job as CSV text (the columns the import reads)", response={"type": "object", "properties": {
    "csv": {"type": "string"}}}, tag=TAG)
def export_watch_jobs():
    return jsonify({"csv": job_csv.export_jobs()})


@bp.post("/watchlist/jobs/import")
@allow(EDITORS)
@api_doc("Import jobs from CSV: without confirm a dry run that reports each row and changes nothing; with "
         "confirm true and no row in error, applies them all", request_extra={
             "csv": {"type": "string"}, "confirm": {"type": "boolean"}}, response=IMPORT_SCHEMA, tag=TAG, also={422: ("A row was refused: the report, nothing applied; or a field is invalid", IMPORT_REFUSED)})
def import_watch_jobs():
    payload = json_body()
    unknown = sorted(set(payload) - {"csv", "confirm"})
    if unknown:
        raise ApiError(422, "Unknown fields in the request.", {name: "Unknown field." for name in unknown})
    confirm = payload.get("confirm", False)
    if not isinstance(confirm, bool):
        raise ApiError(422, "Some fields are invalid.", {"confirm": "Must be true or false."})
    report = job_csv.import_jobs(payload.get("csv"), confirm=confirm)
    body = {"applied": report.applied, "counts": report.counts(), "rows": [
        {"line": r.line, "app": r.app, "name": r.name, "action": r.action, "errors": r.errors, "notes": r.notes}
        for r in report.rows]}
    return jsonify(body), 422 if report.error_count else 200
