"""API: rotations (imported by app/oncall/schedule_api.py, which create_app loads)."""
from __future__ import annotations

from flask import jsonify

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EDITORS, EVERYONE
from app.forms_common import form_values
from app.oncall import coverage
from app.oncall import rotations as services
from app.oncall.models import Rotation
from app.oncall.schedule_forms import RotationForm, rotation_fields

ROTATION_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
    "time_zone": {"type": "string"},
    "start_date": {"type": "string", "format": "date"}, "start_time": {"type": "string"},
    "handoff_kind": {"type": "string", "enum": ["hourly", "daily", "weekly", "custom"]},
    "shift_length": {"type": "integer"},
    "member_ids": {"type": "array", "items": {"type": "integer"}, "description": "user ids in hand-off order"},
    "members": {"type": "array", "items": {"type": "object"}},
    "on_call_now": {"type": ["integer", "null"], "description": "user id holding the shift now"}}}


def rotation_json(rotation: Rotation) -> dict:
    return {"id": rotation.id, "name": rotation.name, "description": rotation.description,
            "time_zone": rotation.time_zone, "start_date": rotation.start_local.date().isoformat(),
            "start_time": rotation.start_local.strftime("%H:%M"), "handoff_kind": rotation.handoff_kind.value,
            "shift_length": rotation.shift_length,
            "member_ids": [member.user_id for member in rotation.members],
            "members": [{"id": member.id, "position": member.position, "user_id": member.user_id,
                         "name": member.user.name} for member in rotation.members],
            "on_call_now": coverage.rotation_now(rotation)}


@bp.get("/rotations")
@allow(EVERYONE)
@api_doc("All rotations, with their people in hand-off order", response={"type": "array", "items": ROTATION_SCHEMA},
         tag="rotations")
def list_rotations():
    return jsonify([rotation_json(rotation) for rotation in services.list_rotations()])


@bp.post("/rotations")
@allow(EDITORS)
@api_doc("Create a rotation: start_date and start_time are the first hand-off, local to time_zone; member_ids "
         "in hand-off order", request=RotationForm, response=ROTATION_SCHEMA, status=201, tag="rotations")
def create_rotation():
    form = load_form(RotationForm)
    return jsonify(rotation_json(services.create_rotation(**form_values(form)))), 201


@bp.get("/rotations/<int:rotation_id>")
@allow(EVERYONE)
@api_doc("One rotation", response=ROTATION_SCHEMA, tag="rotations")
def get_rotation(rotation_id: int):
    return jsonify(rotation_json(services.get_rotation(rotation_id)))


@bp.patch("/rotations/<int:rotation_id>")
@allow(EDITORS)
@api_doc("Change a rotation (fields left out keep their value; member_ids replaces the people and their order)",
         request=RotationForm, response=ROTATION_SCHEMA, tag="rotations")
def update_rotation(rotation_id: int):
    rotation = services.get_rotation(rotation_id)
    form = load_form(RotationForm, obj=rotation_fields(rotation), partial=True)
    return jsonify(rotation_json(services.update_rotation(rotation, **form_values(form))))


@bp.delete("/rotations/<int:rotation_id>")
@allow(EDITORS)
@api_doc("Delete a rotation (409 while a schedule layer uses it)", response={"type": "object"}, tag="rotations")
def delete_rotation(rotation_id: int):
    services.delete_rotation(services.get_rotation(rotation_id))
    return jsonify({"deleted": rotation_id})
