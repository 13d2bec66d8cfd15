"""Alerts from monitoring tools: a plain JSON event, or Prometheus Alertmanager's webhook (payload version 4).

Both come to POST /api/v1/alerts/webhook with an API token (Alertmanager sends it through
`http_config.authorization`). A firing alert raises, or merges into, the open alert with its dedup key; a
resolved one resolves that alert. Every event of a request is checked before any is applied, and all of them
are committed together: a bad event in a batch changes nothing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from app.alerting import services
from app.alerting.models import SEVERITIES
from app.auth.models import User
from app.errors import Invalid
from app.extensions import db

MAX_EVENTS = 100
# Alertmanager's `severity` label, as a Quarterdeck severity; anything else is "high".
LABEL_SEVERITY = {"critical": "critical", "page": "critical", "fatal": "critical", "emergency": "critical",
                  "high": "high", "error": "high", "major": "high",
                  "medium": "medium", "warning": "medium", "warn": "medium",
                  "low": "low", "minor": "low", "info": "low", "informational": "low"}
UNKNOWN_LABEL_SEVERITY = "high"


@dataclass(frozen=True)
class MonitoringEvent:
    resolve: bool
    summary: str
    details: str
    severity: str
    dedup_key: str | None


def parse_events(body: dict[str, Any]) -> list[MonitoringEvent]:
    """The events in a request body, or Invalid naming the field at fault."""
    events = _alertmanager_events(body) if "alerts" in body else [_plain_event(body)]
    if len(events) > MAX_EVENTS:
        raise Invalid(f"Send at most {MAX_EVENTS} alerts per request.", "alerts")
    return events


def _plain_event(body: dict[str, Any]) -> MonitoringEvent:
    action = body.get("event", "trigger")
    if action not in ("trigger", "resolve"):
        raise Invalid("Use trigger or resolve.", "event")
    severity = body.get("severity", "critical")
    if severity not in SEVERITIES:
        raise Invalid(f"Use one of: {', '.join(SEVERITIES)}.", "severity")
    dedup_key = body.get("dedup_key")
    if action == "resolve":
        if not isinstance(dedup_key, str) or not dedup_key.strip():
            raise Invalid("Give the dedup key of the alert to resolve.", "dedup_key")
        return MonitoringEvent(resolve=True, summary="", details="", severity=severity, dedup_key=dedup_key.strip())
    summary, details, dedup_key = services.clean_alert_fields(
        summary=body.get("summary"), details=body.get("details"), source="webhook", severity=severity,
        dedup_key=dedup_key)
    return MonitoringEvent(resolve=False, summary=summary, details=details, severity=severity, dedup_key=dedup_key)


def _alertmanager_events(body: dict[str, Any]) -> list[MonitoringEvent]:
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise Invalid("Send a list of alerts.", "alerts")
    return [_alertmanager_event(alert, index) for index, alert in enumerate(alerts)]


def _text_map(value: object, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise Invalid("Must be an object of text values.", field)
    return value


def _alertmanager_event(alert: object, index: int) -> MonitoringEvent:
    where = f"alerts[{index}]"
    if not isinstance(alert, dict):
        raise Invalid("Each alert must be an object.", where)
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        raise Invalid("Use firing or resolved.", f"{where}.status")
    labels = _text_map(alert.get("labels"), f"{where}.labels")
    annotations = _text_map(alert.get("annotations"), f"{where}.annotations")
    name = labels.get("alertname", "Alert")
    headline = annotations.get("summary") or annotations.get("description") or ""
    summary = f"{name}: {headline}" if headline else name
    fingerprint = alert.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint:
        # Alertmanager always sends one; other senders are identified by their labels, like Alertmanager does.
        fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    lines = [annotations["description"]] if annotations.get("description") else []
    lines += [f"{key}={value}" for key, value in sorted(labels.items())]
    if isinstance(alert.get("generatorURL"), str) and alert["generatorURL"]:
        lines.append(f"Source: {alert['generatorURL']}")
    severity = LABEL_SEVERITY.get(labels.get("severity", "").lower(), UNKNOWN_LABEL_SEVERITY)
    summary, details, dedup_key = services.clean_alert_fields(
        summary=summary[:services.SUMMARY_MAX], details="\n".join(lines)[:services.DETAILS_MAX], source="webhook",
        severity=severity, dedup_key=f"alertmanager:{fingerprint}"[:services.DEDUP_MAX])
    return MonitoringEvent(resolve=status == "resolved", summary=summary, details=details, severity=severity,
                           dedup_key=dedup_key)


def apply_events(events: list[MonitoringEvent], *, escalation_policy_id: int | None,
                 sender: User) -> list[dict[str, Any]]:
    """Raise or resolve each event's alert and commit them together; what happened to each."""
    results = []
    for event in events:
        if event.resolve:
            alert = services.resolve_by_dedup_key(event.dedup_key, note="The monitoring tool says it is resolved.",
                                                  resolved_by=sender)
            results.append({"dedup_key": event.dedup_key, "result": "resolved" if alert else "not_open",
                            "alert_id": alert.id if alert else None})
            continue
        alert, created = services.raise_alert(
            summary=event.summary, details=event.details, source="webhook", severity=event.severity,
            dedup_key=event.dedup_key, escalation_policy_id=escalation_policy_id, created_by=sender)
        results.append({"dedup_key": event.dedup_key, "result": "raised" if created else "merged",
                        "alert_id": alert.id})
    db.session.commit()
    return results
