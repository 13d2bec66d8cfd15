"""API: regions and the fiscal calendar."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import ApiError, load_form
from app.auth.roles import ADMINS, EVERYONE
from app.calendar import services
from app.calendar.forms import RegionForm
from app.calendar.models import Region
from app.forms_common import form_values

REGION_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "time_zone": {"type": "string"},
    "business_start": {"type": "string"}, "business_end": {"type": "string"},
    "holiday_country": {"type": ["string", "null"]}, "holiday_subdivision": {"type": ["string", "null"]}}}
QUARTER_SCHEMA = {"type": "object", "properties": {
    "label": {"type": "string"}, "fiscal_year": {"type": "integer"}, "quarter": {"type": "integer"},
    "first_day": {"type": "string", "format": "date"}, "last_day": {"type": "string", "format": "date"},
    "regions": {"type": "array", "items": {"type": "object"}}}}


def region_json(region: Region) -> dict:
    return {"id": region.id, "name": region.name, "time_zone": region.time_zone,
            "business_start": region.business_start.strftime("%H:%M"),
            "business_end": region.business_end.strftime("%H:%M"),
            "holiday_country": region.holiday_country, "holiday_subdivision": region.holiday_subdivision}


@bp.get("/regions")
@allow(EVERYONE)
@api_doc("All regions", response={"type": "array", "items": REGION_SCHEMA})
def list_regions():
    return jsonify([region_json(r) for r in services.list_regions()])


@bp.post("/regions")
@allow(ADMINS)
@api_doc("Create a region", request=RegionForm, response=REGION_SCHEMA, status=201)
def create_region():
    form = load_form(RegionForm)
    return jsonify(region_json(services.create_region(**form_values(form)))), 201


@bp.get("/regions/<int:region_id>")
@allow(EVERYONE)
@api_doc("One region", response=REGION_SCHEMA)
def get_region(region_id: int):
    return jsonify(region_json(services.get_region(region_id)))


@bp.patch("/regions/<int:region_id>")
@allow(ADMINS)
@api_doc("Change a region (fields left out keep their value)", request=RegionForm, response=REGION_SCHEMA)
def update_region(region_id: int):
    region = services.get_region(region_id)
    form = load_form(RegionForm, obj=region, partial=True)
    return jsonify(region_json(services.update_region(region, **form_values(form))))


@bp.delete("/regions/<int:region_id>")
@allow(ADMINS)
@api_doc("Delete a region", response={"type": "object"})
def delete_region(region_id: int):
    services.delete_region(services.get_region(region_id))
    return jsonify({"deleted": region_id})


@bp.get("/calendar/quarter")
@allow(EVERYONE)
@api_doc("The fiscal quarter containing a date, with its close (BD0) and milestones per region",
         response=QUARTER_SCHEMA, query={"date": "YYYY-MM-DD; default: today (the close region's date for the "
                                                  "quarter, each region's own date for its business days left)"},
         tag="calendar")
def quarter():
    raw = request.args.get("date")
    try:
        day = date.fromisoformat(raw) if raw else None
    except ValueError:
        raise ApiError(400, "Invalid date.", {"date": "Use YYYY-MM-DD."}) from None
    try:
        quarter = services.quarter_for(day) if day else services.current_quarter()
        closes = services.quarter_overview(quarter, on=day)
    except (ValueError, OverflowError):
        # A quarter or a milestone at the ends of the date range (years 1 and 9999) cannot be built.
        raise ApiError(400, "Date out of range.",
                       {"date": "Too close to the ends of the calendar (years 1 and 9999)."}) from None
    return jsonify({
        "label": quarter.label, "fiscal_year": quarter.fiscal_year, "quarter": quarter.quarter,
        "first_day": quarter.first_day.isoformat(), "last_day": quarter.last_day.isoformat(),
        "regions": [{
            "region_id": close.region.id, "region": close.region.name, "close_day": close.close_day.isoformat(),
            "business_days_left": close.business_days_left,
            "milestones": {label: day.isoformat() for label, day in close.milestones},
            "holidays": [{"date": d.isoformat(), "name": name} for d, name in close.holidays],
        } for close in closes],
    })
