"""The JSON API for rotations, schedules, layers, overrides, who is on call and the timeline."""
from __future__ import annotations

from datetime import datetime, time

import pytest
import time_machine
from sqlalchemy import select

from app.auth.roles import Role
from app.calendar import services as calendar
from app.extensions import db
from app.oncall.models import Rotation, ScheduleOverride
from app.timeutil import UTC

NOW = datetime(2026, 11, 4, 12, tzinfo=UTC)  # Wednesday
WEEKDAYS = (0, 1, 2, 3, 4)


@pytest.fixture
def ana_ben(make_user, reachable_by):
    ana, ben = make_user(Role.RESPONDER, name="Ana"), make_user(Role.RESPONDER, name="Ben")
    reachable_by(ana, "voice")
    return ana, ben


@pytest.fixture
def weekday_schedule(make_rotation, make_oncall_schedule, ana_ben):
    """Ana then Ben, weekly from Monday 2026-11-02 09:00 UTC, on weekdays (UTC) only."""
    rotation = make_rotation(members=list(ana_ben), name="Primary rotation")
    return make_oncall_schedule("Primary", [(rotation, "UTC", WEEKDAYS, time(0), time(0))])


ROTATION = {"name": "AMER", "time_zone": "America/Los_Angeles", "start_date": "2026-11-02", "start_time": "07:00",
            "handoff_kind": "weekly", "shift_length": 1}


@time_machine.travel(NOW, tick=False)
def test_a_rotation_is_created_read_changed_and_deleted(api_as, ana_ben):
    ana, ben = ana_ben
    api = api_as(Role.CRISIS_TEAM)

    created = api.post("/api/v1/rotations", json=ROTATION | {"member_ids": [ben.id, ana.id]})
    url = f"/api/v1/rotations/{created.get_json()['id']}"
    renamed = api.patch(url, json={"name": "AMER primary"})  # the people stay as they were
    reordered = api.patch(url, json={"member_ids": [ana.id, ben.id]})
    deleted = api.delete(url)

    assert created.status_code == 201
    assert created.get_json() | {"id": 0, "members": []} == ROTATION | {
        "id": 0, "description": "", "member_ids": [ben.id, ana.id], "members": [], "on_call_now": ben.id}
    assert renamed.get_json()["name"] == "AMER primary" and renamed.get_json()["member_ids"] == [ben.id, ana.id]
    assert reordered.get_json()["member_ids"] == [ana.id, ben.id]
    assert reordered.get_json()["start_time"] == "07:00"
    assert deleted.status_code == 200 and db.session.scalar(select(Rotation)) is None


@pytest.mark.parametrize("body, field", [
    (ROTATION | {"shift_length": 0}, "shift_length"),
    (ROTATION | {"handoff_kind": "monthly"}, "handoff_kind"),
    (ROTATION | {"start_date": "02/11/2026"}, "start_date"),
    (ROTATION | {"colour": "red"}, "colour"),
    (ROTATION | {"member_ids": "TWICE"}, "member_ids"),
])
def test_a_bad_rotation_is_a_422_naming_the_field(api_as, ana_ben, body, field):
    if body.get("member_ids") == "TWICE":
        body = body | {"member_ids": [ana_ben[0].id, ana_ben[0].id]}

    response = api_as(Role.ADMIN).post("/api/v1/rotations", json=body)

    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert db.session.scalar(select(Rotation)) is None


def test_a_rotation_in_use_is_a_409(api_as, weekday_schedule):
    rotation_id = weekday_schedule.layers[0].rotation_id

    response = api_as(Role.ADMIN).delete(f"/api/v1/rotations/{rotation_id}")

    assert response.status_code == 409
    assert "used by schedule Primary" in response.get_json()["error"]


def test_a_schedule_and_its_layers_are_managed_as_sub_resources(api_as, make_rotation, ana_ben):
    apac, night = make_rotation(name="APAC"), make_rotation(name="Night", members=list(ana_ben))
    api = api_as(Role.CRISIS_TEAM)

    schedule = api.post("/api/v1/schedules", json={"name": "Follow the sun", "time_zone": "UTC"}).get_json()
    base = f"/api/v1/schedules/{schedule['id']}"
    night_layer = api.post(f"{base}/layers", json={"rotation_id": night.id, "time_zone": "UTC",
                                                   "days": [0, 1, 2, 3, 4, 5, 6], "start_time": "00:00",
                                                   "end_time": "00:00"})
    apac_layer = api.post(f"{base}/layers", json={"rotation_id": apac.id, "time_zone": "Asia/Manila",
                                                  "days": [0, 1, 2, 3, 4], "start_time": "09:00",
                                                  "end_time": "18:00"})
    moved = api.patch(f"{base}/layers/{apac_layer.get_json()['id']}", json={"position": 0})
    no_days = api.post(f"{base}/layers", json={"rotation_id": apac.id, "time_zone": "UTC", "days": [],
                                               "start_time": "09:00", "end_time": "17:00"})
    shown = api.get(base).get_json()

    assert (night_layer.status_code, apac_layer.status_code, moved.status_code) == (201, 201, 200)
    assert [(layer["rotation"], layer["position"]) for layer in shown["layers"]] == [("APAC", 0), ("Night", 1)]
    assert shown["layers"][0] | {"id": 0} == {"id": 0, "position": 0, "rotation_id": apac.id, "rotation": "APAC",
                                              "time_zone": "Asia/Manila", "days": [0, 1, 2, 3, 4],
                                              "start_time": "09:00", "end_time": "18:00"}
    assert no_days.status_code == 422 and "days" in no_days.get_json()["fields"]
    # Ben (in the night rotation) has no verified phone; Ana has.
    assert [person["name"] for person in shown["unreachable_users"]] == ["Ben"]
    removed = api.delete(f"{base}/layers/{night_layer.get_json()['id']}")
    assert removed.status_code == 200 and [l["rotation"] for l in api.get(base).get_json()["layers"]] == ["APAC"]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("at, expected", [
    ("", ["Ana"]),  # now: Wednesday, Ana's week
    ("2026-11-09T08:59:59Z", ["Ana"]),
    ("2026-11-09T09:00:00Z", ["Ben"]),  # Monday's hand-off
    ("2026-11-09T01:00:00-08:00", ["Ben"]),  # 09:00 UTC
    ("2026-11-09T09:30:00%2B01:00", ["Ana"]),  # 08:30 UTC ('+' sent as %2B)
    ("2026-11-07T12:00:00Z", []),  # Saturday: a gap
])
def test_who_is_on_call_at_an_instant(api_as, weekday_schedule, ana_ben, at, expected):
    query = f"?at={at}" if at else ""

    response = api_as(Role.EXECUTIVE).get(f"/api/v1/schedules/{weekday_schedule.id}/oncall{query}")

    assert response.status_code == 200
    assert [person["name"] for person in response.get_json()["users"]] == expected


def test_who_is_on_call_says_who_has_a_verified_phone(api_as, weekday_schedule, ana_ben):
    ana, ben = ana_ben
    api = api_as(Role.RESPONDER)
    url = f"/api/v1/schedules/{weekday_schedule.id}/oncall"

    ana_week = api.get(f"{url}?at=2026-11-04T12:00:00Z").get_json()
    ben_week = api.get(f"{url}?at=2026-11-11T12:00:00Z").get_json()

    assert ana_week == {"schedule_id": weekday_schedule.id, "at": "2026-11-04T12:00:00Z", "users": [
        {"id": ana.id, "name": "Ana", "email": ana.email, "has_verified_phone": True}]}
    assert ben_week["users"] == [{"id": ben.id, "name": "Ben", "email": ben.email, "has_verified_phone": False}]


@pytest.mark.parametrize("query, field", [
    ("?at=yesterday", "at"),
    ("?at=1066-10-14T09:00:00Z", "at"),
    ("/../timeline?days=32", "days"),
    ("/../timeline?days=two", "days"),
    ("/../timeline?start=soon", "start"),
])
def test_a_bad_query_is_a_400_naming_the_parameter(api_as, weekday_schedule, query, field):
    url = f"/api/v1/schedules/{weekday_schedule.id}/oncall{query}".replace("/oncall/../timeline", "/timeline")

    response = api_as(Role.RESPONDER).get(url)

    assert response.status_code == 400
    assert field in response.get_json()["fields"]


def test_the_timeline_lists_segments_gaps_holidays_and_who_cannot_be_phoned(api_as, weekday_schedule, ana_ben):
    calendar.create_region(name="AMER", time_zone="America/Los_Angeles", business_start=time(7),
                           business_end=time(17), holiday_country="US")

    body = api_as(Role.EXECUTIVE).get(
        f"/api/v1/schedules/{weekday_schedule.id}/timeline?start=2026-11-06T00:00:00Z&days=4").get_json()

    assert [(s["start"], s["end"], [u["name"] for u in s["users"]], s["gap"]) for s in body["segments"]] == [
        ("2026-11-06T00:00:00Z", "2026-11-07T00:00:00Z", ["Ana"], False),  # Friday
        ("2026-11-07T00:00:00Z", "2026-11-09T00:00:00Z", [], True),  # the weekend
        ("2026-11-09T00:00:00Z", "2026-11-09T09:00:00Z", ["Ana"], False),  # until Monday's hand-off
        ("2026-11-09T09:00:00Z", "2026-11-10T00:00:00Z", ["Ben"], False),
    ]
    assert body["gaps"] == [{"start": "2026-11-07T00:00:00Z", "end": "2026-11-09T00:00:00Z"}]
    assert body["holidays"] == []  # Veterans Day is 11-11, outside 11-06 .. 11-09
    assert [person["name"] for person in body["unreachable_users"]] == ["Ben"]


@time_machine.travel(NOW, tick=False)
def test_overrides_are_listed_added_with_their_offsets_and_deleted(api_as, weekday_schedule, make_user):
    cy = make_user(Role.RESPONDER, name="Cy")
    api = api_as(Role.CRISIS_TEAM)
    base = f"/api/v1/schedules/{weekday_schedule.id}"

    added = api.post(f"{base}/overrides", json={"user_id": cy.id, "mode": "replace", "start_at": "2026-11-05T09:00Z",
                                                "end_at": "2026-11-05T17:00:00+01:00", "reason": "swap"})
    listed = api.get(f"{base}/overrides").get_json()
    oncall = api.get(f"{base}/oncall?at=2026-11-05T12:00:00Z").get_json()

    assert added.status_code == 201
    # Z is UTC; an offset is honoured: 17:00+01:00 is 16:00 UTC.
    assert (listed[0]["start_at"], listed[0]["end_at"]) == ("2026-11-05T09:00:00Z", "2026-11-05T16:00:00Z")
    assert [person["name"] for person in oncall["users"]] == ["Cy"]
    deleted = api.delete(f"/api/v1/overrides/{added.get_json()['id']}")
    assert deleted.status_code == 200 and db.session.scalar(select(ScheduleOverride)) is None


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("change, field", [
    ({"end_at": "2026-11-05T08:00:00Z"}, "end_at"),
    ({"start_at": "whenever"}, "start_at"),
    ({"mode": "swap"}, "mode"),
])
def test_a_bad_override_is_a_422_naming_the_field(api_as, weekday_schedule, make_user, change, field):
    cy = make_user(Role.RESPONDER)
    body = {"user_id": cy.id, "mode": "replace", "start_at": "2026-11-05T09:00:00Z",
            "end_at": "2026-11-05T17:00:00Z"} | change

    response = api_as(Role.ADMIN).post(f"/api/v1/schedules/{weekday_schedule.id}/overrides", json=body)

    assert response.status_code == 422
    assert field in response.get_json()["fields"]


@pytest.mark.parametrize("method, path", [("post", "/api/v1/rotations"), ("post", "/api/v1/schedules"),
                                          ("delete", "/api/v1/overrides/1")])
def test_responders_read_but_do_not_change_schedules(api_as, method, path):
    api = api_as(Role.RESPONDER)

    assert getattr(api, method)(path, **({"json": {}} if method == "post" else {})).status_code == 403
    assert api.get("/api/v1/schedules").status_code == 200


def test_the_openapi_document_describes_the_at_parameter(client):
    document = client.get("/api/v1/openapi.json").get_json()

    operation = document["paths"]["/api/v1/schedules/{schedule_id}/oncall"]["get"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["at"]
    assert "UTC" in operation["parameters"][1]["description"]
