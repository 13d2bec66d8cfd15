"""GET /api/v1/readiness and the checklist and lessons endpoints, by role."""
from __future__ import annotations

import pytest

from app.readiness import checklist
from app.timeutil import fiscal_quarter

Q4 = fiscal_quarter(2027, 4)


@pytest.fixture
def owned_item(app, make_user):
    owner = make_user("responder", name="Owen Owner")
    checklist.save_template_item(title="Refresh contacts", track="people", owner_id=owner.id, bd_offset=-20,
                                 evidence_required=True)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    return checklist.quarter_items(Q4)[0]


def test_an_executive_reads_score_colour_gates_tracks_reasons_and_trend(api_as, make_risk):
    risk = make_risk(likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
    body = api_as("executive").get("/api/v1/readiness?quarter=FY27-Q4").get_json()
    assert body["quarter"] == "FY27-Q4" and body["close_day"] == "2027-01-29"
    assert body["colour"] == "amber" and body["gates"][0]["text"] == "No DR test passed this quarter"
    risks = next(track for track in body["tracks"] if track["track"] == "risks")
    assert risks["score"] == 85 and risks["reasons"][0]["url"] == f"/risks/{risk.id}"
    jobs = next(track for track in body["tracks"] if track["track"] == "jobs")
    assert jobs["score"] is None and jobs["colour"] == "grey"
    assert body["trend"] == {"since_week": None, "since_start": None, "points": []}


def test_a_malformed_quarter_is_a_422_naming_the_field(api_as):
    response = api_as("executive").get("/api/v1/readiness?quarter=Q4-2027")
    assert response.status_code == 422 and "quarter" in response.get_json()["fields"]


def test_the_checklist_is_listed_with_due_dates_and_overdue_flags(api_as, owned_item):
    [item] = api_as("executive").get("/api/v1/readiness/checklist?quarter=FY27-Q4").get_json()
    assert (item["id"], item["due_on"], item["status"], item["overdue"]) == (owned_item.id, "2027-01-01", "todo",
                                                                              False)


def test_only_editors_create_a_checklist_and_a_repeat_creates_nothing(api_as):
    assert api_as("executive").post("/api/v1/readiness/checklist?quarter=FY28-Q1").status_code == 403
    crisis = api_as("crisis_team")
    assert crisis.post("/api/v1/readiness/checklist?quarter=FY28-Q1").get_json() == {"created": 0}


def test_the_owner_completes_their_item_with_evidence(app, owned_item):
    from app.auth import services as auth
    from tests.conftest import ApiClient
    _token, raw = auth.create_token(owned_item.owner, name="tests")
    owner = ApiClient(app.test_client(), raw, owned_item.owner)
    url = f"/api/v1/readiness/items/{owned_item.id}"
    missing = owner.patch(url, json={"status": "done"})
    assert missing.status_code == 422 and "evidence" in missing.get_json()["fields"]
    done = owner.patch(url, json={"status": "done", "evidence": "https://wiki.example/contacts"})
    assert done.status_code == 200 and done.get_json()["done_by_id"] == owned_item.owner_id


@pytest.mark.parametrize("role", ["responder", "executive"])
def test_someone_elses_item_is_a_403(api_as, owned_item, role):
    response = api_as(role).patch(f"/api/v1/readiness/items/{owned_item.id}", json={"status": "doing"})
    assert response.status_code == 403


def test_an_unknown_status_is_a_422(api_as, owned_item):
    response = api_as("crisis_team").patch(f"/api/v1/readiness/items/{owned_item.id}", json={"status": "finished"})
    assert response.status_code == 422 and "status" in response.get_json()["fields"]


def test_lessons_are_recorded_by_editors_and_joined_to_an_existing_checklist(api_as, owned_item):
    assert api_as("executive").post("/api/v1/readiness/lessons", json={}).status_code == 403
    crisis = api_as("crisis_team")
    response = crisis.post("/api/v1/readiness/lessons", json={
        "title": "Stale numbers", "recommendation": "Confirm by BD-20", "learned_in": "FY27-Q3",
        "target_quarter": "FY27-Q4"})
    assert response.status_code == 201 and response.get_json()["status"] == "open"
    items = crisis.get("/api/v1/readiness/checklist?quarter=FY27-Q4").get_json()
    assert [item["lesson_id"] for item in items] == [None, response.get_json()["id"]]
    backwards = crisis.post("/api/v1/readiness/lessons", json={
        "title": "x", "recommendation": "y", "learned_in": "FY27-Q4", "target_quarter": "FY27-Q3"})
    assert backwards.status_code == 422 and "target_quarter" in backwards.get_json()["fields"]
    assert [lesson["title"] for lesson in crisis.get("/api/v1/readiness/lessons").get_json()] == ["Stale numbers"]
