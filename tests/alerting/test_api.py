"""API /api/v1/alerts: raise (201, or 200 when merged), list, read, and idempotent ack / resolve / escalate."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.alerting.engine import run_engine_tick
from app.alerting.models import Alert, OutboundMessage
from app.extensions import db
from app.oncall import policies
from tests.alerting.test_actions import reachable

ACTORS = ["responder", "crisis_team", "admin"]


def alert_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Alert))


@pytest.fixture
def policy(make_user):
    """A one-step policy paging a responder with a verified SMS number."""
    rowan = make_user("responder", name="Rowan")
    reachable(rowan, address="+14155550101")
    return policies.save_policy(None, name="Billing", steps=[{"delay_minutes": 10, "targets": [{"user_id": rowan.id}]}])


@pytest.fixture
def api(api_as):
    return api_as("responder", name="Priya")


def raise_via(api, **body):
    body.setdefault("summary", "ERP billing job missed its run")
    return api.post("/api/v1/alerts", json=body)


# --- raising -----------------------------------------------------------------------------------------------

def test_raising_answers_201_with_the_alert_and_queues_its_first_page(api, policy):
    response = raise_via(api, details="Job 42 exited 3", severity="high", dedup_key="erp-billing",
                         escalation_policy_id=policy.id)

    assert response.status_code == 201
    body = response.get_json()
    assert {key: body[key] for key in ("summary", "details", "severity", "source", "dedup_key", "status",
                                       "created_by", "policy_id", "merged_count")} == {
        "summary": "ERP billing job missed its run", "details": "Job 42 exited 3", "severity": "high",
        "source": "api", "dedup_key": "erp-billing", "status": "triggered", "created_by": "Priya",
        "policy_id": policy.id, "merged_count": 0}
    assert body["escalation"]["policy_name"] == "Billing" and body["escalation"]["last_paged_step"] == 1
    assert body["url"].endswith(f"/alerts/{body['id']}")
    assert db.session.scalars(select(OutboundMessage.address).where(OutboundMessage.alert_id == body["id"])).all() \
        == ["+14155550101"]


def test_the_same_dedup_key_merges_into_the_open_alert_with_200_and_pages_nobody_again(api, policy):
    first = raise_via(api, dedup_key="erp-billing", escalation_policy_id=policy.id).get_json()

    again = raise_via(api, summary="ERP billing job missed its run again", dedup_key="erp-billing",
                      escalation_policy_id=policy.id)

    assert again.status_code == 200
    assert (again.get_json()["id"], again.get_json()["merged_count"]) == (first["id"], 1)
    assert alert_count() == 1
    assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == 1


def test_a_resolved_alerts_key_opens_a_new_alert(api):
    first = raise_via(api, dedup_key="erp-billing").get_json()
    api.post(f"/api/v1/alerts/{first['id']}/resolve")

    again = raise_via(api, dedup_key="erp-billing")

    assert again.status_code == 201 and again.get_json()["id"] != first["id"]


def test_only_summary_is_required_and_severity_defaults_to_critical(api):
    body = api.post("/api/v1/alerts", json={"summary": "Disk full"}).get_json()

    assert (body["severity"], body["dedup_key"], body["policy_id"], body["escalation"]["steps"]) == \
        ("critical", None, None, 0)


@pytest.mark.parametrize("body, field", [
    ({"summary": ""}, "summary"),
    ({"summary": "x" * 201}, "summary"),
    ({"severity": "urgent"}, "severity"),
    ({"escalation_policy_id": 987654}, "escalation_policy_id"),
    ({"escalation_policy_id": "billing"}, "escalation_policy_id"),
    ({"dedup_key": "k" * 201}, "dedup_key"),
    ({"priority": "P1"}, "priority"),
])
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(api, body, field):
    response = raise_via(api, **body)

    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert alert_count() == 0


def test_a_body_that_is_not_json_is_a_400(api):
    response = api.post("/api/v1/alerts", data="summary=Disk full", headers={"Content-Type": "text/plain"})

    assert response.status_code == 400 and response.is_json


@pytest.mark.parametrize("role", ACTORS)
def test_responders_the_crisis_team_and_admins_may_raise(api_as, role):
    assert raise_via(api_as(role)).status_code == 201


def test_an_executive_may_read_but_not_raise_or_act(api_as, api):
    alert = raise_via(api).get_json()
    executive = api_as("executive")

    assert raise_via(executive).status_code == 403
    for action in ("ack", "resolve", "escalate"):
        assert executive.post(f"/api/v1/alerts/{alert['id']}/{action}").status_code == 403
    assert executive.get(f"/api/v1/alerts/{alert['id']}").status_code == 200
    assert executive.get("/api/v1/alerts").get_json()["total"] == 1
    assert db.session.get(Alert, alert["id"]).status == "triggered"


def test_without_a_token_it_is_a_401(client):
    assert client.post("/api/v1/alerts", json={"summary": "Disk full"}).status_code == 401


# --- reading -----------------------------------------------------------------------------------------------

def test_the_list_is_open_first_filtered_and_paged_with_a_total(api):
    ids = [raise_via(api, summary=f"alert {n}", severity="low" if n % 2 else "high").get_json()["id"] for n in range(5)]
    api.post(f"/api/v1/alerts/{ids[4]}/resolve")

    everything = api.get("/api/v1/alerts").get_json()
    assert [item["id"] for item in everything["items"]] == [ids[3], ids[2], ids[1], ids[0], ids[4]]
    assert everything["total"] == 5

    page = api.get("/api/v1/alerts?status=open&per_page=2&page=2").get_json()
    assert ([item["id"] for item in page["items"]], page["total"], page["pages"], page["page"]) == \
        ([ids[1], ids[0]], 4, 2, 2)
    assert {item["id"] for item in api.get("/api/v1/alerts?severity=low").get_json()["items"]} == {ids[1], ids[3]}


@pytest.mark.parametrize("query, field", [("status=closed", "status"), ("severity=urgent", "severity")])
def test_an_unknown_list_filter_is_a_422_naming_it(api, query, field):
    response = api.get(f"/api/v1/alerts?{query}")

    assert response.status_code == 422 and field in response.get_json()["fields"]


def test_one_alert_comes_with_its_timeline_oldest_first_and_its_messages(api, policy):
    alert = raise_via(api, escalation_policy_id=policy.id).get_json()
    run_engine_tick()

    body = api.get(f"/api/v1/alerts/{alert['id']}").get_json()

    kinds = [event["kind"] for event in body["timeline"]]
    assert kinds[:2] == ["triggered", "escalated"] and kinds[-1] == "notified"
    assert [event["at"] for event in body["timeline"]] == sorted(event["at"] for event in body["timeline"])
    assert body["timeline"][0]["actor"] == "Priya"
    assert [(m["address"], m["status"], m["channel"], m["attempts"]) for m in body["messages"]] == \
        [("+14155550101", "sent", "console", 1)]


def test_an_unknown_alert_is_a_json_404(api):
    for response in (api.get("/api/v1/alerts/4242"), api.post("/api/v1/alerts/4242/ack")):
        assert response.status_code == 404 and response.is_json


# --- acting ------------------------------------------------------------------------------------------------

def test_acknowledging_twice_changes_it_once(api, policy):
    alert = raise_via(api, escalation_policy_id=policy.id).get_json()

    first = api.post(f"/api/v1/alerts/{alert['id']}/ack")
    second = api.post(f"/api/v1/alerts/{alert['id']}/ack")

    assert first.status_code == second.status_code == 200
    assert first.get_json()["changed"] is True and second.get_json()["changed"] is False
    assert second.get_json()["alert"]["status"] == "acknowledged"
    assert second.get_json()["alert"]["acknowledged_by"] == "Priya"
    assert second.get_json()["alert"]["ack_deadline"] is not None  # the policy's 60-minute ack timeout


def test_resolving_takes_an_optional_note_and_is_idempotent(api):
    alert = raise_via(api).get_json()

    first = api.post(f"/api/v1/alerts/{alert['id']}/resolve", json={"note": "Re-ran job 42."})
    second = api.post(f"/api/v1/alerts/{alert['id']}/resolve")

    assert (first.get_json()["changed"], second.get_json()["changed"]) == (True, False)
    timeline = api.get(f"/api/v1/alerts/{alert['id']}").get_json()["timeline"]
    resolved = [event for event in timeline if event["kind"] == "resolved"]
    assert len(resolved) == 1 and "Re-ran job 42." in resolved[0]["text"] and "via API" in resolved[0]["text"]


def test_a_resolve_note_that_is_too_long_is_a_422_and_nothing_changes(api):
    alert = raise_via(api).get_json()

    response = api.post(f"/api/v1/alerts/{alert['id']}/resolve", json={"note": "x" * 301})

    assert response.status_code == 422 and "note" in response.get_json()["fields"]
    assert db.session.get(Alert, alert["id"]).status == "triggered"


def test_escalating_pages_the_next_step_and_a_resolved_alert_is_not_escalated(api, policy):
    alert = raise_via(api, escalation_policy_id=policy.id).get_json()

    escalated = api.post(f"/api/v1/alerts/{alert['id']}/escalate").get_json()
    api.post(f"/api/v1/alerts/{alert['id']}/resolve")
    after = api.post(f"/api/v1/alerts/{alert['id']}/escalate").get_json()

    assert escalated["changed"] is True and escalated["alert"]["status"] == "triggered"
    assert after["changed"] is False and after["alert"]["status"] == "resolved"
