"""API: a vendor's escalation ladder, its levels and contacts, contact confirmations and vendor checks."""
from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EDITORS, EVERYONE
from app.forms_common import form_values
from app.vendors import campaign, ladder, services
from app.vendors.api import _Fields, iso
from app.vendors.forms import CheckForm, ContactForm, LevelForm, MoveForm
from app.vendors.models import EscalationLevel, Vendor, VendorContact
from app.timeutil import quarter_label

CONTACT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "vendor_id": {"type": "integer"}, "level": {"type": "integer"},
    "level_id": {"type": "integer"}, "kind": {"type": "string", "enum": ["internal", "external"]},
    "name": {"type": "string"}, "role": {"type": "string"},
    "phone": {"type": ["string", "null"], "description": "E.164"},
    "mobile": {"type": ["string", "null"], "description": "E.164"}, "email": {"type": ["string", "null"]},
    "hours": {"type": "string"}, "time_zone": {"type": "string"}, "user_id": {"type": ["integer", "null"]},
    "notes": {"type": "string"},
    "state": {"type": "string", "enum": ["confirmed", "stale", "never"],
              "description": "confirmed this fiscal quarter, only in an earlier one, or never"},
    "last_confirmed_at": {"type": ["string", "null"], "format": "date-time"},
    "last_confirmed_by": {"type": ["string", "null"]}}}
LEVEL_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "vendor_id": {"type": "integer"}, "number": {"type": "integer"},
    "label": {"type": "string"}, "when_to_use": {"type": "string"},
    "contacts": {"type": "array", "items": CONTACT_SCHEMA}}}
LADDER_SCHEMA = {"type": "object", "properties": {
    "vendor_id": {"type": "integer"}, "vendor": {"type": "string"}, "quarter": {"type": "string"},
    "levels": {"type": "array", "items": LEVEL_SCHEMA}}}
CONFIRMATION_SCHEMA = {"type": "object", "properties": {
    "contact_id": {"type": "integer"}, "quarter": {"type": "string"}, "confirmed_by": {"type": "string"},
    "confirmed_at": {"type": "string", "format": "date-time"}}}
CHECK_SCHEMA = {"type": "object", "properties": {
    "vendor_id": {"type": "integer"}, "check": {"type": "string"}, "quarter": {"type": "string"},
    "done_by": {"type": "string"}, "done_at": {"type": "string", "format": "date-time"}}}


def _statuses(contacts: list[VendorContact]) -> dict[int, campaign.ContactStatus]:
    quarter = campaign.quarter_of(current_user)
    return {status.contact.id: status for status in campaign.contact_statuses(contacts, quarter)}


def contact_json(contact: VendorContact, status: campaign.ContactStatus | None = None) -> dict[str, Any]:
    status = status or _statuses([contact])[contact.id]
    fields = ladder.contact_fields(contact)
    return {"id": contact.id, "vendor_id": contact.vendor_id, "level_id": contact.level_id, **fields,
            "phone": contact.phone, "mobile": contact.mobile, "email": contact.email, "state": status.state.value,
            "last_confirmed_at": iso(status.last.confirmed_at) if status.last else None,
            "last_confirmed_by": status.last.confirmed_by_name if status.last else None}


def level_json(level: EscalationLevel, statuses: dict[int, campaign.ContactStatus] | None = None) -> dict[str, Any]:
    statuses = statuses if statuses is not None else _statuses(list(level.contacts))
    return {"id": level.id, "vendor_id": level.vendor_id, "number": level.number, "label": level.label,
            "when_to_use": level.when_to_use,
            "contacts": [contact_json(contact, statuses[contact.id]) for contact in level.contacts]}


def ladder_json(vendor: Vendor) -> dict[str, Any]:
    statuses = _statuses(vendor.contacts)
    return {"vendor_id": vendor.id, "vendor": vendor.name, "quarter": campaign.quarter_of(current_user).label,
            "levels": [level_json(level, statuses) for level in vendor.levels]}


@bp.get("/vendors/<int:vendor_id>/ladder")
@allow(EVERYONE)
@api_doc("A vendor's escalation ladder: levels in order, each with its contacts and their confirmation state",
         response=LADDER_SCHEMA, tag="vendors")
def get_ladder(vendor_id: int):
    return jsonify(ladder_json(services.get_vendor(vendor_id)))


@bp.post("/vendors/<int:vendor_id>/levels")
@allow(EDITORS)
@api_doc("Add the next level at the bottom of the ladder", request=LevelForm, response=LEVEL_SCHEMA, status=201,
         tag="vendors")
def add_level(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = load_form(LevelForm)
    return jsonify(level_json(ladder.add_level(vendor, **form_values(form)))), 201


@bp.patch("/vendor-levels/<int:escalation_level_id>")
@allow(EDITORS)
@api_doc("Rename a level or change when to call it", request=LevelForm, response=LEVEL_SCHEMA, tag="vendors")
def update_level(escalation_level_id: int):
    level = ladder.get_level(escalation_level_id)
    form = load_form(LevelForm, obj=level, partial=True)
    return jsonify(level_json(ladder.update_level(level, **form_values(form))))


@bp.post("/vendor-levels/<int:escalation_level_id>/move")
@allow(EDITORS)
@api_doc("Swap a level with the one above (up) or below (down)", request=MoveForm, response=LADDER_SCHEMA,
         tag="vendors")
def move_level(escalation_level_id: int):
    level = ladder.get_level(escalation_level_id)
    form = load_form(MoveForm)
    ladder.move_level(level, form.direction.data)
    return jsonify(ladder_json(level.vendor))


@bp.delete("/vendor-levels/<int:escalation_level_id>")
@allow(EDITORS)
@api_doc("Delete an empty level (409 while it has contacts); the levels below move up", response=LADDER_SCHEMA,
         tag="vendors")
def delete_level(escalation_level_id: int):
    level = ladder.get_level(escalation_level_id)
    vendor = level.vendor
    ladder.delete_level(level)
    return jsonify(ladder_json(vendor))


@bp.post("/vendors/<int:vendor_id>/contacts")
@allow(EDITORS)
@api_doc("Add a contact at a level of the ladder; phones with +country code, stored in E.164", request=ContactForm,
         response=CONTACT_SCHEMA, status=201, tag="vendors")
def add_contact(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = load_form(ContactForm)
    return jsonify(contact_json(ladder.create_contact(vendor, **form_values(form)))), 201


@bp.get("/vendor-contacts/<int:vendor_contact_id>")
@allow(EVERYONE)
@api_doc("One vendor contact with its confirmation state", response=CONTACT_SCHEMA, tag="vendors")
def get_contact(vendor_contact_id: int):
    return jsonify(contact_json(ladder.get_contact(vendor_contact_id)))


@bp.patch("/vendor-contacts/<int:vendor_contact_id>")
@allow(EDITORS)
@api_doc("Change a contact, or move it to another level; fields left out keep their value", request=ContactForm,
         response=CONTACT_SCHEMA, tag="vendors")
def update_contact(vendor_contact_id: int):
    contact = ladder.get_contact(vendor_contact_id)
    form = load_form(ContactForm, obj=_Fields(ladder.contact_fields(contact)), partial=True)
    return jsonify(contact_json(ladder.update_contact(contact, **form_values(form))))


@bp.delete("/vendor-contacts/<int:vendor_contact_id>")
@allow(EDITORS)
@api_doc("Delete a contact and its confirmations", response={"type": "object"}, tag="vendors")
def delete_contact(vendor_contact_id: int):
    ladder.delete_contact(ladder.get_contact(vendor_contact_id))
    return jsonify({"deleted": vendor_contact_id})


@bp.post("/vendor-contacts/<int:vendor_contact_id>/confirm")
@allow(EDITORS)
@api_doc("Confirm a contact's details for the current fiscal quarter (recorded with who and when; the first "
         "confirmation of the quarter stands)", response=CONFIRMATION_SCHEMA, tag="vendors")
def confirm_contact(vendor_contact_id: int):
    confirmation = campaign.confirm_contact(current_user, ladder.get_contact(vendor_contact_id))
    return jsonify({"contact_id": confirmation.contact_id,
                    "quarter": quarter_label(confirmation.fiscal_year, confirmation.quarter),
                    "confirmed_by": confirmation.confirmed_by_name, "confirmed_at": iso(confirmation.confirmed_at)})


@bp.post("/vendors/<int:vendor_id>/checks")
@allow(EDITORS)
@api_doc("Record a vendor-level check of this quarter's validation: list (contact list reviewed) or plan "
         "(escalation plan reviewed with the vendor)", request=CheckForm, response=CHECK_SCHEMA, tag="vendors")
def record_check(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = load_form(CheckForm)
    check = campaign.record_check(current_user, vendor, form.check.data)
    return jsonify({"vendor_id": vendor.id, "check": check.kind.value,
                    "quarter": quarter_label(check.fiscal_year, check.quarter), "done_by": check.done_by_name,
                    "done_at": iso(check.done_at)})
