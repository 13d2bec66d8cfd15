"""API: /api/v1/risks/escalations — risks escalated to the executives, and acknowledging one."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EVERYONE, EXECUTIVES
from app.risks import escalations
from app.risks.forms import AcknowledgeForm
from app.risks.escalation_models import RiskEscalation

_TIME = {"type": ["string", "null"], "format": "date-time"}
ESCALATION_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "risk_id": {"type": "integer"}, "title": {"type": "string"},
    "level": {"type": "string", "description": "the risk's level when it was escalated"},
    "source": {"type": "string"}, "text": {"type": "string", "description": "the decision, as the meeting put it"},
    "escalated_at": _TIME, "escalated_by": {"type": "string"}, "acknowledged_at": _TIME,
    "acknowledged_by": {"type": "string"}, "acknowledgement": {"type": "string"},
    "notices": {"type": "array", "description": "each executive told, by which method, and what became of it",
                "items": {"type": "object", "properties": {"name": {"type": "string"}, "kind": {"type": "string"},
                                                            "outcome": {"type": "string"}}}}}}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def escalation_json(escalation: RiskEscalation) -> dict[str, Any]:
    return {"id": escalation.id, "risk_id": escalation.risk_id, "title": escalation.risk.title,
            "level": escalation.level.value, "source": escalation.source, "text": escalation.text,
            "escalated_at": _iso(escalation.escalated_at), "escalated_by": escalation.escalated_by_name,
            "acknowledged_at": _iso(escalation.acknowledged_at), "acknowledged_by": escalation.acknowledged_by_name,
            "acknowledgement": escalation.acknowledgement,
            "notices": [{"name": notice.name, "kind": notice.kind, "outcome": notice.outcome}
                        for notice in escalation.notices]}


@bp.get("/risks/escalations")
@allow(EVERYONE)
@api_doc("Risks escalated to the executives that no executive has acknowledged yet, oldest first",
         response={"type": "array", "items": ESCALATION_SCHEMA}, tag="risks")
def list_escalations():
    return jsonify([escalation_json(escalation) for escalation in escalations.open_escalations()])


@bp.post("/risks/escalations/<int:escalation_id>/acknowledge")
@allow(EXECUTIVES)
@api_doc("Acknowledge an escalation (executives): it leaves 'escalated to you' and goes on the risk's history; a "
         "second acknowledgement is a 409", request=AcknowledgeForm, response=ESCALATION_SCHEMA, tag="risks")
def acknowledge_escalation(escalation_id: int):
    escalation = escalations.get_escalation(escalation_id)
    form = load_form(AcknowledgeForm) if request.content_length else None
    escalations.acknowledge(escalation, actor=current_user, note=form.note.data if form else "")
    return jsonify(escalation_json(escalation))
