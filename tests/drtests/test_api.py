"""The DR test API: templates, exercises with step transitions (stale versions answer 409), findings."""
from __future__ import annotations

from app.drtests.models import FindingStatus
from app.extensions import db


def test_templates_are_created_and_steps_appended_through_the_api(api_as):
    api = api_as("crisis_team")
    created = api.post("/api/v1/drtests/templates", json={"name": "ERP", "rto_minutes": 60, "rpo_minutes": 15})
    assert created.status_code == 201 and created.json["version"] == 1
    template_id = created.json["id"]
    step = api.post(f"/api/v1/drtests/templates/{template_id}/steps",
                    json={"title": "Fail over", "phase": "failover", "expected_minutes": 20})
    assert step.status_code == 201 and step.json["version"] == 2 and step.json["steps"][0]["phase"] == "failover"
    bad = api.post(f"/api/v1/drtests/templates/{template_id}/steps",
                   json={"title": "Later", "phase": "close", "expected_minutes": 1, "depends_on": "5"})
    assert bad.status_code == 422 and "depends_on" in bad.json["fields"]
    unknown = api.post("/api/v1/drtests/templates", json={"name": "X", "rto_minutes": 0, "rpo_minutes": 1})
    assert unknown.status_code == 422 and "rto_minutes" in unknown.json["fields"]


def test_responders_cannot_edit_templates(api_as):
    response = api_as("responder").post("/api/v1/drtests/templates",
                                        json={"name": "X", "rto_minutes": 5, "rpo_minutes": 1})
    assert response.status_code == 403


def test_an_exercise_is_scheduled_and_worked_through_the_api(api_as, make_template, clock):
    template = make_template(steps=[("A", "failover", 5, "", True, False, True),
                                    ("B", "validate", 5, "1", True, False, False)])
    lead = api_as("crisis_team")
    created = lead.post("/api/v1/drtests/exercises", json={
        "template_id": template.id, "kind": "simulation", "scheduled_for": "2026-12-01T09:00Z",
        "owner_id": lead.user.id})
    assert created.status_code == 201, created.json
    body = created.json
    assert body["quarter"] == "Q4 FY27" and body["result"] == "incomplete"
    base = f"/api/v1/drtests/exercises/{body['id']}/steps"
    first, second = body["steps"]
    blocked = lead.post(f"{base}/{second['id']}/start", json={"version": second["version"]})
    assert blocked.status_code == 409 and "waits for step 1" in blocked.json["error"]
    started = lead.post(f"{base}/{first['id']}/start", json={"version": first["version"]})
    assert started.status_code == 200 and started.json["state"] == "running"
    stale = lead.post(f"{base}/{first['id']}/complete", json={"version": first["version"], "outcome": "ok"})
    assert stale.status_code == 409 and stale.json["fields"] == {"version": stale.json["error"]}
    failed = lead.post(f"{base}/{first['id']}/complete", json={"version": started.json["version"],
                                                               "outcome": "failed"})
    assert failed.status_code == 200
    read = lead.get(f"/api/v1/drtests/exercises/{body['id']}").json
    assert read["result"] == "failed" and "critical step 1 failed" in read["reasons"]


def test_findings_through_the_api(api_as, make_exercise, clock):
    exercise = make_exercise()
    lead = api_as("crisis_team")
    created = lead.post(f"/api/v1/drtests/exercises/{exercise.id}/findings",
                        json={"title": "Slow DNS", "severity": "high", "due_date": "2026-12-31"})
    assert created.status_code == 201 and created.json["status"] == "open"
    escalated = lead.post(f"/api/v1/drtests/findings/{created.json['id']}/escalate", json={"to": "risk"})
    assert escalated.json["status"] == FindingStatus.TO_RISK.value
    listing = api_as("executive").get("/api/v1/drtests/findings?status=to_risk").json
    assert [f["title"] for f in listing["items"]] == ["Slow DNS"]
    bad = lead.post(f"/api/v1/drtests/exercises/{exercise.id}/findings", json={"title": "x", "severity": "dire"})
    assert bad.status_code == 422 and "severity" in bad.json["fields"]


def test_a_finding_becomes_an_action_on_a_risk_through_the_api(api_as, make_exercise, make_risk, clock):
    risk = make_risk()
    lead = api_as("crisis_team")
    created = lead.post(f"/api/v1/drtests/exercises/{make_exercise().id}/findings",
                        json={"title": "Slow DNS", "severity": "high", "due_date": "2026-12-31",
                              "owner_id": lead.user.id}).json
    url = f"/api/v1/drtests/findings/{created['id']}/escalate"

    missing = lead.post(url, json={"to": "action"})
    assert missing.status_code == 422 and "risk_id" in missing.json["fields"]
    escalated = lead.post(url, json={"to": "action", "risk_id": risk.id})

    assert escalated.status_code == 200
    assert (escalated.json["status"], escalated.json["risk_ref"]) == ("action", str(risk.id))
    db.session.expire_all()
    assert [action.due_on.isoformat() for action in risk.actions] == ["2026-12-31"]
