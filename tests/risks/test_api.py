"""The register's API: list with the page's filters, one risk, create, change, transitions, actions, CSV."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from app.risks import actions
from app.risks import register_csv as csvio
from tests.risks.fixtures import TUESDAY
from tests.risks.support import risk_fields


def body_of(owner, **fields) -> dict:
    return {key: value for key, value in risk_fields(owner, **fields).items() if value is not None}


def test_the_crisis_team_creates_a_risk_and_reads_it_back(app, api_as, owner):
    api = api_as("crisis_team")
    created = api.post("/api/v1/risks", json=body_of(owner, title="Tax engine outage", likelihood=4, impact=5,
                                                     exposure=800000))
    assert created.status_code == 201
    risk = created.get_json()
    assert (risk["reference"], risk["level"], risk["residual"], risk["exposure"]) == \
        (f"R-{risk['id']}", "critical", {"likelihood": 4, "impact": 5, "score": 20, "level": "critical"}, "800000.00")
    assert risk["history"][0]["cause"] == "created" and risk["actions"] == []
    assert api.get(f"/api/v1/risks/{risk['id']}").get_json()["title"] == "Tax engine outage"


@pytest.mark.parametrize("change, field", [
    ({"likelihood": 6}, "likelihood"), ({"category": "weather"}, "category"), ({"quarter": "soon"}, "quarter"),
    ({"colour": "red"}, "colour"), ({"owner_id": 424242}, "owner_id"),
])
def test_bad_fields_answer_422_naming_them(app, api_as, owner, change, field):
    response = api_as("crisis_team").post("/api/v1/risks", json={**body_of(owner), **change})
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_a_patch_changes_only_what_it_sends(app, api_as, make_risk):
    risk = make_risk(title="Order import backlog", likelihood=3, impact=4)
    response = api_as("admin").patch(f"/api/v1/risks/{risk.id}", json={"impact": 5})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["residual"]["likelihood"], body["residual"]["impact"], body["level"]) == \
        ("Order import backlog", 3, 5, "high")
    assert [period["cause"] for period in body["history"]] == ["created", "edit"]


def test_the_list_takes_the_registers_filters_and_sorts(app, api_as, make_risk):
    make_risk(title="Critical one", likelihood=5, impact=5)
    make_risk(title="Low one", likelihood=1, impact=1)
    make_risk(title="High one", likelihood=4, impact=4)
    api = api_as("executive")
    listed = api.get("/api/v1/risks").get_json()
    assert [item["title"] for item in listed["items"]] == ["Critical one", "High one", "Low one"]
    assert (listed["total"], listed["page"], listed["pages"]) == (3, 1, 1)
    assert [i["title"] for i in api.get("/api/v1/risks?level=low").get_json()["items"]] == ["Low one"]
    assert [i["title"] for i in api.get("/api/v1/risks?sort=title&per_page=2&page=2").get_json()["items"]] == \
        ["Low one"]


def test_transitions_follow_the_workflow_rules(app, api_as, make_risk):
    risk = make_risk()
    api = api_as("crisis_team")
    started = api.post(f"/api/v1/risks/{risk.id}/transitions", json={"transition": "start"})
    assert started.status_code == 200 and started.get_json()["status"] == "mitigating"
    refused = api.post(f"/api/v1/risks/{risk.id}/transitions", json={"transition": "close"})
    assert refused.status_code == 422 and refused.get_json()["fields"] == {"reason": "Say why the risk is closed."}
    expires = (risk.created_at.date() + timedelta(days=60)).isoformat()
    accepted = api.post(f"/api/v1/risks/{risk.id}/transitions",
                        json={"transition": "accept", "reason": "Cheaper to absorb", "expires_on": expires})
    assert accepted.get_json()["acceptance"] == {"approver_id": api.user.id, "approver_name": api.user.name,
                                                 "reason": "Cheaper to absorb", "expires_on": expires}


def test_actions_are_listed_added_changed_and_finished(app, api_as, make_risk, owner):
    risk = make_risk(quarter="Q4 FY27")
    api = api_as("crisis_team")
    added = api.post(f"/api/v1/risks/{risk.id}/actions",
                     json={"description": "Second carrier", "owner_id": owner.id, "due_on": "2027-02-10"})
    assert added.status_code == 201
    action = added.get_json()
    assert (action["status"], action["due_after_close"], action["overdue"]) == ("todo", True, False)
    changed = api.patch(f"/api/v1/risks/{risk.id}/actions/{action['id']}", json={"due_on": "2027-01-20"})
    assert changed.get_json()["due_after_close"] is False and changed.get_json()["description"] == "Second carrier"
    dropped = api.post(f"/api/v1/risks/{risk.id}/actions/{action['id']}/status", json={"status": "dropped"})
    assert dropped.status_code == 422 and "reason" in dropped.get_json()["fields"]
    done = api.post(f"/api/v1/risks/{risk.id}/actions/{action['id']}/status", json={"status": "done"})
    assert done.get_json()["status"] == "done"
    assert [a["id"] for a in api.get(f"/api/v1/risks/{risk.id}/actions").get_json()["items"]] == [action["id"]]


def test_readers_cannot_write(app, api_as, make_risk, owner):
    risk = make_risk()
    api = api_as("executive")
    assert api.get(f"/api/v1/risks/{risk.id}").status_code == 200
    assert api.post("/api/v1/risks", json=body_of(owner)).status_code == 403
    assert api.post(f"/api/v1/risks/{risk.id}/transitions", json={"transition": "start"}).status_code == 403
    assert api.get(f"/api/v1/risks/{risk.id + 1000}").status_code == 404


def test_the_csv_round_trips_through_the_api(app, api_as, make_risk):
    risk = make_risk(title="Round trip")
    api = api_as("crisis_team")
    text = api.get("/api/v1/risks/export").get_json()["csv"]
    assert text == csvio.export_csv()
    dry = api.post("/api/v1/risks/import", json={"csv": text.replace("Round trip", "Round trip edited")})
    assert dry.status_code == 200 and dry.get_json()["counts"]["update"] == 1 and not dry.get_json()["applied"]
    db.session.expire_all()
    assert db.session.get(type(risk), risk.id).title == "Round trip"
    applied = api.post("/api/v1/risks/import", json={"csv": text.replace("Round trip", "Round trip edited"),
                                                     "confirm": True})
    assert applied.get_json()["applied"] is True
    db.session.expire_all()
    assert db.session.get(type(risk), risk.id).title == "Round trip edited"
    refused = api.post("/api/v1/risks/import", json={"csv": text.replace(",3,4,", ",3,9,"), "confirm": True})
    assert refused.status_code == 422 and refused.get_json()["rows"][0]["errors"] == {
        "impact": "A whole number from 1 to 5."}


def test_the_settings_show_the_grid_and_cadence(app, api_as):
    settings = api_as("responder").get("/api/v1/risks/settings").get_json()
    assert settings["grid"][4] == ["medium", "high", "high", "critical", "critical"]
    assert settings["cadence_days"] == {"critical": 7, "high": 14, "medium": 30, "low": 91}
    assert settings["review"] == {"weekday": 1, "time": "09:00", "time_zone": "America/Los_Angeles"}


def test_the_number_of_queries_of_the_list_does_not_grow_with_the_risks(app, api_as, make_risk, make_user, at):
    api = api_as("executive")
    people = [make_user("crisis_team") for _ in range(3)]

    def queries() -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert api.get("/api/v1/risks").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    with at(TUESDAY):  # a standing clock: the token's last use is written once, not again as time passes
        first = make_risk()
        actions.add_action(first, description="x", owner_id=people[0].id, due_on=first.created_at.date())
        queries()
        few = queries()
        for number in range(25):
            more = make_risk(owner_id=people[number % 3].id)
            actions.add_action(more, description="x", owner_id=people[number % 3].id, due_on=more.created_at.date())
        assert queries() == few
