"""API for quarter-close readiness: the score with its reasons and trend, the checklist, the lessons learned.

Everyone reads. The crisis team and administrators create checklists and lessons; an item's owner may
update their own item (the service decides, so that route is open to every role and answers 403 otherwise).
"""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EDITORS, EVERYONE
from app.calendar.services import current_quarter, fiscal_start_month
from app.errors import Forbidden
from app.forms_common import form_values
from app.readiness import checklist, lessons
from app.readiness.forms import ItemStatusForm, LessonEditForm, LessonForm
from app.readiness.models import TRACK_LABELS, ChecklistItem, Lesson, Track
from app.readiness.score import weights
from app.readiness.snapshots import quarter_trend, readiness_of
from app.timeutil import quarter_code

_QUARTER = {"quarter": "fiscal quarter such as FY27-Q4; default: the current one"}
_NULLABLE_INT = {"type": ["integer", "null"]}
REASON_SCHEMA = {"type": "object", "properties": {
    "text": {"type": "string"}, "points": {"type": "integer", "description": "points this reason costs its track"},
    "url": {"type": ["string", "null"], "description": "the record it is about"}, "severe": {"type": "boolean"}}}
TRACK_SCHEMA = {"type": "object", "properties": {
    "track": {"type": "string"}, "label": {"type": "string"}, "weight": {"type": "integer"},
    "score": {**_NULLABLE_INT, "description": "0-100; null when not tracked yet"},
    "colour": {"type": "string", "enum": ["green", "amber", "red", "grey"]}, "note": {"type": "string"},
    "reasons": {"type": "array", "items": REASON_SCHEMA}}}
READINESS_SCHEMA = {"type": "object", "properties": {
    "quarter": {"type": "string"}, "close_day": {"type": "string", "format": "date"},
    "days_left": {"type": "integer"}, "score": _NULLABLE_INT, "colour": {"type": "string"},
    "score_colour": {"type": "string", "description": "the colour of the score before the hard gates"},
    "frozen": {"type": ["object", "null"], "description": "a closed quarter: as frozen at the end of its BD0 in the "
               "close region (not recomputed); null while the quarter is open", "properties": {
                   "as_of": {"type": "string", "format": "date-time"},
                   "taken_at": {"type": "string", "format": "date-time"}}},
    "gates": {"type": "array", "items": {"type": "object", "properties": {
        "cap": {"type": "string"}, "text": {"type": "string"}, "url": {"type": ["string", "null"]}}}},
    "tracks": {"type": "array", "items": TRACK_SCHEMA},
    "trend": {"type": "object", "properties": {
        "since_week": _NULLABLE_INT, "since_start": _NULLABLE_INT,
        "points": {"type": "array", "items": {"type": "object", "properties": {
            "day": {"type": "string", "format": "date"}, "score": {"type": "integer"},
            "colour": {"type": "string"}}}}}}}}
ITEM_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "quarter": {"type": "string"}, "title": {"type": "string"}, "track": {"type": "string"},
    "owner_id": _NULLABLE_INT, "owner_role": {"type": "string"}, "region_id": _NULLABLE_INT,
    "bd_offset": {"type": "integer"}, "due_on": {"type": "string", "format": "date"},
    "evidence_required": {"type": "boolean"}, "status": {"type": "string", "enum": ["todo", "doing", "done", "na"]},
    "overdue": {"type": "boolean"}, "done_by_id": _NULLABLE_INT, "done_at": {"type": ["string", "null"]},
    "evidence": {"type": "string"}, "na_reason": {"type": "string"}, "lesson_id": _NULLABLE_INT,
    "reminder_outcome": {"type": ["string", "null"]}}}
LESSON_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "recommendation": {"type": "string"},
    "owner_id": _NULLABLE_INT, "learned_in": {"type": "string"}, "target_quarter": {"type": "string"},
    "status": {"type": "string", "enum": ["open", "closed"]}, "closed_at": {"type": ["string", "null"]}}}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _quarter():
    return checklist.parse_quarter(request.args.get("quarter"), fiscal_start_month()) or current_quarter()


def item_json(item: ChecklistItem) -> dict:
    return {"id": item.id, "quarter": quarter_code(item.fiscal_year, item.quarter), "title": item.title,
            "track": item.track, "owner_id": item.owner_id, "owner_role": item.owner_role, "region_id": item.region_id,
            "bd_offset": item.bd_offset, "due_on": item.due_on.isoformat(), "evidence_required": item.evidence_required,
            "status": item.status, "overdue": checklist.is_overdue(item),
            "done_by_id": item.done_by_id, "done_at": _iso(item.done_at), "evidence": item.evidence,
            "na_reason": item.na_reason, "lesson_id": item.lesson_id, "reminder_outcome": item.reminder_outcome}


def lesson_json(lesson: Lesson) -> dict:
    return {"id": lesson.id, "title": lesson.title, "recommendation": lesson.recommendation,
            "owner_id": lesson.owner_id, "learned_in": quarter_code(lesson.from_fiscal_year, lesson.from_quarter),
            "target_quarter": quarter_code(lesson.target_fiscal_year, lesson.target_quarter),
            "status": lesson.status, "closed_at": _iso(lesson.closed_at)}


@bp.get("/readiness")
@allow(EVERYONE)
@api_doc("Quarter-close readiness: overall score and colour, hard gates, every track with its reasons, trend",
         query=_QUARTER, response=READINESS_SCHEMA, tag="readiness")
def get_readiness():
    readiness = readiness_of(_quarter())
    trend = quarter_trend(readiness.quarter, readiness)
    weight_of = weights()
    ctx = readiness.context
    return jsonify({
        "quarter": quarter_code(readiness.quarter.fiscal_year, readiness.quarter.quarter), "close_day": ctx.close_day.isoformat(),
        "days_left": max((ctx.close_day - ctx.today).days, 0), "score": readiness.score, "colour": readiness.colour,
        "score_colour": readiness.score_colour,
        "frozen": {"as_of": readiness.frozen.as_of.isoformat(), "taken_at": readiness.frozen.taken_at.isoformat()}
        if readiness.frozen else None,
        "gates": [{"cap": gate.cap, "text": gate.text, "url": gate.url} for gate in readiness.gates],
        "tracks": [{"track": result.track, "label": TRACK_LABELS[Track(result.track)],
                    "weight": weight_of[result.track],
                    "score": result.score, "colour": result.colour, "note": result.note,
                    "reasons": [{"text": reason.text, "points": reason.points, "url": reason.url,
                                 "severe": reason.severe} for reason in result.reasons]}
                   for result in readiness.tracks],
        "trend": {"since_week": trend.since_week, "since_start": trend.since_start,
                  "points": [{"day": point.day.isoformat(), "score": point.score, "colour": point.colour}
                             for point in trend.points]},
    })


@bp.get("/readiness/checklist")
@allow(EVERYONE)
@api_doc("A quarter's checklist items, by due date", query=_QUARTER,
         response={"type": "array", "items": ITEM_SCHEMA}, tag="readiness")
def get_checklist():
    return jsonify([item_json(item) for item in checklist.quarter_items(_quarter())])


@bp.post("/readiness/checklist")
@allow(EDITORS)
@api_doc("Create a quarter's checklist from the template and open lessons (once; a repeat creates nothing)",
         query=_QUARTER, response={"type": "object", "properties": {"created": {"type": "integer"}}}, status=201,
         tag="readiness")
def create_checklist():
    created = checklist.instantiate_quarter(quarter=_quarter(), by=current_user.email)
    return jsonify({"created": created}), 201


@bp.patch("/readiness/items/<int:checklist_item_id>")
@allow(EVERYONE)
@api_doc("Update a checklist item: todo, doing, done (evidence if required) or na (with a reason)",
         request=ItemStatusForm, response=ITEM_SCHEMA, tag="readiness")
def patch_item(checklist_item_id: int):
    item = checklist.get_item(checklist_item_id)
    if not checklist.can_update(current_user, item):  # before validating: someone else's item is a 403, not a 422
        raise Forbidden("Only the item's owner or the crisis team can update it.")
    form = load_form(ItemStatusForm)
    checklist.update_item(current_user, item, status=form.status.data, evidence=form.evidence.data or "",
                          na_reason=form.na_reason.data or "")
    return jsonify(item_json(item))


@bp.get("/readiness/lessons")
@allow(EVERYONE)
@api_doc("Lessons learned, open first", response={"type": "array", "items": LESSON_SCHEMA}, tag="readiness")
def get_lessons():
    return jsonify([lesson_json(lesson) for lesson in lessons.list_lessons()])


@bp.post("/readiness/lessons")
@allow(EDITORS)
@api_doc("Record a lesson learned; it becomes an item of the target quarter's checklist",
         request=LessonForm, response=LESSON_SCHEMA, status=201, tag="readiness")
def post_lesson():
    form = load_form(LessonForm)
    start = fiscal_start_month()
    lesson = lessons.add_lesson(title=form.title.data, recommendation=form.recommendation.data,
                                owner_id=form.owner_id.data,
                                learned_in=checklist.parse_quarter(form.learned_in.data, start),
                                target=checklist.parse_quarter(form.target_quarter.data, start))
    return jsonify(lesson_json(lesson)), 201


@bp.patch("/readiness/lessons/<int:lesson_id>")
@allow(EDITORS)
@api_doc("Reword an open lesson or change its owner (409 once closed); its open checklist items follow; fields "
         "left out keep their value", request=LessonEditForm, response=LESSON_SCHEMA, tag="readiness")
def patch_lesson(lesson_id: int):
    lesson = lessons.get_lesson(lesson_id)
    form = load_form(LessonEditForm, obj=lesson, partial=True)
    return jsonify(lesson_json(lessons.update_lesson(lesson, **form_values(form))))
