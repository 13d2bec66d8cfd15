"""API: the global audit trail (admins) and one record's history."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import ApiError
from app.audit import services
from app.audit.forms import AuditFilterForm
from app.audit.models import AuditEvent
from app.auth.roles import ADMINS, EVERYONE
from app.errors import Forbidden
from app.extensions import db
from app.views_common import page_args

EVENT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "occurred_at": {"type": "string", "format": "date-time"},
    "actor": {"type": "string"}, "action": {"type": "string", "enum": list(services.ACTIONS)},
    "entity_type": {"type": "string"}, "entity_id": {"type": "string"}, "entity_label": {"type": "string"},
    "changes": {"type": "object", "description": "field -> [before, after]"}}}


def event_json(event: AuditEvent) -> dict:
    return {"id": event.id, "occurred_at": event.occurred_at.isoformat(), "actor": event.actor_label,
            "action": event.action, "entity_type": event.entity_type, "entity_id": event.entity_id,
            "entity_label": event.entity_label, "changes": event.changes}


@bp.get("/audit")
@allow(ADMINS)
@api_doc("The audit trail, newest first, filtered and paginated",
         response={"type": "object", "properties": {"items": {"type": "array", "items": EVENT_SCHEMA},
                                                    "page": {"type": "integer"}, "pages": {"type": "integer"},
                                                    "total": {"type": "integer"}}},
         query={"entity_type": "table name", "action": "create|update|delete", "actor": "part of an email",
                "since": "YYYY-MM-DD", "until": "YYYY-MM-DD", "page": "1..", "per_page": "1..200"})
def audit_log():
    form = AuditFilterForm(request.args)
    if not form.validate():
        raise ApiError(400, "Invalid filter.", {k: v[0] for k, v in form.errors.items()})
    criteria = services.AuditFilter(entity_type=form.entity_type.data or None, action=form.action.data or None,
                                    actor=form.actor.data or None, since=form.since.data, until=form.until.data)
    page, per_page = page_args()
    events = db.paginate(services.filtered_events(criteria), page=page, per_page=per_page, error_out=False)
    return jsonify({"items": [event_json(e) for e in events.items], "page": events.page,
                    "pages": events.pages, "total": events.total})


@bp.get("/history/<entity_type>/<entity_id>")
@allow(EVERYONE)
@api_doc("Every recorded change of one record, newest first", response={"type": "array", "items": EVENT_SCHEMA})
def record_history(entity_type: str, entity_id: str):
    model = services.model_for(entity_type)
    if current_user.role not in model.__audit_viewers__:
        raise Forbidden("Your role may not read this record's history.")
    return jsonify([event_json(e) for e in services.history(entity_type, entity_id)])
