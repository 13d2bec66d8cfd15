"""API: schedules, their layers and overrides, who is on call, and the timeline.

Instants are ISO 8601 with their UTC offset ("Z" or "+01:00", with "+" sent as %2B in a query string); a query
instant or override time without one is refused with a 422 naming it.
"""
from __future__ import annotations

from datetime import datetime

from flask import jsonify, request

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import ApiError, load_form
from app.auth.roles import EDITORS, EVERYONE
from app.forms_common import NAIVE_REFUSED, form_values
from app.oncall import coverage
from app.oncall import schedules as services
from app.oncall.models import Schedule, ScheduleLayer, ScheduleOverride
from app.oncall.schedule_forms import LayerForm, OverrideForm, ScheduleForm, layer_fields
from app.oncall.schedule_rules import FIRST_YEAR, LAST_YEAR
from app.timeutil import as_utc, utcnow

PERSON = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                           "email": {"type": "string"}, "has_verified_phone": {"type": "boolean"}}}
LAYER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "position": {"type": "integer"}, "rotation_id": {"type": "integer"},
    "rotation": {"type": "string"}, "time_zone": {"type": "string"},
    "days": {"type": "array", "items": {"type": "integer"}, "description": "0 = Monday ... 6 = Sunday"},
    "start_time": {"type": "string"}, "end_time": {"type": "string"}}}
SCHEDULE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
    "time_zone": {"type": "string"}, "layers": {"type": "array", "items": LAYER_SCHEMA},
    "unreachable_users": {"type": "array", "items": PERSON,
                          "description": "people on the schedule without a verified SMS or voice method"}}}
OVERRIDE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "schedule_id": {"type": "integer"}, "user_id": {"type": "integer"},
    "replaces_user_id": {"type": ["integer", "null"]}, "mode": {"type": "string", "enum": ["replace", "add"]},
    "start_at": {"type": "string", "format": "date-time"}, "end_at": {"type": "string", "format": "date-time"},
    "reason": {"type": "string"}}}
ONCALL_SCHEMA = {"type": "object", "properties": {
    "schedule_id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
    "users": {"type": "array", "items": PERSON}}}
TIMELINE_SCHEMA = {"type": "object", "properties": {
    "schedule_id": {"type": "integer"}, "start": {"type": "string"}, "end": {"type": "string"},
    "segments": {"type": "array", "items": {"type": "object"}}, "gaps": {"type": "array", "items": {"type": "object"}},
    "holidays": {"type": "array", "items": {"type": "object"}},
    "unreachable_users": {"type": "array", "items": PERSON}}}


def _iso(at: datetime) -> str:
    return as_utc(at).isoformat().replace("+00:00", "Z")


def layer_json(layer: ScheduleLayer) -> dict:
    return {"id": layer.id, "position": layer.position, "rotation_id": layer.rotation_id,
            "rotation": layer.rotation.name, "time_zone": layer.time_zone, "days": sorted(layer.weekdays),
            "start_time": layer.start_time.strftime("%H:%M"), "end_time": layer.end_time.strftime("%H:%M")}


def people_json(users, unreachable: set[int]) -> list[dict]:
    return [{"id": user.id, "name": user.name, "email": user.email, "has_verified_phone": user.id not in unreachable}
            for user in users]


def schedule_json(schedule: Schedule) -> dict:
    unreachable = coverage.unreachable_on(schedule)
    return {"id": schedule.id, "name": schedule.name, "description": schedule.description,
            "time_zone": schedule.time_zone, "layers": [layer_json(layer) for layer in schedule.layers],
            "unreachable_users": people_json(unreachable, {user.id for user in unreachable})}


def override_json(override: ScheduleOverride) -> dict:
    return {"id": override.id, "schedule_id": override.schedule_id, "user_id": override.user_id,
            "replaces_user_id": override.replaces_user_id, "mode": override.mode.value,
            "start_at": _iso(override.start_at), "end_at": _iso(override.end_at), "reason": override.reason}


def _instant_arg(name: str) -> datetime:
    raw = request.args.get(name)
    if not raw:
        return utcnow()
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ApiError(400, f"Invalid {name}.", {name: "Use ISO 8601, e.g. 2026-11-23T15:00:00Z."}) from None
    if value.tzinfo is None:
        raise ApiError(422, f"Invalid {name}.", {name: NAIVE_REFUSED})
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ApiError(400, f"Invalid {name}.",
                       {name: f"Use a time between {FIRST_YEAR} and {LAST_YEAR}."})
    return as_utc(value)


@bp.get("/schedules")
@allow(EVERYONE)
@api_doc("All schedules with their layers", response={"type": "array", "items": SCHEDULE_SCHEMA}, tag="schedules")
def list_schedules():
    return jsonify([schedule_json(schedule) for schedule in services.list_schedules()])


@bp.post("/schedules")
@allow(EDITORS)
@api_doc("Create a schedule (add layers next)", request=ScheduleForm, response=SCHEDULE_SCHEMA, status=201,
         tag="schedules")
def create_schedule():
    form = load_form(ScheduleForm)
    return jsonify(schedule_json(services.create_schedule(**form_values(form)))), 201


@bp.get("/schedules/<int:schedule_id>")
@allow(EVERYONE)
@api_doc("One schedule with its layers", response=SCHEDULE_SCHEMA, tag="schedules")
def get_schedule(schedule_id: int):
    return jsonify(schedule_json(services.get_schedule(schedule_id)))


@bp.patch("/schedules/<int:schedule_id>")
@allow(EDITORS)
@api_doc("Change a schedule's name, description or zone", request=ScheduleForm, response=SCHEDULE_SCHEMA,
         tag="schedules")
def update_schedule(schedule_id: int):
    schedule = services.get_schedule(schedule_id)
    form = load_form(ScheduleForm, obj=schedule, partial=True)
    return jsonify(schedule_json(services.update_schedule(schedule, **form_values(form))))


@bp.delete("/schedules/<int:schedule_id>")
@allow(EDITORS)
@api_doc("Delete a schedule with its layers and overrides (409 while an escalation policy pages it)",
         response={"type": "object"}, tag="schedules")
def delete_schedule(schedule_id: int):
    services.delete_schedule(services.get_schedule(schedule_id))
    return jsonify({"deleted": schedule_id})


@bp.post("/schedules/<int:schedule_id>/layers")
@allow(EDITORS)
@api_doc("Add a layer (last, or at position); the first layer covering an instant decides who is on call",
         request=LayerForm, response=LAYER_SCHEMA, status=201, tag="schedules")
def add_schedule_layer(schedule_id: int):
    schedule = services.get_schedule(schedule_id)
    form = load_form(LayerForm)
    return jsonify(layer_json(services.add_layer(schedule, **form_values(form)))), 201


@bp.patch("/schedules/<int:schedule_id>/layers/<int:layer_id>")
@allow(EDITORS)
@api_doc("Change or move a layer (fields left out keep their value)", request=LayerForm, response=LAYER_SCHEMA,
         tag="schedules")
def update_schedule_layer(schedule_id: int, layer_id: int):
    schedule = services.get_schedule(schedule_id)
    layer = services.get_layer(schedule, layer_id)
    form = load_form(LayerForm, obj=layer_fields(layer), partial=True)
    return jsonify(layer_json(services.update_layer(schedule, layer, **form_values(form))))


@bp.delete("/schedules/<int:schedule_id>/layers/<int:layer_id>")
@allow(EDITORS)
@api_doc("Remove a layer", response={"type": "object"}, tag="schedules")
def remove_schedule_layer(schedule_id: int, layer_id: int):
    schedule = services.get_schedule(schedule_id)
    services.remove_layer(schedule, services.get_layer(schedule, layer_id))
    return jsonify({"deleted": layer_id})


@bp.get("/schedules/<int:schedule_id>/overrides")
@allow(EVERYONE)
@api_doc("The schedule's overrides that are not over yet", response={"type": "array", "items": OVERRIDE_SCHEMA},
         tag="schedules")
def list_schedule_overrides(schedule_id: int):
    return jsonify([override_json(o) for o in services.upcoming_overrides(services.get_schedule(schedule_id))])


@bp.post("/schedules/<int:schedule_id>/overrides")
@allow(EDITORS)
@api_doc("Add an override (times with a UTC offset; at most 90 days; replaces_user_id empty = everyone)",
         request=OverrideForm, response=OVERRIDE_SCHEMA, status=201, tag="schedules")
def add_schedule_override(schedule_id: int):
    schedule = services.get_schedule(schedule_id)
    form = load_form(OverrideForm)
    return jsonify(override_json(services.create_override(schedule, **form_values(form)))), 201


@bp.delete("/overrides/<int:override_id>")
@allow(EDITORS)
@api_doc("Remove an override", response={"type": "object"}, tag="schedules")
def delete_schedule_override(override_id: int):
    services.delete_override(services.get_override(override_id))
    return jsonify({"deleted": override_id})


@bp.get("/schedules/<int:schedule_id>/oncall")
@allow(EVERYONE)
@api_doc("Who is on call at an instant, in order (empty during a gap)", response=ONCALL_SCHEMA,
         query={"at": "ISO 8601 instant with its UTC offset; default now; without an offset: 422"},
         tag="schedules")
def schedule_oncall(schedule_id: int):
    schedule = services.get_schedule(schedule_id)
    at = _instant_arg("at")
    users = coverage.who_is_on_call(schedule, at)
    return jsonify({"schedule_id": schedule.id, "at": _iso(at),
                    "users": people_json(users, coverage.without_phone([user.id for user in users]))})


@bp.get("/schedules/<int:schedule_id>/timeline")
@allow(EVERYONE)
@api_doc("Who is on call from start for a number of days: segments, gaps, region holidays, who cannot be phoned",
         response=TIMELINE_SCHEMA, tag="schedules",
         query={"start": "ISO 8601 instant with its UTC offset; default now; without an offset: 422",
                "days": f"1 to {coverage.MAX_TIMELINE_DAYS}; default 14"})
def schedule_timeline(schedule_id: int):
    schedule = services.get_schedule(schedule_id)
    start = _instant_arg("start")
    raw_days = request.args.get("days", "14")
    if not raw_days.isdigit() or not 1 <= int(raw_days) <= coverage.MAX_TIMELINE_DAYS:
        raise ApiError(400, "Invalid days.", {"days": f"A whole number from 1 to {coverage.MAX_TIMELINE_DAYS}."})
    shown = coverage.schedule_timeline(schedule, start, int(raw_days))
    unreachable = {user.id for user in shown.unreachable}
    return jsonify({
        "schedule_id": schedule.id, "start": _iso(shown.start), "end": _iso(shown.end),
        "segments": [{"start": _iso(s.start), "end": _iso(s.end), "gap": s.is_gap,
                      "users": people_json(s.users, unreachable)} for s in shown.segments],
        "gaps": [{"start": _iso(gap.start), "end": _iso(gap.end)} for gap in shown.gaps],
        "holidays": [{"date": h.day.isoformat(), "region": h.region, "name": h.name} for h in shown.holidays],
        "unreachable_users": people_json(shown.unreachable, unreachable),
    })
