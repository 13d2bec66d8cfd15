"""API: /api/v1/audit (admins) and /api/v1/history/<type>/<id>."""
from __future__ import annotations

from datetime import datetime

import pytest

from app.calendar import services as calendar
from tests.audit.conftest import EMEA

NON_ADMINS = ["crisis_team", "responder", "executive"]


def who_did_what(items: list[dict]) -> list[tuple[str, str]]:
    return [(item["actor"], item["action"]) for item in items]


def test_the_audit_trail_lists_every_change_newest_first_with_its_details(trail, api_as):
    api = api_as("admin")

    body = api.get("/api/v1/audit").get_json()

    assert (body["page"], body["pages"], body["total"]) == (1, 1, 6)  # the trail, the admin and the token
    assert who_did_what(body["items"]) == [("system", "create"), ("system", "create"), ("cli", "create"),
                                           ("system", "delete"), ("seed", "update"), ("cli", "create")]
    update = body["items"][4]
    assert update["entity_type"] == "regions"
    assert update["entity_id"] == str(trail)
    assert update["entity_label"] == "APAC"
    assert update["changes"] == {"time_zone": ["Asia/Manila", "Asia/Singapore"]}
    assert datetime.fromisoformat(update["occurred_at"]) == datetime.fromisoformat("2025-01-11T23:59:59+00:00")


@pytest.mark.parametrize("query, expected", [
    ("entity_type=regions", [("system", "delete"), ("seed", "update"), ("cli", "create")]),
    ("action=update", [("seed", "update")]),
    ("actor=SEE", [("seed", "update")]),
    ("since=2025-01-11&until=2025-01-12", [("system", "delete"), ("seed", "update")]),  # both ends inclusive
    ("since=2025-01-12&until=2025-01-12", [("system", "delete")]),
    ("until=2025-01-10", [("cli", "create")]),
    ("entity_type=users&actor=cli", [("cli", "create")]),
    ("entity_type=regions&since=2025-01-13", []),
])
def test_the_audit_trail_filters(trail, api_as, query, expected):
    api = api_as("admin")

    body = api.get(f"/api/v1/audit?{query}").get_json()

    assert who_did_what(body["items"]) == expected
    assert body["total"] == len(expected)


def test_the_audit_trail_pages(trail, api_as):
    api = api_as("admin")

    body = api.get("/api/v1/audit?per_page=2&page=2").get_json()

    assert (body["page"], body["pages"], body["total"]) == (2, 3, 6)
    assert who_did_what(body["items"]) == [("cli", "create"), ("system", "delete")]


def test_a_page_past_the_end_is_empty_not_an_error(trail, api_as):
    body = api_as("admin").get("/api/v1/audit?per_page=2&page=9").get_json()

    assert (body["items"], body["total"], body["pages"]) == ([], 6, 3)


@pytest.mark.parametrize("role", NON_ADMINS)
def test_the_audit_trail_is_for_admins_only(trail, api_as, role):
    assert api_as(role).get("/api/v1/audit").status_code == 403


def test_the_audit_trail_needs_a_token(client):
    assert client.get("/api/v1/audit").status_code == 401


@pytest.mark.parametrize("query, field", [
    ("since=yesterday", "since"),
    ("until=2025-02-30", "until"),
    ("since=2025-01-01&until=01/02/2025", "until"),
    ("action=explode", "action"),
    ("entity_type=nonsense", "entity_type"),
])
def test_an_invalid_filter_is_a_400_naming_the_field(trail, api_as, query, field):
    response = api_as("admin").get(f"/api/v1/audit?{query}")

    assert response.status_code == 400
    assert list(response.get_json()["fields"]) == [field]


def test_a_regions_history_is_newest_first_for_everyone(api_as):
    region = calendar.create_region(**EMEA)
    calendar.update_region(region, **{**EMEA, "name": "Europe"})

    response = api_as("executive").get(f"/api/v1/history/regions/{region.id}")

    assert response.status_code == 200
    items = response.get_json()
    assert [item["action"] for item in items] == ["update", "create"]
    assert items[0]["changes"] == {"name": ["EMEA", "Europe"]}
    assert {item["entity_id"] for item in items} == {str(region.id)}


@pytest.mark.parametrize("role, status", [("admin", 200)] + [(role, 403) for role in NON_ADMINS])
def test_a_user_records_history_is_for_admins_only(api_as, make_user, role, status):
    someone = make_user("responder")

    response = api_as(role).get(f"/api/v1/history/users/{someone.id}")

    assert response.status_code == status
    if status == 200:
        assert [item["action"] for item in response.get_json()] == ["create"]


def test_history_of_an_unknown_record_type_is_a_404(api_as):
    response = api_as("admin").get("/api/v1/history/nonsense/1")

    assert response.status_code == 404
    assert "error" in response.get_json()
