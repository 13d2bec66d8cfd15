"""API: /api/v1/incidents — list, declare, read with the timeline, post updates and notes, resolve, attach alerts,
add tasks and runbooks in use; and the figures. The same services as the pages.

Everyone reads; responders, the crisis team and admins declare and work incidents. Times carry an offset.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EVERYONE
from app.calendar.services import fiscal_start_month
from app.extensions import db
from app.incidents import links, metrics, queries, review, services, subscriptions, tasks, updates
from app.incidents.forms import (AttachAlertForm, DeclareForm, NoteForm, ResolveForm, RunbookForm, TaskApiForm,
                                 UpdateForm)
from app.incidents.models import ROLES, STATUS_VALUES, Incident, IncidentTask
from app.incidents.severities import CODES
from app.incidents.timeline import timeline_query
from app.readiness.checklist import parse_quarter
from app.views_common import page_args

WORKERS = services.WORKERS
_TIME = {"type": ["string", "null"], "format": "date-time"}
_PERSON = {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
INCIDENT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "code": {"type": "string"}, "title": {"type": "string"}, "summary": {"type": "string"},
    "severity": {"type": "string", "enum": list(CODES)}, "status": {"type": "string", "enum": list(STATUS_VALUES)},
    "resolution": {"type": "string"}, "started_at": _TIME, "detected_at": _TIME, "declared_at": _TIME,
    "acknowledged_at": _TIME, "mitigated_at": _TIME, "resolved_at": _TIME, "closed_at": _TIME,
    "last_update_at": _TIME, "next_update_due_at": _TIME,
    "update_overdue_minutes": {"type": ["integer", "null"]},
    "roles": {"type": "object", "properties": {role: _PERSON for role in ROLES}}, "url": {"type": "string"}}}
EVENT_SCHEMA = {"type": "object", "properties": {
    "at": {"type": "string", "format": "date-time"}, "recorded_at": {"type": "string", "format": "date-time"},
    "kind": {"type": "string"}, "actor": {"type": "string"}, "text": {"type": "string"}}}
TASK_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "owner": _PERSON, "due_at": _TIME,
    "status": {"type": "string", "enum": ["open", "done", "dropped"]}}}
DETAIL_SCHEMA = {"type": "object", "properties": {
    **INCIDENT_SCHEMA["properties"],
    "timeline": {"type": "array", "items": EVENT_SCHEMA, "description": "oldest first"},
    "subscribers": {"type": "integer", "description": "how many people get its updates"},
    "tasks": {"type": "array", "items": TASK_SCHEMA},
    "alerts": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "role": {"type": "string", "enum": ["declared_from", "attached", "page"]},
        "status": {"type": "string"}, "summary": {"type": "string"}}}},
    "runbooks": {"type": "array", "items": {"type": "object", "properties": {
        "slug": {"type": "string"}, "outcome": {"type": "string"}}}}}}
LIST_SCHEMA = {"type": "object", "properties": {
    "items": {"type": "array", "items": INCIDENT_SCHEMA}, "total": {"type": "integer"},
    "page": {"type": "integer"}, "per_page": {"type": "integer"}, "pages": {"type": "integer"}}}
UPDATE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "status": {"type": "string"},
    "message": {"type": "string"}, "recipients": {"type": "integer"}}}
_DURATION = {"type": "object", "properties": {"mean_seconds": {"type": ["integer", "null"]},
                                              "p90_seconds": {"type": ["integer", "null"]}}}
METRICS_SCHEMA = {"type": "object", "properties": {
    "quarter": {"type": ["string", "null"]}, "count": {"type": "integer"},
    "by_severity": {"type": "object", "additionalProperties": {"type": "integer"}},
    "time_to_acknowledge": _DURATION, "time_to_resolve": _DURATION,
    "overdue_reviews": {"type": "integer"}, "open_follow_ups": {"type": "integer"}}}
_QUARTER = "fiscal quarter such as FY27-Q4"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _person(user) -> dict | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def incident_json(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "code": incident.code, "title": incident.title, "summary": incident.summary,
            "severity": incident.severity.code, "status": incident.status, "resolution": incident.resolution,
            **{name: _iso(getattr(incident, name)) for name in ("started_at", "detected_at", "declared_at",
                                                                "acknowledged_at", "mitigated_at", "resolved_at",
                                                                "closed_at", "last_update_at")},
            "next_update_due_at": _iso(updates.update_due_at(incident)),
            "update_overdue_minutes": updates.overdue_minutes(incident),
            "roles": {role: _person(getattr(incident, role)) for role in ROLES},
            "url": queries.incident_url(incident.id)}


def _task_json(task: IncidentTask) -> dict[str, Any]:
    return {"id": task.id, "title": task.title, "owner": _person(task.owner), "due_at": _iso(task.due_at),
            "status": task.status}


def detail_json(incident: Incident) -> dict[str, Any]:
    body = incident_json(incident)
    body["timeline"] = [{"at": _iso(event.at), "recorded_at": _iso(event.recorded_at), "kind": event.kind,
                         "actor": event.actor, "text": event.text}
                        for event in db.session.scalars(timeline_query(incident))]
    body["subscribers"] = subscriptions.subscriber_count(incident)
    body["tasks"] = [_task_json(task) for task in tasks.tasks_of(incident)]
    body["alerts"] = [{"id": alert.id, "role": link.role, "status": alert.status, "summary": alert.summary}
                      for link, alert in queries.alerts_of(incident)]
    body["runbooks"] = [{"slug": runbook.runbook_slug, "outcome": runbook.outcome}
                        for runbook in links.runbooks_of(incident)]
    return body


def _quarter():
    return parse_quarter(request.args.get("quarter"), fiscal_start_month())


@bp.get("/incidents")
@allow(EVERYONE)
@api_doc("Incidents, open first (worst severity first), then resolved, then closed, newest first",
         query={"status": "open, " + ", ".join(STATUS_VALUES), "severity": ", ".join(CODES),
                "quarter": _QUARTER + " (the quarter it was detected in)", "page": "page number, from 1",
                "per_page": "incidents per page (1-200, default 50)"}, response=LIST_SCHEMA, tag="incidents")
def list_incidents():
    page, per_page = page_args()
    query = queries.incident_query(status=request.args.get("status") or None,
                                   severity=(request.args.get("severity") or "").upper() or None, quarter=_quarter())
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return jsonify({"items": [incident_json(incident) for incident in result.items], "total": result.total,
                    "page": page, "per_page": per_page, "pages": result.pages})


@bp.post("/incidents")
@allow(WORKERS)
@api_doc("Declare an incident: the commander (default: you) is paged unless it is you; SEV1/SEV2 page their "
         "severity's escalation policy and subscribe the executives. 201 with the incident",
         request=DeclareForm, response=INCIDENT_SCHEMA, status=201, tag="incidents")
def declare_incident():
    form = load_form(DeclareForm)
    incident = services.declare(title=form.title.data, severity=form.severity.data, summary=form.summary.data or "",
                                commander_id=form.commander_id.data, declared_by=current_user,
                                alert_id=form.alert_id.data, job_id=form.job_id.data, risk_id=form.risk_id.data,
                                started_at=form.started_at.data, detected_at=form.detected_at.data)
    return jsonify(incident_json(incident)), 201


@bp.get("/incidents/metrics")
@allow(EVERYONE)
@api_doc("Incident figures: count by severity, mean and p90 time to acknowledge and to resolve (from detected), "
         "overdue reviews and open follow-ups; of one quarter, or of every incident without `quarter`",
         query={"quarter": _QUARTER}, response=METRICS_SCHEMA, tag="incidents")
def incident_metrics():
    return jsonify(metrics.figures(_quarter()).as_json())


@bp.get("/incidents/<int:incident_id>")
@allow(EVERYONE)
@api_doc("One incident with its timeline (oldest first), roles, subscriber count, tasks, alerts and runbooks",
         response=DETAIL_SCHEMA, tag="incidents")
def show_incident(incident_id: int):
    return jsonify(detail_json(services.get_incident(incident_id)))


@bp.post("/incidents/<int:incident_id>/updates")
@allow(WORKERS)
@api_doc("Post a status update (investigating, identified or monitoring): on the timeline and to every "
         "subscriber. 201 with the update", request=UpdateForm, response=UPDATE_SCHEMA, status=201, tag="incidents")
def post_incident_update(incident_id: int):
    services.get_incident(incident_id)
    form = load_form(UpdateForm)
    update = updates.post_update(incident_id, status=form.status.data, message=form.message.data, author=current_user)
    return jsonify({"id": update.id, "at": _iso(update.at), "status": update.status, "message": update.message,
                    "recipients": update.recipients}), 201


@bp.post("/incidents/<int:incident_id>/notes")
@allow(WORKERS)
@api_doc("Add a note to the timeline; `happened_at` (with an offset, not in the future) for something learned "
         "after the fact. 201 with the incident", request=NoteForm, response=DETAIL_SCHEMA, status=201,
         tag="incidents")
def add_incident_note(incident_id: int):
    incident = services.get_incident(incident_id)
    form = load_form(NoteForm)
    services.add_note(incident, text=form.text.data, actor=current_user, happened_at=form.happened_at.data)
    return jsonify(detail_json(incident)), 201


@bp.post("/incidents/<int:incident_id>/resolve")
@allow(WORKERS)
@api_doc("Resolve with a resolution summary: the subscribers are told and the review falls due",
         request=ResolveForm, response=INCIDENT_SCHEMA, tag="incidents")
def resolve_incident(incident_id: int):
    services.get_incident(incident_id)
    form = load_form(ResolveForm)
    return jsonify(incident_json(review.resolve(incident_id, resolution=form.resolution.data, actor=current_user)))


@bp.post("/incidents/<int:incident_id>/alerts")
@allow(WORKERS)
@api_doc("Attach another alert to the incident", request=AttachAlertForm, response=DETAIL_SCHEMA, tag="incidents")
def attach_incident_alert(incident_id: int):
    incident = services.get_incident(incident_id)
    form = load_form(AttachAlertForm)
    return jsonify(detail_json(services.attach_alert(incident, alert_id=form.alert_id.data, actor=current_user)))


@bp.post("/incidents/<int:incident_id>/tasks")
@allow(WORKERS)
@api_doc("Add a task (an owner and an optional due time with an offset). 201 with the task",
         request=TaskApiForm, response=TASK_SCHEMA, status=201, tag="incidents")
def add_incident_task(incident_id: int):
    incident = services.get_incident(incident_id)
    form = load_form(TaskApiForm)
    task = tasks.add_task(incident, title=form.title.data, owner_id=form.owner_id.data, due_at=form.due_at.data,
                          actor=current_user)
    return jsonify(_task_json(task)), 201


@bp.post("/incidents/<int:incident_id>/runbooks")
@allow(WORKERS)
@api_doc("Record a runbook (by its slug in the catalog) as in use, with an optional outcome of using it",
         request=RunbookForm, response=DETAIL_SCHEMA, tag="incidents")
def add_incident_runbook(incident_id: int):
    incident = services.get_incident(incident_id)
    form = load_form(RunbookForm)
    links.add_runbook(incident, slug=form.runbook_slug.data, outcome=form.outcome.data or "", actor=current_user)
    return jsonify(detail_json(incident))

