"""API for people: contact methods, verification codes, notification rules and the quarterly confirmation.

Reading is open to every role. Changing someone's details is for that person or the crisis team (the
service decides, so the write routes are open to every role and answer 403 for someone else's record).
"""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EVERYONE
from app.forms_common import form_values
from app.oncall import services
from app.oncall.forms import ContactMethodForm, RuleForm, VerifyForm
from app.oncall.models import ContactConfirmation, ContactMethod, NotificationRule

_TIME = {"type": ["string", "null"], "format": "date-time"}
PERSON_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string"}, "role": {"type": "string"},
    "region_id": {"type": ["integer", "null"]},
    "has_verified_phone": {"type": "boolean", "description": "has a verified, enabled SMS or voice method"},
    "quarter": {"type": "string", "description": "the person's current fiscal quarter, e.g. Q4 FY27"},
    "confirmed_this_quarter": {"type": "boolean"}, "confirmed_at": _TIME}}
METHOD_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "user_id": {"type": "integer"}, "kind": {"type": "string", "enum": ["sms", "voice", "email"]},
    "address": {"type": "string", "description": "E.164 for phones, lower-case for email"},
    "label": {"type": "string"}, "verified": {"type": "boolean"}, "usable": {"type": "boolean"},
    "verified_at": _TIME, "disabled_at": _TIME, "disabled_reason": {"type": ["string", "null"]},
    "code_expires_at": {**_TIME, "description": "when the last code sent expires (unverified methods)"},
    "created_at": {"type": "string", "format": "date-time"}}}
RULE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "user_id": {"type": "integer"}, "contact_method_id": {"type": "integer"},
    "delay_minutes": {"type": "integer"}, "kind": {"type": "string"}, "address": {"type": "string"},
    "usable": {"type": "boolean"}}}
CONFIRMATION_SCHEMA = {"type": "object", "properties": {
    "user_id": {"type": "integer"}, "fiscal_year": {"type": "integer"}, "quarter": {"type": "integer"},
    "confirmed_at": {"type": "string", "format": "date-time"}}}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def method_json(method: ContactMethod) -> dict:
    return {"id": method.id, "user_id": method.user_id, "kind": method.kind.value, "address": method.address,
            "label": method.label, "verified": method.is_verified, "usable": method.is_usable,
            "verified_at": _iso(method.verified_at), "disabled_at": _iso(method.disabled_at),
            "disabled_reason": method.disabled_reason,
            "code_expires_at": None if method.is_verified else _iso(method.code_expires_at),
            "created_at": _iso(method.created_at)}


def rule_json(rule: NotificationRule) -> dict:
    return {"id": rule.id, "user_id": rule.user_id, "contact_method_id": rule.contact_method_id,
            "delay_minutes": rule.delay_minutes, "kind": rule.method.kind.value, "address": rule.method.address,
            "usable": rule.method.is_usable}


def confirmation_json(confirmation: ContactConfirmation) -> dict:
    return {"user_id": confirmation.user_id, "fiscal_year": confirmation.fiscal_year,
            "quarter": confirmation.quarter, "confirmed_at": _iso(confirmation.confirmed_at)}


def _editable_person(user_id: int):
    person = services.get_person(user_id)
    services.ensure_can_edit(current_user, person)  # before validating: someone else's record is a 403, not a 422
    return person


def _editable_method(method_id: int) -> ContactMethod:
    method = services.get_method(method_id)
    services.ensure_can_edit(current_user, method.user)
    return method


@bp.get("/people")
@allow(EVERYONE)
@api_doc("Active people: can they be phoned, and have they confirmed their contact details this quarter",
         query={"unconfirmed": "true: only people who have not confirmed this quarter"},
         response={"type": "array", "items": PERSON_SCHEMA}, tag="people")
def list_people():
    unconfirmed_only = request.args.get("unconfirmed", "").lower() in {"1", "true", "yes"}
    return jsonify([{
        "id": row.person.id, "name": row.person.name, "email": row.person.email, "role": row.person.role.value,
        "region_id": row.person.region_id, "has_verified_phone": row.has_verified_phone,
        "quarter": row.quarter.label, "confirmed_this_quarter": row.confirmed, "confirmed_at": _iso(row.confirmed_at),
    } for row in services.people_status(unconfirmed_only=unconfirmed_only)])


@bp.get("/people/<int:user_id>/contact-methods")
@allow(EVERYONE)
@api_doc("A person's contact methods", response={"type": "array", "items": METHOD_SCHEMA}, tag="people")
def list_contact_methods(user_id: int):
    return jsonify([method_json(m) for m in services.list_methods(services.get_person(user_id))])


@bp.post("/people/<int:user_id>/contact-methods")
@allow(EVERYONE)
@api_doc("Add a contact method (unverified and unused until verified); phones are stored in E.164",
         request=ContactMethodForm, response=METHOD_SCHEMA, status=201, tag="people")
def add_contact_method(user_id: int):
    person = _editable_person(user_id)
    form = load_form(ContactMethodForm)
    return jsonify(method_json(services.add_method(current_user, person, **form_values(form)))), 201


@bp.delete("/contact-methods/<int:contact_method_id>")
@allow(EVERYONE)
@api_doc("Delete a contact method and its notification rules", response=METHOD_SCHEMA, tag="people")
def delete_contact_method(contact_method_id: int):
    method = _editable_method(contact_method_id)
    body = method_json(method)
    services.delete_method(current_user, method)
    return jsonify(body)


@bp.post("/contact-methods/<int:contact_method_id>/send-code")
@allow(EVERYONE)
@api_doc("Send a 6-digit verification code through the method itself (at most once a minute; 429 otherwise)",
         response=METHOD_SCHEMA, tag="people")
def send_verification_code(contact_method_id: int):
    method = _editable_method(contact_method_id)
    services.send_code(current_user, method)
    return jsonify(method_json(method))


@bp.post("/contact-methods/<int:contact_method_id>/verify")
@allow(EVERYONE)
@api_doc("Verify a method with the code it received; a wrong, expired or locked code is a 422 on 'code'",
         request=VerifyForm, response={"type": "object", "properties": {
             "method": METHOD_SCHEMA, "default_rule_created": {
                 "type": "boolean", "description": "the first verified method got a rule at 0 minutes"}}},
         tag="people")
def verify_contact_method(contact_method_id: int):
    method = _editable_method(contact_method_id)
    form = load_form(VerifyForm)
    default_rule = services.verify_code(current_user, method, form.code.data)
    return jsonify({"method": method_json(method), "default_rule_created": default_rule})


@bp.get("/people/<int:user_id>/notification-rules")
@allow(EVERYONE)
@api_doc("A person's notification rules, soonest first", response={"type": "array", "items": RULE_SCHEMA},
         tag="people")
def list_notification_rules(user_id: int):
    return jsonify([rule_json(r) for r in services.list_rules(services.get_person(user_id))])


@bp.post("/people/<int:user_id>/notification-rules")
@allow(EVERYONE)
@api_doc("Add a notification rule: one of the person's methods, N minutes (0..1440) after a page starts",
         request=RuleForm, response=RULE_SCHEMA, status=201, tag="people")
def add_notification_rule(user_id: int):
    person = _editable_person(user_id)
    form = load_form(RuleForm)
    return jsonify(rule_json(services.add_rule(current_user, person, **form_values(form)))), 201


@bp.delete("/notification-rules/<int:notification_rule_id>")
@allow(EVERYONE)
@api_doc("Delete a notification rule", response=RULE_SCHEMA, tag="people")
def delete_notification_rule(notification_rule_id: int):
    rule = services.get_rule(notification_rule_id)
    body = rule_json(rule)
    services.delete_rule(current_user, rule)
    return jsonify(body)


@bp.post("/people/<int:user_id>/confirm-contacts")
@allow(EVERYONE)
@api_doc("Confirm my own contact details for the current fiscal quarter (only the person themself)",
         response=CONFIRMATION_SCHEMA, tag="people")
def confirm_contacts(user_id: int):
    return jsonify(confirmation_json(services.confirm_contacts(current_user, services.get_person(user_id))))
