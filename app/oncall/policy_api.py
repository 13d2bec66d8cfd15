"""API: /api/v1/escalation-policies, with their steps nested in the body, and the steps in effect at an instant."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import jsonify, request

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import ApiError, json_body, load_form
from app.auth.roles import ADMINS, EDITORS, EVERYONE
from app.forms_common import NAIVE_REFUSED, form_values
from app.oncall import policies
from app.oncall.close_mode import EffectiveStep, StepTarget
from app.oncall.models import EscalationPolicy, EscalationTarget
from app.oncall.policy_forms import PolicyFieldsForm
from app.timeutil import as_utc, utcnow

TARGET_SCHEMA = {"type": "object", "description": "exactly one of schedule_id or user_id; name and email are read-only",
                 "properties": {"schedule_id": {"type": "integer"}, "user_id": {"type": "integer"},
                                "name": {"type": "string", "readOnly": True},
                                "email": {"type": "string", "readOnly": True}}}
STEPS_SCHEMA = {"type": "array", "minItems": 1, "maxItems": policies.MAX_STEPS, "description": "in order", "items": {
    "type": "object", "required": ["delay_minutes", "targets"], "additionalProperties": False, "properties": {
        "delay_minutes": {"type": "integer", "minimum": 1, "maximum": 1440,
                          "description": "wait this long before the next step"},
        "targets": {"type": "array", "minItems": 1, "maxItems": policies.MAX_TARGETS, "items": TARGET_SCHEMA}}}}
POLICY_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
    "repeat": {"type": "integer"}, "close_mode": {"type": "boolean"}, "close_mode_max_delay": {"type": "integer"},
    "ack_timeout_minutes": {"type": "integer"}, "is_fallback": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"}, "steps": STEPS_SCHEMA}}
EFFECTIVE_SCHEMA = {"type": "object", "properties": {
    "policy_id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
    "in_close_window": {"type": "boolean"}, "close_mode": {"type": "boolean"}, "repeat": {"type": "integer"},
    "steps": {"type": "array", "items": {"type": "object", "properties": {
        "delay_minutes": {"type": "integer"}, "voice_first": {"type": "boolean"},
        "targets": {"type": "array", "items": TARGET_SCHEMA}}}}}}
# "+00:00" arrives as " 00:00" when a client forgets to encode the "+" in a query string.
_UNENCODED_PLUS = re.compile(r" (\d{2}(?::?\d{2})?)$")


def target_json(target: EscalationTarget) -> dict[str, Any]:
    if target.schedule_id is not None:
        return {"schedule_id": target.schedule_id, "name": target.schedule.name}
    return {"user_id": target.user_id, "name": target.user.name, "email": target.user.email}


def policy_json(policy: EscalationPolicy) -> dict[str, Any]:
    return {"id": policy.id, "name": policy.name, "description": policy.description, "repeat": policy.repeat,
            "close_mode": policy.close_mode, "close_mode_max_delay": policy.close_mode_max_delay,
            "ack_timeout_minutes": policy.ack_timeout_minutes, "is_fallback": policy.is_fallback,
            "created_at": policy.created_at.isoformat(),
            "steps": [{"delay_minutes": step.delay_minutes, "targets": [target_json(t) for t in step.targets]}
                      for step in policy.steps]}


def _step_target_json(target: StepTarget) -> dict[str, Any]:
    key = "schedule_id" if target.is_schedule else "user_id"
    return {key: target.schedule_id if target.is_schedule else target.user_id, "name": target.label}


def _effective_json(step: EffectiveStep) -> dict[str, Any]:
    return {"delay_minutes": step.delay_minutes, "voice_first": step.voice_first,
            "targets": [_step_target_json(t) for t in step.targets]}


_NO_STEPS = object()


def _take_steps() -> Any:
    """Remove `steps` from the JSON body and return it (or _NO_STEPS when absent).

    The service validates the nested steps and names the bad value ("steps[1].targets[0].user_id"); taking
    them out lets load_form() validate the flat fields with the page's form, since Flask hands every reader
    of the body the same parsed object.
    """
    payload = json_body()
    return payload.pop("steps") if "steps" in payload else _NO_STEPS


def _parse_at(raw: str | None) -> datetime:
    if raw is None or not raw.strip():
        return utcnow()
    try:
        at = datetime.fromisoformat(_UNENCODED_PLUS.sub(r"+\1", raw.strip()))
    except ValueError:
        raise ApiError(400, "Invalid instant.", {"at": "Use ISO 8601 with a time zone, e.g. 2027-01-26T09:00:00Z."}) \
            from None
    if at.tzinfo is None:
        raise ApiError(422, "Invalid instant.", {"at": NAIVE_REFUSED})
    return as_utc(at)


@bp.get("/escalation-policies")
@allow(EVERYONE)
@api_doc("All escalation policies with their steps", response={"type": "array", "items": POLICY_SCHEMA},
         tag="escalation policies")
def list_policies():
    return jsonify([policy_json(p) for p in policies.list_policies()])


@bp.post("/escalation-policies")
@allow(EDITORS)
@api_doc("Create an escalation policy with its ordered steps (all saved, or none)", request=PolicyFieldsForm,
         request_extra={"steps": STEPS_SCHEMA}, response=POLICY_SCHEMA, status=201, tag="escalation policies")
def create_policy():
    steps = _take_steps()
    form = load_form(PolicyFieldsForm)
    policy = policies.save_policy(None, **form_values(form), steps=None if steps is _NO_STEPS else steps)
    return jsonify(policy_json(policy)), 201


@bp.get("/escalation-policies/<int:policy_id>")
@allow(EVERYONE)
@api_doc("One escalation policy", response=POLICY_SCHEMA, tag="escalation policies")
def get_policy(policy_id: int):
    return jsonify(policy_json(policies.get_policy(policy_id)))


@bp.patch("/escalation-policies/<int:policy_id>")
@allow(EDITORS)
@api_doc("Change a policy; fields left out keep their value, and `steps`, when sent, replaces all the steps",
         request=PolicyFieldsForm, request_extra={"steps": STEPS_SCHEMA}, response=POLICY_SCHEMA,
         tag="escalation policies")
def update_policy(policy_id: int):
    policy = policies.get_policy(policy_id)
    steps = _take_steps()
    form = load_form(PolicyFieldsForm, obj=policy, partial=True)
    if steps is _NO_STEPS:
        steps = policies.policy_steps_input(policy)
    return jsonify(policy_json(policies.save_policy(policy, **form_values(form), steps=steps)))


@bp.delete("/escalation-policies/<int:policy_id>")
@allow(EDITORS)
@api_doc("Delete an escalation policy and its steps", response={"type": "object"}, tag="escalation policies")
def delete_policy(policy_id: int):
    policies.delete_policy(policies.get_policy(policy_id))
    return jsonify({"deleted": policy_id})


@bp.put("/escalation-policies/<int:policy_id>/fallback")
@allow(ADMINS)
@api_doc("Make this policy the organisation's fallback: it pages alerts without a policy, and once more alerts "
         "whose own policy ran out unacknowledged (the previous fallback stops being it)", response=POLICY_SCHEMA,
         tag="escalation policies")
def set_fallback_policy(policy_id: int):
    policy = policies.get_policy(policy_id)
    policies.set_fallback(policy)
    return jsonify(policy_json(policy))


@bp.delete("/escalation-policies/<int:policy_id>/fallback")
@allow(ADMINS)
@api_doc("Stop using this policy as the fallback (then alerts without a policy page nobody and /healthz says so)",
         response=POLICY_SCHEMA, tag="escalation policies")
def clear_fallback_policy(policy_id: int):
    policy = policies.get_policy(policy_id)
    if policy.is_fallback:
        policies.set_fallback(None)
    return jsonify(policy_json(policy))


@bp.get("/escalation-policies/<int:policy_id>/effective-steps")
@allow(EVERYONE)
@api_doc("The steps an alert raised at `at` would run: with close mode on, inside the quarter-close window, "
         "every wait is capped and voice goes first", response=EFFECTIVE_SCHEMA,
         query={"at": "ISO 8601 instant with a time zone, e.g. 2027-01-26T09:00:00Z; default: now"},
         tag="escalation policies")
def effective_steps(policy_id: int):
    policy = policies.get_policy(policy_id)
    at = _parse_at(request.args.get("at"))
    try:
        steps = policies.effective_steps(policy, at)
        in_window = policies.in_close_window(at)
    except (ValueError, OverflowError):
        # The quarters around `at` cannot be built at the ends of the calendar (years 1 and 9999).
        raise ApiError(400, "Instant out of range.", {"at": "Too close to the ends of the calendar."}) from None
    return jsonify({"policy_id": policy.id, "at": at.isoformat(), "in_close_window": in_window,
                    "close_mode": policy.close_mode, "repeat": policy.repeat,
                    "steps": [_effective_json(step) for step in steps]})
