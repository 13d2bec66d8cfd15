"""API: /api/v1/reviews — the weekly reviews, building this week's, decisions, finishing, and the minutes.

Everyone reads; the crisis team and administrators run the meeting.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EDITORS, EVERYONE
from app.extensions import db
from app.forms_common import form_values
from app.reviews import agenda, meeting, queries
from app.reviews.forms import DecisionForm, FinishForm
from app.reviews.minutes import minutes_markdown
from app.reviews.models import ReviewItem, RiskReview
from app.views_common import page_args

_TIME = {"type": ["string", "null"], "format": "date-time"}
ITEM_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "position": {"type": "integer"}, "risk_id": {"type": "integer"},
    "reasons": {"type": "array", "items": {"type": "string", "enum": list(agenda.REASONS)}},
    "snapshot": {"type": "object", "description": "the risk when the agenda was built"},
    "decisions": {"type": "array", "description": "every decision the meeting took on the item, in order",
                  "items": {"type": "object", "properties": {
                      "id": {"type": "integer"}, "decision": {"type": "string"}, "note": {"type": "string"},
                      "outcome": {"type": "string", "description": "what it changed, in words"},
                      "decided_at": _TIME, "decided_by": {"type": "string"}}}}}}
REVIEW_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "week": {"type": "string"}, "meeting_on": {"type": "string", "format": "date"},
    "status": {"type": "string", "enum": ["planned", "in_progress", "finished"]}, "since": _TIME,
    "built_at": _TIME, "started_at": _TIME, "finished_at": _TIME, "summary": {"type": "string"},
    "attendees": {"type": "array", "items": {"type": "string"}}, "items": {"type": "array", "items": ITEM_SCHEMA},
    "messages": {"type": "array", "description": "pre-reads and reminders: {purpose, name, status, error}"}}}


def iso(value) -> str | None:
    return value.isoformat() if value else None


def item_json(item: ReviewItem) -> dict[str, Any]:
    return {"id": item.id, "position": item.position, "risk_id": item.risk_id, "reasons": item.reasons,
            "snapshot": item.snapshot,
            "decisions": [{"id": d.id, "decision": d.decision, "note": d.note, "outcome": d.outcome,
                           "decided_at": iso(d.decided_at), "decided_by": d.decided_by_name} for d in item.decisions]}


def review_json(review: RiskReview, detail: bool = True) -> dict[str, Any]:
    body = {"id": review.id, "week": review.week_key, "meeting_on": review.meeting_on.isoformat(),
            "status": review.status.value, "since": iso(review.since), "built_at": iso(review.built_at),
            "started_at": iso(review.started_at), "finished_at": iso(review.finished_at),
            "summary": review.summary, "attendees": [a.name for a in review.attendees]}
    if detail:
        body["items"] = [item_json(item) for item in queries.items_of(review)]
        body["messages"] = [{"purpose": row.purpose, "name": row.name, "status": row.outcome, "error": row.outcome_error}
                            for row, _message in queries.messages_of(review)]
    return body


@bp.get("/reviews")
@allow(EVERYONE)
@api_doc("Weekly risk reviews, the latest week first; paginated", query={"page": "1..", "per_page": "1..200"},
         tag="reviews", response={"type": "object", "properties": {
             "items": {"type": "array", "items": REVIEW_SCHEMA}, "page": {"type": "integer"},
             "pages": {"type": "integer"}, "total": {"type": "integer"}}})
def list_reviews():
    page, per_page = page_args()
    listing = db.paginate(queries.reviews_query(), page=page, per_page=per_page, error_out=False)
    return jsonify({"items": [review_json(r, detail=False) for r in listing.items], "page": listing.page,
                    "pages": listing.pages, "total": listing.total})


@bp.post("/reviews")
@allow(EDITORS)
@api_doc("Build this week's review now (201), or return it when the week has one already (200)",
         response=REVIEW_SCHEMA, status=201, tag="reviews", also={200: ("The week's existing review", None)})
def build_review():
    review, created = agenda.build_review(built_by=current_user.email)
    return jsonify(review_json(review)), 201 if created else 200


@bp.get("/reviews/<int:review_id>")
@allow(EVERYONE)
@api_doc("One review: its agenda with the decisions, attendees and messages", response=REVIEW_SCHEMA, tag="reviews")
def get_review(review_id: int):
    return jsonify(review_json(meeting.get_review(review_id)))


@bp.post("/reviews/<int:review_id>/items/<int:item_id>/decision")
@allow(EDITORS)
@api_doc("Record one more decision on an agenda item (an item takes several: accept and add an action) and apply "
         "it to the risk; the same decision twice is a 409 (adding actions excepted)", request=DecisionForm,
         response=ITEM_SCHEMA, tag="reviews")
def decide_review_item(review_id: int, item_id: int):
    review = meeting.get_review(review_id)
    item = meeting.get_item(review, item_id)
    form = load_form(DecisionForm)
    meeting.record_decision(review, item, actor=current_user, **form_values(form))
    return jsonify(item_json(item))


@bp.post("/reviews/<int:review_id>/finish")
@allow(EDITORS)
@api_doc("Finish the meeting: who attended and a summary; the minutes become final", request=FinishForm,
         response=REVIEW_SCHEMA, tag="reviews")
def finish_review(review_id: int):
    review = meeting.get_review(review_id)
    form = load_form(FinishForm)
    return jsonify(review_json(meeting.finish_review(review, actor=current_user, **form_values(form))))


@bp.get("/reviews/<int:review_id>/minutes")
@allow(EVERYONE)
@api_doc("The minutes as Markdown", tag="reviews",
         response={"type": "object", "properties": {"markdown": {"type": "string"}}})
def review_minutes(review_id: int):
    review = meeting.get_review(review_id)
    text = minutes_markdown(review, queries.items_of(review), [row for row, _m in queries.messages_of(review)],
                            current_user.time_zone)
    return jsonify({"markdown": text})
