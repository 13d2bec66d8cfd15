"""API: a risk's mitigation actions — list, add, change, and move through todo, doing, done or dropped."""
from __future__ import annotations

from types import SimpleNamespace

from flask import jsonify

from app.access import allow
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import load_form
from app.auth.roles import EDITORS, EVERYONE
from app.forms_common import form_values
from app.risks import actions, cadence, services
from app.risks.api import ACTION_SCHEMA, action_json
from app.risks.forms import ActionForm, ActionStatusForm
from app.risks.scoring import current_settings


def _today():
    return cadence.team_today(current_settings())


@bp.get("/risks/<int:risk_id>/actions")
@allow(EVERYONE)
@api_doc("A risk's mitigation actions, by due date", tag="risks",
         response={"type": "object", "properties": {"items": {"type": "array", "items": ACTION_SCHEMA}}})
def list_risk_actions(risk_id: int):
    risk = services.get_risk(risk_id)
    today = _today()
    return jsonify({"items": [action_json(action, today) for action in risk.actions]})


@bp.post("/risks/<int:risk_id>/actions")
@allow(EDITORS)
@api_doc("Add a mitigation action (one due after the threatened quarter's close is flagged, not refused)",
         request=ActionForm, response=ACTION_SCHEMA, status=201, tag="risks")
def add_risk_action(risk_id: int):
    risk = services.get_risk(risk_id)
    form = load_form(ActionForm)
    return jsonify(action_json(actions.add_action(risk, **form_values(form)), _today())), 201


@bp.patch("/risks/<int:risk_id>/actions/<int:action_id>")
@allow(EDITORS)
@api_doc("Change an action's description, owner or due date; fields left out keep their value", request=ActionForm,
         response=ACTION_SCHEMA, tag="risks")
def update_risk_action(risk_id: int, action_id: int):
    action = actions.get_action(services.get_risk(risk_id), action_id)
    current = SimpleNamespace(description=action.description, owner_id=action.owner_id, due_on=action.due_on)
    form = load_form(ActionForm, obj=current, partial=True)
    return jsonify(action_json(actions.update_action(action, **form_values(form)), _today()))


@bp.post("/risks/<int:risk_id>/actions/<int:action_id>/status")
@allow(EDITORS)
@api_doc("Move an action to todo, doing, done or dropped (a drop needs its reason)", request=ActionStatusForm,
         response=ACTION_SCHEMA, tag="risks")
def set_risk_action_status(risk_id: int, action_id: int):
    action = actions.get_action(services.get_risk(risk_id), action_id)
    form = load_form(ActionStatusForm)
    return jsonify(action_json(actions.set_action_status(action, **form_values(form)), _today()))
