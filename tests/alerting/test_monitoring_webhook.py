"""Alerts from monitoring tools: POST /api/v1/alerts/webhook with a plain event or Alertmanager's payload."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.alerting.models import Alert
from app.extensions import db
from tests.alerting.pager import give_methods, policy_for

URL = "/api/v1/alerts/webhook"
ALICE = "+14155550101"


def alertmanager(*alerts: dict) -> dict:
    """An Alertmanager webhook body (version 4) around `alerts`."""
    return {"version": "4", "status": "firing", "receiver": "quarterdeck", "groupKey": "{}:{}", "alerts": list(alerts)}


def am_alert(name: str, status: str = "firing", fingerprint: str = "", **labels) -> dict:
    return {"status": status, "labels": {"alertname": name, **labels}, "fingerprint": fingerprint or name.lower(),
            "annotations": {"summary": f"{name} on the ERP", "description": "Error rate above 5% for 10 minutes"},
            "generatorURL": "http://prometheus.example/graph?g0.expr=x", "startsAt": "2026-10-06T02:00:00Z"}


def alert_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Alert))


def test_a_plain_event_raises_merges_and_resolves_by_its_dedup_key(api_as):
    monitor = api_as("responder", name="Grafana")
    event = {"summary": "Bookings API latency p99 above 2 s", "severity": "high", "dedup_key": "bookings-latency"}

    raised = monitor.post(URL, json=event)
    merged = monitor.post(URL, json=event)
    resolved = monitor.post(URL, json={"event": "resolve", "dedup_key": "bookings-latency"})
    again = monitor.post(URL, json={"event": "resolve", "dedup_key": "bookings-latency"})

    [first] = raised.json["results"]
    assert (raised.status_code, first["result"]) == (200, "raised")
    assert merged.json["results"] == [{"dedup_key": "bookings-latency", "result": "merged", "alert_id": first["alert_id"]}]
    assert resolved.json["results"][0]["result"] == "resolved"
    assert again.json["results"][0]["result"] == "not_open"
    alert = db.session.get(Alert, first["alert_id"])
    assert (alert.source, alert.severity, alert.status, alert.merged_count) == ("webhook", "high", "resolved", 1)
    assert alert.resolved_by == "Grafana"


def test_alertmanager_firing_alerts_page_and_resolved_ones_resolve(phones, api_as, make_user):
    alice = make_user("responder", name="Alice")
    give_methods(alice, ("sms", ALICE, 0))
    policy = policy_for(([alice], 10))
    monitor = api_as("responder", name="Alertmanager")

    fired = monitor.post(f"{URL}?policy={policy.id}", json=alertmanager(
        am_alert("HighErrorRate", severity="warning"), am_alert("ErpDown", severity="critical")))
    phones.tick()

    assert [r["result"] for r in fired.json["results"]] == ["raised", "raised"]
    error_rate = db.session.get(Alert, fired.json["results"][0]["alert_id"])
    assert (error_rate.summary, error_rate.severity, error_rate.dedup_key, error_rate.policy_id) == \
        ("HighErrorRate: HighErrorRate on the ERP", "medium", "alertmanager:higherrorrate", policy.id)
    assert "Error rate above 5%" in error_rate.details and "severity=warning" in error_rate.details
    phones.expect_sms(ALICE, "QD 2 alerts: ")

    monitor.post(URL, json=alertmanager(am_alert("HighErrorRate", status="resolved")))

    assert db.session.get(Alert, error_rate.id).status == "resolved"
    assert db.session.get(Alert, fired.json["results"][1]["alert_id"]).status == "triggered"


@pytest.mark.parametrize(("body", "field"), [
    (alertmanager(am_alert("Ok"), {"status": "burning", "labels": {"alertname": "Bad"}}), "alerts[1].status"),
    (alertmanager(am_alert("Ok"), {"status": "firing", "labels": ["not", "a", "map"]}), "alerts[1].labels"),
    ({"alerts": []}, "alerts"),
    ({"summary": "x", "severity": "sev1"}, "severity"),
    ({"summary": "  "}, "summary"),
    ({"event": "resolve"}, "dedup_key"),
    ({"event": "snooze", "summary": "x"}, "event"),
    ({"summary": "x", "escalation_policy_id": "first"}, "escalation_policy_id"),
    ({"summary": "x", "escalation_policy_id": 999999}, "escalation_policy_id"),
])
def test_a_bad_event_is_a_422_naming_the_field_and_nothing_is_raised(api_as, body, field):
    response = api_as("responder").post(URL, json=body)
    assert response.status_code == 422 and field in response.json["fields"], response.json
    assert alert_count() == 0


def test_the_webhook_needs_json_and_a_role_that_may_raise_alerts(api_as, client):
    assert api_as("responder").post(URL, data="summary=x").status_code == 400
    assert api_as("executive").post(URL, json={"summary": "x"}).status_code == 403
    assert client.post(URL, json={"summary": "x"}).status_code == 401
    assert alert_count() == 0
