"""API: /api/v1/escalation-policies with nested steps, and the steps in effect at an instant."""
from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.oncall.models import EscalationPolicy, EscalationStep
from app.timeutil import UTC

URL = "/api/v1/escalation-policies"
READERS = ["responder", "executive"]


def policy_count() -> int:
    return db.session.scalar(select(func.count()).select_from(EscalationPolicy))


def resolve(value, ids: dict):
    """A copy of `value` with the placeholders "casey" and "sun" replaced by the ids the fixtures created."""
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    return ids.get(value, value) if isinstance(value, str) else value


@pytest.fixture
def ids(make_user, make_schedule):
    sun = make_schedule("Follow the sun")
    casey = make_user("crisis_team", email="casey@example.com", name="Casey Crisis")
    avery = make_user("admin", email="avery@example.com", name="Avery Admin")
    return {"sun": sun.id, "casey": casey.id, "avery": avery.id}


@pytest.fixture
def body(ids) -> dict:
    return {"name": "Critical jobs", "description": "Pages the on-call", "repeat": 2, "close_mode": True,
            "close_mode_max_delay": 2,
            "steps": [{"delay_minutes": 5, "targets": [{"schedule_id": ids["sun"]}]},
                      {"delay_minutes": 10, "targets": [{"user_id": ids["casey"]}]},
                      {"delay_minutes": 15, "targets": [{"user_id": ids["avery"]}]}]}


@pytest.fixture
def saved(api_as, body) -> dict:
    response = api_as("admin").post(URL, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_editor_creates_a_policy_with_its_steps(api_as, body, ids):
    response = api_as("crisis_team").post(URL, json=body)

    assert response.status_code == 201
    created = response.get_json()
    assert {k: created[k] for k in ("name", "description", "repeat", "close_mode", "close_mode_max_delay")} == \
        {"name": "Critical jobs", "description": "Pages the on-call", "repeat": 2, "close_mode": True,
         "close_mode_max_delay": 2}
    assert created["steps"] == [
        {"delay_minutes": 5, "targets": [{"schedule_id": ids["sun"], "name": "Follow the sun"}]},
        {"delay_minutes": 10, "targets": [{"user_id": ids["casey"], "name": "Casey Crisis",
                                           "email": "casey@example.com"}]},
        {"delay_minutes": 15, "targets": [{"user_id": ids["avery"], "name": "Avery Admin",
                                           "email": "avery@example.com"}]}]
    assert db.session.get(EscalationPolicy, created["id"]).steps[2].delay_minutes == 15


def test_optional_fields_take_their_defaults(api_as, ids):
    response = api_as("admin").post(URL, json={"name": "Minimal", "steps": [
        {"delay_minutes": 5, "targets": [{"user_id": ids["casey"]}]}]})

    assert response.status_code == 201
    created = response.get_json()
    assert (created["description"], created["repeat"], created["close_mode"], created["close_mode_max_delay"]) == \
        ("", 0, False, 5)


def test_everyone_reads_the_policies(api_as, saved):
    api = api_as("executive")

    listed = api.get(URL)
    one = api.get(f"{URL}/{saved['id']}")

    assert listed.status_code == 200 and listed.get_json() == [saved]
    assert one.status_code == 200 and one.get_json() == saved


def test_an_unknown_policy_is_404(api_as):
    response = api_as("executive").get(f"{URL}/999")

    assert response.status_code == 404
    assert response.get_json()["error"] == "No such escalation policy."


@pytest.mark.parametrize("change, field", [
    ({"name": None}, "name"),
    ({"repeat": 10}, "repeat"),
    ({"repeat": "twice"}, "repeat"),
    ({"close_mode_max_delay": 61}, "close_mode_max_delay"),
    ({"colour": "red"}, "colour"),
    ({"steps": None}, "steps"),
    ({"steps": []}, "steps"),
    ({"steps": [5]}, "steps[0]"),
    ({"steps": [{"delay_minutes": 0, "targets": [{"user_id": "casey"}]}]}, "steps[0].delay_minutes"),
    ({"steps": [{"delay_minutes": 5, "targets": [{"user_id": "casey"}]}, {"delay_minutes": 5, "targets": []}]},
     "steps[1].targets"),
    ({"steps": [{"delay_minutes": 5, "targets": [{"user_id": "casey", "schedule_id": "sun"}]}]},
     "steps[0].targets[0]"),
    ({"steps": [{"delay_minutes": 5, "targets": [{"user_id": 99999}]}]}, "steps[0].targets[0].user_id"),
    ({"steps": [{"delay_minutes": 5, "targets": [{"schedule_id": 99999}]}]}, "steps[0].targets[0].schedule_id"),
    ({"steps": [{"delay_minutes": 5, "targets": [{"user_id": "casey"}, {"user_id": "casey"}]}]},
     "steps[0].targets[1]"),
    ({"steps": [{"delay_minutes": 5, "targets": [{"user_id": "casey"}], "order": 1}]}, "steps[0].order"),
])
def test_an_invalid_policy_is_a_422_naming_the_field(api_as, body, ids, change, field):
    payload = {k: v for k, v in {**body, **resolve(change, ids)}.items() if not (k == "name" and v is None)}

    response = api_as("crisis_team").post(URL, json=payload)

    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert (policy_count(), db.session.scalar(select(func.count()).select_from(EscalationStep))) == (0, 0)


def test_a_taken_name_is_a_409_naming_it(api_as, body, saved):
    response = api_as("admin").post(URL, json=body)

    assert response.status_code == 409
    assert response.get_json()["fields"] == {"name": "A policy named Critical jobs already exists."}


def test_a_body_that_is_not_json_is_a_400(api_as):
    response = api_as("admin").post(URL, data="name=x")

    assert response.status_code == 400


def test_a_patch_without_steps_keeps_them(api_as, saved):
    response = api_as("crisis_team").patch(f"{URL}/{saved['id']}", json={"repeat": 0, "close_mode": False})

    assert response.status_code == 200
    changed = response.get_json()
    assert (changed["repeat"], changed["close_mode"], changed["name"]) == (0, False, "Critical jobs")
    assert changed["steps"] == saved["steps"]


def test_a_patch_with_steps_replaces_them_and_takes_back_what_get_returned(api_as, saved):
    steps = saved["steps"][::-1]  # as read, names and emails included

    response = api_as("crisis_team").patch(f"{URL}/{saved['id']}", json={"steps": steps})

    assert response.status_code == 200
    assert [step["delay_minutes"] for step in response.get_json()["steps"]] == [15, 10, 5]


def test_a_refused_patch_leaves_the_policy_as_it_was(api_as, saved, ids):
    broken = [{"delay_minutes": 5, "targets": [{"user_id": ids["casey"]}]}, {"delay_minutes": 5, "targets": []}]

    response = api_as("crisis_team").patch(f"{URL}/{saved['id']}", json={"name": "Renamed", "steps": broken})

    assert response.status_code == 422
    assert response.get_json()["fields"] == {"steps[1].targets": "Choose at least one schedule or person to notify."}
    assert api_as("executive").get(f"{URL}/{saved['id']}").get_json() == saved


def test_an_editor_deletes_a_policy(api_as, saved):
    api = api_as("crisis_team")

    response = api.delete(f"{URL}/{saved['id']}")

    assert response.status_code == 200 and response.get_json() == {"deleted": saved["id"]}
    assert api.get(f"{URL}/{saved['id']}").status_code == 404


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_readers_cannot_write_policies(api_as, saved, body, role, method):
    api = api_as(role)
    url = URL if method == "post" else f"{URL}/{saved['id']}"

    response = getattr(api, method)(url, **({} if method == "delete" else {"json": {**body, "name": "Mine"}}))

    assert response.status_code == 403
    assert api.get(URL).get_json() == [saved]


def test_policies_need_a_token(client):
    assert client.get(URL).status_code == 401


# --- effective steps ---------------------------------------------------------------------------------------

# Q4 FY27's close window is Tue 2027-01-26 00:00 UTC to the end of Wed 2027-02-03 (BD-3..BD+3, weekdays only).
@pytest.mark.config(FISCAL_YEAR_START_MONTH=2)
@pytest.mark.parametrize("at, in_window, delays, voice_first", [
    ("2027-01-26T00:00:00Z", True, [2, 2, 2], True),  # min(5, 2), min(10, 2), min(15, 2)
    ("2027-01-26T01:00:00+02:00", False, [5, 10, 15], False),  # 2027-01-25 23:00 UTC: the day before
    ("2027-02-03T23:59:00Z", True, [2, 2, 2], True),
    ("2027-02-04T00:00:00Z", False, [5, 10, 15], False),
])
def test_effective_steps_apply_close_mode_inside_the_window(api_as, saved, at, in_window, delays, voice_first):
    response = api_as("responder").get(f"{URL}/{saved['id']}/effective-steps", query_string={"at": at})

    assert response.status_code == 200
    result = response.get_json()
    assert (result["in_close_window"], result["repeat"]) == (in_window, 2)
    assert [step["delay_minutes"] for step in result["steps"]] == delays
    assert {step["voice_first"] for step in result["steps"]} == {voice_first}
    assert result["steps"][0]["targets"] == [{"schedule_id": saved["steps"][0]["targets"][0]["schedule_id"],
                                             "name": "Follow the sun"}]


@pytest.mark.config(FISCAL_YEAR_START_MONTH=2)
def test_effective_steps_default_to_now(api_as, saved):
    with time_machine.travel(datetime(2027, 1, 27, 9, tzinfo=UTC), tick=False):
        result = api_as("executive").get(f"{URL}/{saved['id']}/effective-steps").get_json()

    assert result["at"] == "2027-01-27T09:00:00+00:00"
    assert [step["delay_minutes"] for step in result["steps"]] == [2, 2, 2]


def test_an_unencoded_plus_in_at_still_reads_as_an_offset(api_as, saved):
    # A client that pastes "+01:00" into a query string sends a space instead.
    response = api_as("executive").get(f"{URL}/{saved['id']}/effective-steps?at=2027-01-26T00:30:00+01:00")

    assert response.status_code == 200
    assert response.get_json()["at"] == "2027-01-25T23:30:00+00:00"


@pytest.mark.parametrize("at", ["yesterday", "2027-13-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"])
def test_a_bad_at_is_a_400_naming_it(api_as, saved, at):
    response = api_as("executive").get(f"{URL}/{saved['id']}/effective-steps", query_string={"at": at})

    assert response.status_code == 400
    assert list(response.get_json()["fields"]) == ["at"]


# --- the document ------------------------------------------------------------------------------------------

def test_the_document_describes_the_nested_steps(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    create = paths[URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    patch = paths[URL + "/{policy_id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(create["required"]) == {"name", "steps"}
    assert set(create["properties"]) == {"name", "description", "repeat", "close_mode", "close_mode_max_delay",
                                         "ack_timeout_minutes",
                                         "steps"}
    assert create["properties"]["steps"]["items"]["properties"]["delay_minutes"]["maximum"] == 1440
    assert create["properties"]["repeat"] == {"type": "integer", "description": create["properties"]["repeat"][
        "description"], "minimum": 0, "maximum": 9}
    assert "required" not in patch and "steps" in patch["properties"]
    effective = paths[URL + "/{policy_id}/effective-steps"]["get"]
    assert [p["name"] for p in effective["parameters"] if p["in"] == "query"] == ["at"]
