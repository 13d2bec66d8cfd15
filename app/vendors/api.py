"""API: /api/v1/vendors (list, read, create, change, delete), the validation campaign, CSV export and import,
and "Who do I call?" search. Everyone reads; the crisis team and admins write. Ladder routes: ladder_api.py."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EDITORS, EVERYONE
from app.extensions import db
from app.forms_common import form_values
from app.timeutil import today_in
from app.vendors import campaign, services, supports, vendor_csv
from app.csvio import ImportReport
from app.vendors.vendor_csv import import_csv
from app.vendors.forms import ImportApiForm, SupportLinkApiForm, VendorForm
from app.vendors.models import Vendor
from app.vendors.search import search_everything
from app.views_common import page_args

_DATE = {"type": ["string", "null"], "format": "date"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
VENDOR_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"},
    "tier": {"type": "string", "enum": ["critical", "important", "other"]}, "supports": {"type": "string"},
    "contract_id": {"type": "string"}, "contract_level": {"type": "string"}, "contract_expires": _DATE,
    "portal_url": {"type": "string"}, "account_number": {"type": "string"}, "support_hours": {"type": "string"},
    "support_zone": {"type": "string"}, "sla_p1_minutes": {"type": ["integer", "null"]},
    "sla_p2_minutes": {"type": ["integer", "null"]}, "sla_p3_minutes": {"type": ["integer", "null"]},
    "owner_id": {"type": ["integer", "null"]}, "owner_name": {"type": ["string", "null"]},
    "notes": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
    "contract_flag": {"type": ["string", "null"], "enum": ["expired", "expires_before_close", None],
                      "description": "the support contract has expired, or ends on or before the quarter's last day"},
    "levels": {"type": "integer", "description": "how many levels the escalation ladder has"},
    "support_links": {"type": "array", "description": "apps and jobs of the watch list the vendor supports",
                      "items": {"type": "object", "properties": {
                          "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["app", "job"]},
                          "target_id": {"type": "integer"}, "label": {"type": "string"}}}}}}
PAGE_SCHEMA = {"type": "object", "properties": {
    "items": {"type": "array", "items": VENDOR_SCHEMA}, "page": {"type": "integer"}, "pages": {"type": "integer"},
    "total": {"type": "integer"}}}
PROGRESS_SCHEMA = {"type": "object", "properties": {
    "vendor_id": {"type": "integer"}, "name": {"type": "string"}, "tier": {"type": "string"},
    "owner_name": {"type": ["string", "null"]}, "validated": {"type": "boolean"},
    "checks": {"type": "object", "description": "list / plan -> {by, at} or null"},
    "contacts": {"type": "object", "description": "confirmed / stale / never -> count"},
    "contract_flag": {"type": ["string", "null"]},
    "reminders": {"type": "array", "items": {"type": "object", "properties": {
        "offset": {"type": "string"}, "outcome": {"type": "string"}, "at": {"type": "string"}}}}}}
CAMPAIGN_SCHEMA = {"type": "object", "properties": {
    "quarter": {"type": "string"}, "last_day": {"type": "string", "format": "date"},
    "totals": {"type": "object"}, "vendors": {"type": "array", "items": PROGRESS_SCHEMA}}}
IMPORT_SCHEMA = {"type": "object", "properties": {
    "kind": {"type": "string"}, "applied": {"type": "boolean"}, "errors": {"type": "integer"},
    "counts": {"type": "object", "description": "create / update / unchanged / error -> rows"},
    "rows": {"type": "array", "items": {"type": "object", "properties": {
        "line": {"type": "integer"}, "action": {"type": "string"}, "id": {"type": ["integer", "null"]},
        "label": {"type": "string"}, "errors": {"type": "object", "description": "column -> message"}}}}}}
SEARCH_SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}, "groups": {"type": "array", "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "heading": {"type": "string"},
                                     "results": {"type": "array", "items": {"type": "object"}}}}}}}
IMPORT_REFUSED = {"anyOf": [IMPORT_SCHEMA, {"$ref": "#/components/schemas/Error"}]}


def iso(value) -> str | None:
    return value.isoformat() if value else None


def vendor_json(vendor: Vendor) -> dict[str, Any]:
    quarter = campaign.quarter_of(current_user)
    flag = campaign.contract_flag(vendor, quarter, today_in(current_user.time_zone))
    return {"id": vendor.id, **services.vendor_fields(vendor), "contract_expires": iso(vendor.contract_expires),
            "owner_name": vendor.owner.name if vendor.owner else None, "created_at": iso(vendor.created_at),
            "contract_flag": flag.value if flag else None, "levels": len(vendor.levels),
            "support_links": [{"id": link.id, "kind": link.kind, "target_id": link.target_id, "label": link.label}
                              for link in vendor.support_links]}


def progress_json(row: campaign.VendorProgress) -> dict[str, Any]:
    vendor = row.vendor
    return {"vendor_id": vendor.id, "name": vendor.name, "tier": vendor.tier.value,
            "owner_name": vendor.owner.name if vendor.owner else None, "validated": row.validated,
            "checks": {kind.value: ({"by": check.done_by_name, "at": iso(check.done_at)} if check else None)
                       for kind, check in row.checks.items()},
            "contacts": {state.value: row.count(state) for state in campaign.ContactState},
            "contract_flag": row.contract_flag.value if row.contract_flag else None,
            "reminders": [{"offset": f"BD{r.bd_offset:+d}" if r.bd_offset else "BD0", "outcome": r.outcome.value,
                           "at": iso(r.created_at)} for r in row.reminders]}


def report_json(report: ImportReport) -> dict[str, Any]:
    return {"kind": report.kind, "applied": report.applied, "errors": report.error_count,
            "counts": {action: report.count(action) for action in ("create", "update", "unchanged", "error")},
            "rows": [{"line": row.line, "action": row.action, "id": row.record_id, "label": row.label,
                      "errors": row.errors} for row in report.rows]}


@bp.get("/vendors")
@allow(EVERYONE)
@api_doc("Vendors, critical first, then by name; paginated", response=PAGE_SCHEMA,
         query={"q": "words in the name or in what it supports", "tier": "critical|important|other",
                "page": "1..", "per_page": "1..200"}, tag="vendors")
def list_vendors():
    page, per_page = page_args()
    listing = db.paginate(services.with_ladders(services.vendors_query(q=request.args.get("q"),
                                                                      tier=request.args.get("tier"))),
                          page=page, per_page=per_page, error_out=False)
    return jsonify({"items": [vendor_json(v) for v in listing.items], "page": listing.page, "pages": listing.pages,
                    "total": listing.total})


@bp.post("/vendors")
@allow(EDITORS)
@api_doc("Create a vendor", request=VendorForm, response=VENDOR_SCHEMA, status=201, tag="vendors")
def create_vendor():
    form = load_form(VendorForm)
    return jsonify(vendor_json(services.create_vendor(**form_values(form)))), 201


@bp.get("/vendors/<int:vendor_id>")
@allow(EVERYONE)
@api_doc("One vendor", response=VENDOR_SCHEMA, tag="vendors")
def get_vendor(vendor_id: int):
    return jsonify(vendor_json(services.get_vendor(vendor_id)))


@bp.patch("/vendors/<int:vendor_id>")
@allow(EDITORS)
@api_doc("Change a vendor; fields left out keep their value", request=VendorForm, response=VENDOR_SCHEMA,
         tag="vendors")
def update_vendor(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = load_form(VendorForm, obj=_Fields(services.vendor_fields(vendor)), partial=True)
    return jsonify(vendor_json(services.update_vendor(vendor, **form_values(form))))


@bp.delete("/vendors/<int:vendor_id>")
@allow(EDITORS)
@api_doc("Delete a vendor with its ladder, contacts and confirmations", response={"type": "object"}, tag="vendors")
def delete_vendor(vendor_id: int):
    services.delete_vendor(services.get_vendor(vendor_id))
    return jsonify({"deleted": vendor_id})


@bp.post("/vendors/<int:vendor_id>/supports")
@allow(EDITORS)
@api_doc("Link the vendor to an app or job of the watch list that it supports", request=SupportLinkApiForm,
         response=VENDOR_SCHEMA, status=201, tag="vendors")
def add_vendor_support_link(vendor_id: int):
    vendor = services.get_vendor(vendor_id)
    form = load_form(SupportLinkApiForm)
    supports.add_support_link(vendor, **form_values(form))
    return jsonify(vendor_json(vendor)), 201


@bp.delete("/vendors/<int:vendor_id>/supports/<int:support_link_id>")
@allow(EDITORS)
@api_doc("Remove one of the vendor's app or job links", response=VENDOR_SCHEMA, tag="vendors")
def remove_vendor_support_link(vendor_id: int, support_link_id: int):
    vendor = services.get_vendor(vendor_id)
    supports.remove_support_link(vendor, support_link_id)
    return jsonify(vendor_json(vendor))


@bp.get("/vendors/campaign")
@allow(EVERYONE)
@api_doc("The current quarter's validation campaign: progress per critical and important vendor",
         response=CAMPAIGN_SCHEMA, tag="vendors")
def vendor_campaign():
    quarter, today = campaign.quarter_of(current_user), today_in(current_user.time_zone)
    rows = campaign.progress_of(list(db.session.scalars(campaign.campaign_vendors_query())), quarter, today)
    totals = campaign.campaign_totals(quarter, today)
    return jsonify({"quarter": quarter.label, "last_day": quarter.last_day.isoformat(),
                    "totals": {**totals.__dict__, "percent": totals.percent},
                    "vendors": [progress_json(row) for row in rows]})


@bp.get("/vendors/export")
@allow(EVERYONE)
@api_doc("Every vendor or every contact as CSV text (the import takes it back unchanged)",
         query={"kind": "vendors (default) or contacts"},
         response={"type": "object", "properties": {"kind": {"type": "string"}, "csv": {"type": "string"}}},
         tag="vendors")
def export_vendors():
    kind = request.args.get("kind") or "vendors"
    return jsonify({"kind": kind, "csv": vendor_csv.export_csv(kind)})


@bp.post("/vendors/import")
@allow(EDITORS)
@api_doc("Import a vendors or contacts CSV: a dry run listing each row's errors unless confirm is true; "
         "with confirm, every row is applied or (when one is refused: 422) none", request=ImportApiForm,
         response=IMPORT_SCHEMA, tag="vendors", also={422: ("A row was refused: the report, nothing applied; or a field is invalid", IMPORT_REFUSED)})
def import_vendors():
    form = load_form(ImportApiForm)
    report = import_csv(kind=form.kind.data, text=form.csv.data, apply=bool(form.confirm.data))
    return jsonify(report_json(report)), 422 if report.error_count else 200


@bp.get("/search")
@allow(EVERYONE)
@api_doc("Who do I call? Vendors and escalation contacts (and whatever else registers) by name",
         query={"q": "at least 2 characters"}, response=SEARCH_SCHEMA, tag="vendors")
def search():
    groups = search_everything(request.args.get("q"))
    return jsonify({"query": request.args.get("q", ""), "groups": [{
        "name": group.name, "heading": group.heading, "results": [{
            "title": r.title, "detail": r.detail, "url": r.url, "email": r.email,
            "phones": [{"label": label, "number": number} for label, number, _readable in r.phones]}
            for r in group.results]} for group in groups]})


class _Fields:
    """A record's fields as attributes, for load_form(partial=True) to keep what a PATCH leaves out."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)
