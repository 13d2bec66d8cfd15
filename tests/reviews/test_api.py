"""The weekly review's API: build, read, decide, finish and the minutes."""
from __future__ import annotations

from datetime import timedelta

from tests.risks.fixtures import TUESDAY


def test_a_meeting_runs_through_the_api(app, api_as, make_risk, at):
    with at(TUESDAY - timedelta(days=1)):
        risk = make_risk(title="Order import backlog", likelihood=4, impact=4)
    api = api_as("crisis_team")
    with at(TUESDAY):
        built = api.post("/api/v1/reviews")
        again = api.post("/api/v1/reviews")
    assert (built.status_code, again.status_code) == (201, 200)
    review = built.get_json()
    assert again.get_json()["id"] == review["id"] and review["week"] == "2026-W47"
    item = review["items"][0]
    assert (item["risk_id"], item["reasons"], item["snapshot"]["level"]) == (risk.id, ["new"], "high")

    refused = api.post(f"/api/v1/reviews/{review['id']}/items/{item['id']}/decision", json={"decision": "maybe"})
    assert refused.status_code == 422 and "decision" in refused.get_json()["fields"]
    decided = api.post(f"/api/v1/reviews/{review['id']}/items/{item['id']}/decision",
                       json={"decision": "change_score", "likelihood": 3, "impact": 4, "note": "Better"})
    assert decided.status_code == 200
    assert [(d["decision"], d["outcome"], d["note"]) for d in decided.get_json()["decisions"]] == [
        ("change_score", "Residual score 4×4 (high) → 3×4 (high).", "Better")]
    twice = api.post(f"/api/v1/reviews/{review['id']}/items/{item['id']}/decision",
                     json={"decision": "change_score", "likelihood": 2, "impact": 4})
    assert twice.status_code == 409 and "decision" in twice.get_json()["fields"]
    kept = api.post(f"/api/v1/reviews/{review['id']}/items/{item['id']}/decision", json={"decision": "keep"})
    assert kept.status_code == 409  # keeping it as is would contradict the change just made

    no_one = api.post(f"/api/v1/reviews/{review['id']}/finish", json={"summary": "x"})
    assert no_one.status_code == 422 and "attendee_ids" in no_one.get_json()["fields"]
    finished = api.post(f"/api/v1/reviews/{review['id']}/finish", json={"attendee_ids": [api.user.id]})
    assert finished.get_json()["status"] == "finished" and finished.get_json()["attendees"] == [api.user.name]
    minutes = api.get(f"/api/v1/reviews/{review['id']}/minutes").get_json()["markdown"]
    assert "Change the score" in minutes and "Better" in minutes
    listed = api.get("/api/v1/reviews").get_json()
    assert [r["week"] for r in listed["items"]] == ["2026-W47"] and "items" not in listed["items"][0]


def test_readers_read_reviews_but_do_not_run_them(app, api_as, at):
    builder = api_as("admin")
    with at(TUESDAY):
        review = builder.post("/api/v1/reviews").get_json()
    reader = api_as("executive")
    assert reader.get(f"/api/v1/reviews/{review['id']}").status_code == 200
    assert reader.post("/api/v1/reviews").status_code == 403
    assert reader.post(f"/api/v1/reviews/{review['id']}/finish", json={"attendee_ids": [1]}).status_code == 403
    assert reader.get("/api/v1/reviews/999").status_code == 404
