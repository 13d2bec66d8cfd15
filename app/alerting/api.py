"""API: /api/v1/alerts — raise (with de-duplication), list, read with the timeline, acknowledge, resolve, escalate.

Reading is open to every role; raising and acting are for responders, the crisis team and admins. The actions
are idempotent: acting again answers 200 with `"changed": false` and the alert as it stands.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from app.access import allow
from app.alerting import actions, monitoring, services
from app.alerting.forms import RaiseAlertForm, ResolveForm
from app.alerting.hooks import AlertBadge, alert_badges
from app.alerting.models import SEVERITIES, Alert, AlertEvent, OutboundMessage
from app.alerting.render import alert_url
from app.api import bp
from app.api.openapi import api_doc
from app.api.support import json_body, load_form
from app.auth.roles import EVERYONE
from app.errors import Invalid
from app.extensions import db
from app.views_common import page_args

_TIME = {"type": ["string", "null"], "format": "date-time"}
ESCALATION_SCHEMA = {"type": "object", "description": "steps and rounds count from 1", "properties": {
    "policy_name": {"type": ["string", "null"]}, "steps": {"type": "integer"}, "rounds": {"type": "integer"},
    "last_paged_step": {"type": ["integer", "null"]}, "next_step": {"type": ["integer", "null"]},
    "round": {"type": "integer"}, "next_at": _TIME, "exhausted": {"type": "boolean"}}}
ALERT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "summary": {"type": "string"}, "details": {"type": "string"},
    "severity": {"type": "string", "enum": list(SEVERITIES)}, "source": {"type": "string"},
    "dedup_key": {"type": ["string", "null"]},
    "status": {"type": "string", "enum": ["triggered", "acknowledged", "resolved"]},
    "created_at": {"type": "string", "format": "date-time"}, "created_by": {"type": ["string", "null"]},
    "policy_id": {"type": ["integer", "null"]}, "merged_count": {"type": "integer"}, "last_merged_at": _TIME,
    "acknowledged_at": _TIME, "acknowledged_by": {"type": ["string", "null"]}, "ack_deadline": _TIME,
    "resolved_at": _TIME, "resolved_by": {"type": ["string", "null"]}, "unanswered_at": _TIME,
    "escalation": ESCALATION_SCHEMA,
    "url": {"type": "string"},
    "attached_to": {"type": "array", "description": "records the alert is part of, e.g. an incident", "items": {
        "type": "object", "properties": {"kind": {"type": "string"}, "id": {"type": "integer"},
                                         "text": {"type": "string"}, "url": {"type": ["string", "null"]}}}}}}
EVENT_SCHEMA = {"type": "object", "properties": {
    "at": {"type": "string", "format": "date-time"}, "kind": {"type": "string"}, "actor": {"type": "string"},
    "text": {"type": "string"}, "message_id": {"type": ["integer", "null"]}}}
MESSAGE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "user_id": {"type": ["integer", "null"]}, "kind": {"type": "string"},
    "address": {"type": "string"}, "channel": {"type": "string"}, "status": {"type": "string"},
    "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
    "delivery_status": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
    "sent_at": _TIME, "delivered_at": _TIME}}
ALERT_DETAIL_SCHEMA = {"type": "object", "properties": {
    **ALERT_SCHEMA["properties"], "timeline": {"type": "array", "items": EVENT_SCHEMA, "description": "oldest first"},
    "messages": {"type": "array", "items": MESSAGE_SCHEMA}}}
ACTION_SCHEMA = {"type": "object", "properties": {
    "changed": {"type": "boolean", "description": "false when it had already happened (nothing changed)"},
    "alert": ALERT_SCHEMA}}
LIST_SCHEMA = {"type": "object", "properties": {
    "items": {"type": "array", "items": ALERT_SCHEMA}, "total": {"type": "integer"},
    "page": {"type": "integer"}, "per_page": {"type": "integer"}, "pages": {"type": "integer"}}}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def alert_json(alert: Alert, badges: dict[int, list[AlertBadge]] | None = None) -> dict[str, Any]:
    """The alert as JSON; `badges` are what the alerts of a list are part of (looked up once for the list)."""
    position = actions.escalation_position(alert)
    if badges is None:
        badges = alert_badges([alert.id])
    return {"id": alert.id, "summary": alert.summary, "details": alert.details, "severity": alert.severity,
            "source": alert.source, "dedup_key": alert.dedup_key, "status": alert.status,
            "created_at": _iso(alert.created_at), "created_by": alert.created_by.name if alert.created_by else None,
            "policy_id": alert.policy_id, "merged_count": alert.merged_count,
            "last_merged_at": _iso(alert.last_merged_at), "acknowledged_at": _iso(alert.acknowledged_at),
            "acknowledged_by": alert.acknowledged_by, "ack_deadline": _iso(alert.ack_deadline),
            "resolved_at": _iso(alert.resolved_at), "resolved_by": alert.resolved_by,
            "unanswered_at": _iso(alert.unanswered_at),
            "escalation": {"policy_name": position.policy_name, "steps": position.steps, "rounds": position.rounds,
                           "last_paged_step": position.last_paged_step, "next_step": position.next_step,
                           "round": position.round, "next_at": _iso(position.next_at),
                           "exhausted": position.exhausted},
            "url": alert_url(alert),
            "attached_to": [badge.as_json() for badge in badges.get(alert.id, [])]}


def _event_json(event: AlertEvent) -> dict[str, Any]:
    return {"at": _iso(event.at), "kind": event.kind, "actor": event.actor, "text": event.text,
            "message_id": event.message_id}


def _message_json(message: OutboundMessage) -> dict[str, Any]:
    return {"id": message.id, "user_id": message.user_id, "kind": message.kind, "address": message.address,
            "channel": message.channel, "status": message.status, "attempts": message.attempts,
            "last_error": message.last_error, "delivery_status": message.delivery_status,
            "created_at": _iso(message.created_at), "sent_at": _iso(message.sent_at),
            "delivered_at": _iso(message.delivered_at)}


@bp.post("/alerts")
@allow(actions.ACTORS)
@api_doc("Raise an alert (source: api). 201 with the new alert; 200 with the open alert it merged into when "
         "`dedup_key` matches one (nobody is paged again)", request=RaiseAlertForm, response=ALERT_SCHEMA,
         status=201, tag="alerts", also={200: ("The open alert with the same dedup_key", None)})
def create_alert():
    form = load_form(RaiseAlertForm)
    alert, created = actions.raise_from_api(
        summary=form.summary.data, details=form.details.data or "", severity=form.severity.data,
        dedup_key=form.dedup_key.data or None, escalation_policy_id=form.escalation_policy_id.data,
        created_by=current_user)
    return jsonify(alert_json(alert)), 201 if created else 200


WEBHOOK_SCHEMA = {"type": "object", "properties": {"results": {"type": "array", "items": {
    "type": "object", "properties": {
        "dedup_key": {"type": ["string", "null"]}, "alert_id": {"type": ["integer", "null"]},
        "result": {"type": "string", "enum": ["raised", "merged", "resolved", "not_open"]}}}}}}
WEBHOOK_BODY = {
    "event": {"type": "string", "enum": ["trigger", "resolve"], "description": "plain event (default trigger)"},
    "summary": {"type": "string"}, "details": {"type": "string"},
    "severity": {"type": "string", "enum": list(SEVERITIES)}, "dedup_key": {"type": "string"},
    "escalation_policy_id": {"type": "integer"},
    "alerts": {"type": "array", "items": {"type": "object"},
               "description": "instead of the fields above: Prometheus Alertmanager's webhook payload (version 4)"}}


def _webhook_policy(body: dict[str, Any]) -> int | None:
    raw = body.get("escalation_policy_id", request.args.get("policy"))
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Invalid("Give the escalation policy's number.", "escalation_policy_id") from None


@bp.post("/alerts/webhook")
@allow(actions.ACTORS)
@api_doc("Alerts from a monitoring tool (source: webhook): one plain event, or Alertmanager's payload, whose "
         "firing alerts raise (dedup key alertmanager:<fingerprint>) and resolved ones resolve. Every event is "
         "checked before any is applied", request_extra=WEBHOOK_BODY, response=WEBHOOK_SCHEMA,
         query={"policy": "escalation policy id (for senders that cannot put it in the body)"}, tag="alerts")
def monitoring_webhook():
    body = json_body()
    events = monitoring.parse_events(body)
    results = monitoring.apply_events(events, escalation_policy_id=_webhook_policy(body), sender=current_user)
    return jsonify({"results": results})


@bp.get("/alerts")
@allow(EVERYONE)
@api_doc("Alerts, open first (triggered, then acknowledged), newest first, then resolved",
         query={"status": "open, triggered, acknowledged or resolved", "severity": ", ".join(SEVERITIES),
                "page": "page number, from 1", "per_page": "alerts per page (1-200, default 50)"},
         response=LIST_SCHEMA, tag="alerts")
def list_alerts():
    page, per_page = page_args()
    query = actions.alert_query(status=request.args.get("status") or None,
                                severity=request.args.get("severity") or None)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    badges = alert_badges(alert.id for alert in result.items)
    return jsonify({"items": [alert_json(alert, badges) for alert in result.items], "total": result.total,
                    "page": page, "per_page": per_page, "pages": result.pages})


@bp.get("/alerts/<int:alert_id>")
@allow(EVERYONE)
@api_doc("One alert with its timeline (oldest first) and the messages sent for it", response=ALERT_DETAIL_SCHEMA,
         tag="alerts")
def show_alert(alert_id: int):
    alert = services.get_alert(alert_id)
    body = alert_json(alert)
    body["timeline"] = [_event_json(event) for event in db.session.scalars(actions.timeline_query(alert))]
    body["messages"] = [_message_json(message) for message in db.session.scalars(actions.messages_query(alert))]
    return jsonify(body)


def _act(alert_id: int, function, **kwargs):
    services.get_alert(alert_id)  # 404 before anything else
    alert, changed = services.act_and_commit(alert_id, lambda a: function(a, actor=current_user.name, via="API",
                                                                          **kwargs))
    return jsonify({"changed": bool(changed), "alert": alert_json(alert)})


@bp.post("/alerts/<int:alert_id>/ack")
@allow(actions.ACTORS)
@api_doc("Acknowledge: escalation stops; `changed` is false when it was already acknowledged or is resolved",
         response=ACTION_SCHEMA, tag="alerts")
def acknowledge_alert(alert_id: int):
    return _act(alert_id, services.acknowledge)


@bp.post("/alerts/<int:alert_id>/resolve")
@allow(actions.ACTORS)
@api_doc("Resolve, with an optional note for the timeline (the body may be left out); `changed` is false when "
         "it was already resolved", request=ResolveForm, response=ACTION_SCHEMA, tag="alerts")
def resolve_alert(alert_id: int):
    note = ""
    if request.get_data():
        note = (load_form(ResolveForm).note.data or "").strip()
    return _act(alert_id, services.resolve, note=note)


@bp.post("/alerts/<int:alert_id>/escalate")
@allow(actions.ACTORS)
@api_doc("Page the next step now (also from acknowledged); `changed` is false when the alert is resolved",
         response=ACTION_SCHEMA, tag="alerts")
def escalate_alert(alert_id: int):
    return _act(alert_id, services.escalate)
