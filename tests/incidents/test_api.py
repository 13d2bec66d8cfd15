"""The incidents API: the same services as the pages, JSON errors naming the field, times with an offset."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.alerting import services as alerting
from app.extensions import db
from app.incidents import review
from app.incidents.models import Incident
from tests.incidents.conftest import NOW


@pytest.fixture
def responder(api_as):
    return api_as("responder", name="Rowan")


def test_declaring_answers_201_with_the_incident_and_the_caller_as_commander(app, clock, responder):
    response = responder.post("/api/v1/incidents", json={"title": "Orders stuck", "severity": "SEV3",
                                                           "summary": "EU queue at 40k"})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["code"], body["severity"], body["status"], body["roles"]["commander"]["name"]) == (
        f"INC-{body['id']}", "SEV3", "investigating", "Rowan")
    assert body["next_update_due_at"] == (NOW + timedelta(minutes=240)).isoformat()


@pytest.mark.parametrize("payload, field", [
    ({"title": "x", "severity": "SEV9"}, "severity"),
    ({"title": "", "severity": "SEV2"}, "title"),
    ({"title": "x", "severity": "SEV2", "commander_id": 99999}, "commander_id"),
    ({"title": "x", "severity": "SEV2", "started_at": "2026-11-18T09:00"}, "started_at"),
    ({"title": "x", "severity": "SEV2", "detected_at": "2026-11-18T11:00+00:00"}, "detected_at"),
    ({"title": "x", "severity": "SEV2", "detected_at": "yesterday"}, "detected_at"),
    ({"title": "x", "severity": "SEV2", "alert_id": 424242}, "alert_id"),
    ({"title": "x", "severity": "SEV2", "colour": "red"}, "colour"),
    ({"title": "x\u0000y", "severity": "SEV2"}, "title"),
])
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(app, clock, responder, payload, field):
    response = responder.post("/api/v1/incidents", json=payload)

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"]
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0


def test_an_executive_reads_but_cannot_declare(app, clock, api_as, responder):
    executive = api_as("executive")
    assert executive.post("/api/v1/incidents", json={"title": "x", "severity": "SEV3"}).status_code == 403
    assert executive.get("/api/v1/incidents").status_code == 200


def test_the_list_puts_open_incidents_first_and_filters(app, clock, responder):
    ids = {}
    for title, severity in (("Old one", "SEV1"), ("Minor", "SEV4"), ("Major", "SEV2")):
        ids[title] = responder.post("/api/v1/incidents", json={"title": title, "severity": severity}).get_json()["id"]
    review.resolve(ids["Old one"], resolution="Fixed", actor=responder.user)

    listed = [item["title"] for item in responder.get("/api/v1/incidents").get_json()["items"]]
    assert listed == ["Major", "Minor", "Old one"]
    assert [i["title"] for i in responder.get("/api/v1/incidents?status=open&severity=SEV4").get_json()["items"]] \
        == ["Minor"]
    assert responder.get("/api/v1/incidents?quarter=FY27-Q4").get_json()["total"] == 3
    assert responder.get("/api/v1/incidents?quarter=FY27-Q3").get_json()["total"] == 0
    for query, field in (("status=sleeping", "status"), ("severity=SEV7", "severity"), ("quarter=soon", "quarter")):
        response = responder.get(f"/api/v1/incidents?{query}")
        assert response.status_code == 422 and field in response.get_json()["fields"]


def test_one_incident_has_its_timeline_oldest_first_roles_subscribers_and_tasks(app, clock, responder, api_as):
    api_as("executive")  # subscribed automatically to a SEV2
    incident_id = responder.post("/api/v1/incidents", json={"title": "Billing", "severity": "SEV2"}).get_json()["id"]
    clock.shift(timedelta(minutes=5))
    assert responder.post(f"/api/v1/incidents/{incident_id}/tasks",
                          json={"title": "Rerun billing", "owner_id": responder.user.id,
                                "due_at": "2026-11-18T11:00:00+00:00"}).status_code == 201
    assert responder.post(f"/api/v1/incidents/{incident_id}/notes",
                          json={"text": "Vendor paged", "happened_at": "2026-11-18T09:50:00+00:00"}).status_code == 201

    body = responder.get(f"/api/v1/incidents/{incident_id}").get_json()

    assert [event["kind"] for event in body["timeline"]] == ["note", "declared", "subscription", "task"]
    assert body["subscribers"] == 1
    assert body["tasks"] == [{"id": body["tasks"][0]["id"], "title": "Rerun billing",
                              "owner": {"id": responder.user.id, "name": "Rowan"},
                              "due_at": "2026-11-18T11:00:00+00:00", "status": "open"}]
    assert body["roles"]["scribe"] is None


def test_updates_notes_and_resolving(app, clock, responder):
    incident_id = responder.post("/api/v1/incidents", json={"title": "Billing", "severity": "SEV3"}).get_json()["id"]

    update = responder.post(f"/api/v1/incidents/{incident_id}/updates",
                            json={"status": "identified", "message": "Found it"})
    assert update.status_code == 201 and update.get_json()["status"] == "identified"
    assert responder.post(f"/api/v1/incidents/{incident_id}/updates",
                          json={"status": "dancing", "message": "x"}).get_json()["fields"] == {
        "status": "Not a valid choice."}
    future = responder.post(f"/api/v1/incidents/{incident_id}/notes",
                            json={"text": "x", "happened_at": "2026-11-18T10:05:00+00:00"})
    assert future.status_code == 422 and "happened_at" in future.get_json()["fields"]
    missing = responder.post(f"/api/v1/incidents/{incident_id}/resolve", json={"resolution": " "})
    assert missing.status_code == 422 and "resolution" in missing.get_json()["fields"]

    resolved = responder.post(f"/api/v1/incidents/{incident_id}/resolve", json={"resolution": "Rerun fixed it"})
    assert resolved.status_code == 200 and resolved.get_json()["status"] == "resolved"
    late = responder.post(f"/api/v1/incidents/{incident_id}/updates", json={"status": "monitoring", "message": "x"})
    assert late.status_code == 422 and "status" in late.get_json()["fields"]
    assert responder.get("/api/v1/incidents/2147483648").status_code == 404


def test_an_alert_in_an_incident_says_so_in_its_json(app, clock, responder):
    alert, _created = alerting.raise_alert(summary="Orders stuck", source="api")
    db.session.commit()
    incident_id = responder.post("/api/v1/incidents", json={"title": "Orders", "severity": "SEV2",
                                                             "alert_id": alert.id}).get_json()["id"]

    body = responder.get(f"/api/v1/alerts/{alert.id}").get_json()

    assert body["status"] == "acknowledged"
    assert [(item["kind"], item["id"], item["text"]) for item in body["attached_to"]] == [
        ("incident", incident_id, f"INC-{incident_id} SEV2 (investigating)")]


def test_the_figures_of_a_quarter_and_a_bad_quarter(app, clock, responder):
    first = responder.post("/api/v1/incidents", json={"title": "A", "severity": "SEV2",
                                                       "detected_at": "2026-11-18T09:50:00+00:00"}).get_json()["id"]
    clock.shift(timedelta(minutes=30))
    review.resolve(first, resolution="Fixed", actor=responder.user)

    body = responder.get("/api/v1/incidents/metrics?quarter=FY27-Q4").get_json()

    assert body["by_severity"] == {"SEV1": 0, "SEV2": 1, "SEV3": 0, "SEV4": 0}
    assert body["time_to_acknowledge"] == {"mean_seconds": 600, "p90_seconds": 600}
    assert body["time_to_resolve"] == {"mean_seconds": 2400, "p90_seconds": 2400}
    bad = responder.get("/api/v1/incidents/metrics?quarter=Q9")
    assert bad.status_code == 422 and "quarter" in bad.get_json()["fields"]


def test_runbooks_in_use_by_slug_and_alerts_attached_later(app, clock, responder):
    incident_id = responder.post("/api/v1/incidents", json={"title": "ERP", "severity": "SEV2"}).get_json()["id"]
    alert, _created = alerting.raise_alert(summary="ERP slow", source="api")
    db.session.commit()

    ran = responder.post(f"/api/v1/incidents/{incident_id}/runbooks",
                         json={"runbook_slug": "erp-failover-failback", "outcome": "Failed over in 12 min"})
    attached = responder.post(f"/api/v1/incidents/{incident_id}/alerts", json={"alert_id": alert.id})
    again = responder.post(f"/api/v1/incidents/{incident_id}/alerts", json={"alert_id": alert.id})

    assert ran.get_json()["runbooks"] == [{"slug": "erp-failover-failback", "outcome": "Failed over in 12 min"}]
    assert [(a["id"], a["role"]) for a in attached.get_json()["alerts"]] == [(alert.id, "attached")]
    assert again.status_code == 409
    bad = responder.post(f"/api/v1/incidents/{incident_id}/runbooks", json={"runbook_slug": "../../etc"})
    assert bad.status_code == 422 and "runbook_slug" in bad.get_json()["fields"]
