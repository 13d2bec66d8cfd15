"""Every API endpoint that takes a date and time refuses one without a UTC offset: a 422 naming the field.

A client's "09:00" could be anywhere; "09:00Z" or "09:00-08:00" cannot. The last test reads the OpenAPI document,
so an endpoint added later with a date-time in its body must join the table below.
"""
from __future__ import annotations

from datetime import date, time

import pytest

from app.incidents import services as incidents
from app.oncall import policies, rotations, schedules
from app.watchlist import services as watchlist
from tests.drtests.conftest import make_exercise, make_template  # noqa: F401

NAIVE = "2027-01-26T09:00"


@pytest.fixture
def targets(app, make_user, make_exercise):
    person = make_user("responder")
    rotation = rotations.create_rotation(name="R", time_zone="UTC", start_date=date(2026, 1, 5),
                                         start_time=time(9), handoff_kind="weekly", shift_length=1,
                                         member_ids=[person.id])
    schedule = schedules.create_schedule(name="S")
    schedules.add_layer(schedule, rotation_id=rotation.id, time_zone="UTC", days=[0, 1, 2, 3, 4],
                        start_time=time(9), end_time=time(17))
    policy = policies.save_policy(None, name="P", steps=[{"delay_minutes": 5, "targets": [{"user_id": person.id}]}])
    app_row = watchlist.save_app(None, name="ERP")
    job = watchlist.save_job(None, app_id=app_row.id, name="GL posting", schedule_kind="interval",
                             interval_minutes=60, time_zone="UTC")
    exercise = make_exercise()
    incident = incidents.declare(title="Billing run failed", severity="SEV3", declared_by=person)
    return {"person": person.id, "schedule": schedule.id, "policy": policy.id, "job": job.id,
            "exercise": exercise.id, "template": exercise.template_id, "version": exercise.version,
            "incident_id": incident.id}


ENDPOINTS = [
    # method, url, body (None: the instant goes in the query string), the field named
    ("POST", "/api/v1/schedules/{schedule}/overrides",
     lambda t: {"user_id": t["person"], "mode": "add", "start_at": NAIVE, "end_at": "2027-01-26T17:00Z"}, "start_at"),
    ("POST", "/api/v1/schedules/{schedule}/overrides",
     lambda t: {"user_id": t["person"], "mode": "add", "start_at": "2027-01-26T09:00Z", "end_at": NAIVE}, "end_at"),
    ("GET", "/api/v1/schedules/{schedule}/oncall?at=" + NAIVE, None, "at"),
    ("GET", "/api/v1/schedules/{schedule}/timeline?start=" + NAIVE, None, "start"),
    ("GET", "/api/v1/escalation-policies/{policy}/effective-steps?at=" + NAIVE, None, "at"),
    ("POST", "/api/v1/drtests/exercises",
     lambda t: {"template_id": t["template"], "kind": "simulation", "scheduled_for": NAIVE}, "scheduled_for"),
    ("PATCH", "/api/v1/drtests/exercises/{exercise}", lambda t: {"scheduled_for": NAIVE, "version": t["version"]},
     "scheduled_for"),
    ("POST", "/api/v1/drtests/exercises/{exercise}/replication",
     lambda t: {"last_replicated_at": NAIVE, "version": t["version"]}, "last_replicated_at"),
    ("POST", "/api/v1/watchlist/jobs/{job}/maintenance-windows",
     lambda t: {"kind": "once", "starts_at": NAIVE, "ends_at": "2027-01-26T11:00Z"}, "starts_at"),
    ("POST", "/api/v1/watchlist/jobs/{job}/maintenance-windows",
     lambda t: {"kind": "once", "starts_at": "2027-01-26T09:00Z", "ends_at": NAIVE}, "ends_at"),
    ("POST", "/api/v1/incidents", lambda t: {"title": "T", "severity": "SEV3", "detected_at": NAIVE}, "detected_at"),
    ("POST", "/api/v1/incidents", lambda t: {"title": "T", "severity": "SEV3", "started_at": NAIVE}, "started_at"),
    ("POST", "/api/v1/incidents/{incident_id}/notes", lambda t: {"text": "Seen earlier", "happened_at": NAIVE},
     "happened_at"),
    ("POST", "/api/v1/incidents/{incident_id}/tasks", lambda t: {"title": "Call the bank", "due_at": NAIVE}, "due_at"),
]


@pytest.mark.parametrize("method, url, body, field", ENDPOINTS,
                         ids=[f"{m} {u.split('?')[0]} {f}" for m, u, _b, f in ENDPOINTS])
def test_a_datetime_without_an_offset_is_a_422_naming_the_field(api_as, targets, method, url, body, field):
    api = api_as("admin")
    sent = body(targets) if body else None

    response = api.client.open(url.format(**targets), method=method, json=sent,
                               headers={"Authorization": f"Bearer {api.token}"})

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"]
    assert "offset" in response.get_json()["fields"][field]


@pytest.mark.parametrize("method, url, body, field", ENDPOINTS[:1] + ENDPOINTS[5:6],
                         ids=["override", "exercise"])
def test_the_same_time_with_an_offset_is_taken(api_as, targets, method, url, body, field):
    api = api_as("admin")
    sent = body(targets) | {field: "2027-01-26T01:00:00-08:00"}  # 09:00 UTC

    response = api.client.open(url.format(**targets), method=method, json=sent,
                               headers={"Authorization": f"Bearer {api.token}"})

    assert response.status_code == 201, response.get_json()


def test_every_date_time_in_a_request_body_is_in_the_table(client):
    document = client.get("/api/v1/openapi.json").get_json()
    found = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            for name, prop in schema.get("properties", {}).items():
                if prop.get("format") == "date-time":
                    found.add((method.upper(), path, name))
    covered = {(method, url.split("?")[0].replace("{schedule}", "{schedule_id}").replace("{job}", "{job_id}")
                .replace("{exercise}", "{exercise_id}"), field)
               for method, url, body, field in ENDPOINTS if body is not None}
    assert found, "the document lists no date-time field: the walk above found nothing to compare"
    assert found <= covered, f"not tested for naive datetimes: {sorted(found - covered)}"
