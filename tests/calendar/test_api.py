"""API: /api/v1/regions and /api/v1/calendar/quarter."""
from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select

from app.calendar import services as calendar
from app.calendar.models import Region
from app.extensions import db
from tests.calendar.conftest import AMER, EMEA

NON_ADMINS = ["crisis_team", "responder", "executive"]
EMEA_JSON = {"name": "EMEA", "time_zone": "Europe/London", "business_start": "09:00", "business_end": "17:00",
             "holiday_country": "gb", "holiday_subdivision": "eng"}


def region_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Region))


def test_everyone_lists_the_regions_by_name(api_as):
    amer = calendar.create_region(**AMER)
    calendar.create_region(**EMEA)

    response = api_as("executive").get("/api/v1/regions")

    assert response.status_code == 200
    body = response.get_json()
    assert [region["name"] for region in body] == ["AMER", "EMEA"]
    assert body[0] == {"id": amer.id, "name": "AMER", "time_zone": "America/New_York", "business_start": "08:00",
                       "business_end": "17:00", "holiday_country": "US", "holiday_subdivision": None}


def test_one_region_and_an_unknown_one(api_as):
    region = calendar.create_region(**EMEA)
    api = api_as("responder")

    assert api.get(f"/api/v1/regions/{region.id}").get_json()["holiday_subdivision"] == "ENG"
    missing = api.get("/api/v1/regions/999")
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "No such region."


def test_regions_need_a_token(client):
    assert client.get("/api/v1/regions").status_code == 401


def test_an_admin_creates_a_region(api_as):
    response = api_as("admin").post("/api/v1/regions", json=EMEA_JSON)

    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in ("name", "holiday_country", "holiday_subdivision")} == \
        {"name": "EMEA", "holiday_country": "GB", "holiday_subdivision": "ENG"}
    stored = db.session.get(Region, body["id"])
    assert (stored.business_start, stored.business_end) == (time(9), time(17))


@pytest.mark.parametrize("overrides, field", [
    ({"name": None}, "name"),  # missing
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ({"business_start": "9am"}, "business_start"),
    ({"business_start": "17:00", "business_end": "09:00"}, "business_end"),  # refused by the service
    ({"holiday_country": "ZZ", "holiday_subdivision": None}, "holiday_country"),
    ({"holiday_country": None}, "holiday_country"),  # a subdivision needs a country
    ({"colour": "blue"}, "colour"),  # not a field at all
    ({"name": {"nested": "object"}}, "name"),
])
def test_an_invalid_region_is_a_422_naming_the_field(api_as, overrides, field):
    body = {k: v for k, v in {**EMEA_JSON, **overrides}.items() if v is not None}

    response = api_as("admin").post("/api/v1/regions", json=body)

    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert region_count() == 0


def test_a_body_that_is_not_a_json_object_is_a_400(api_as):
    api = api_as("admin")

    assert api.post("/api/v1/regions", json=["EMEA"]).status_code == 400
    assert api.post("/api/v1/regions", data="name=EMEA").status_code == 400


def test_a_taken_name_is_a_409(api_as):
    calendar.create_region(**EMEA)

    response = api_as("admin").post("/api/v1/regions", json={**EMEA_JSON, "time_zone": "Europe/Paris"})

    assert response.status_code == 409
    assert list(response.get_json()["fields"]) == ["name"]
    assert region_count() == 1


def test_a_patch_changes_only_the_fields_sent(api_as):
    region = calendar.create_region(**EMEA)

    response = api_as("admin").patch(f"/api/v1/regions/{region.id}", json={"business_end": "18:30"})

    assert response.status_code == 200
    assert response.get_json() == {"id": region.id, "name": "EMEA", "time_zone": "Europe/London",
                                   "business_start": "09:00", "business_end": "18:30",
                                   "holiday_country": "GB", "holiday_subdivision": "ENG"}
    db.session.expire_all()
    assert (region.business_start, region.business_end, region.holiday_subdivision) == (time(9), time(18, 30), "ENG")


def test_a_patch_may_clear_an_optional_field(api_as):
    region = calendar.create_region(**EMEA)

    response = api_as("admin").patch(f"/api/v1/regions/{region.id}", json={"holiday_subdivision": None})

    assert response.get_json()["holiday_subdivision"] is None
    assert response.get_json()["holiday_country"] == "GB"


@pytest.mark.parametrize("patch, status, field", [
    ({"business_start": "18:00"}, 422, "business_end"),  # start after the stored end
    ({"time_zone": "Nowhere/Special"}, 422, "time_zone"),
    ({"name": "AMER"}, 409, "name"),
])
def test_a_refused_patch_changes_nothing(api_as, patch, status, field):
    calendar.create_region(**AMER)
    region = calendar.create_region(**EMEA)

    response = api_as("admin").patch(f"/api/v1/regions/{region.id}", json=patch)

    assert response.status_code == status
    assert field in response.get_json()["fields"]
    db.session.expire_all()
    assert (region.name, region.time_zone, region.business_start) == ("EMEA", "Europe/London", time(9))


def test_an_admin_deletes_a_region_and_its_people_lose_it(api_as, make_user):
    region = calendar.create_region(**EMEA)
    region_id = region.id
    member = make_user("responder", region_id=region_id)

    response = api_as("admin").delete(f"/api/v1/regions/{region_id}")

    assert response.status_code == 200
    assert response.get_json() == {"deleted": region_id}
    assert region_count() == 0
    assert member.region_id is None


def test_deleting_an_unknown_region_is_a_404(api_as):
    assert api_as("admin").delete("/api/v1/regions/999").status_code == 404


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_admins_may_change_regions(api_as, role):
    region = calendar.create_region(**EMEA)
    api = api_as(role)

    assert api.post("/api/v1/regions", json={**EMEA_JSON, "name": "New"}).status_code == 403
    assert api.patch(f"/api/v1/regions/{region.id}", json={"name": "Renamed"}).status_code == 403
    assert api.delete(f"/api/v1/regions/{region.id}").status_code == 403
    db.session.expire_all()
    assert region_count() == 1 and region.name == "EMEA"


def test_the_quarter_of_a_date_with_each_regions_close(api_as):
    amer = calendar.create_region(**AMER)
    calendar.create_region(**EMEA)

    response = api_as("executive").get("/api/v1/calendar/quarter?date=2026-11-22")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["label"], body["fiscal_year"], body["quarter"]) == ("Q4 FY27", 2027, 4)
    assert (body["first_day"], body["last_day"]) == ("2026-11-01", "2027-01-31")
    assert [region["region"] for region in body["regions"]] == ["AMER", "EMEA"]
    us = body["regions"][0]
    # Counted by hand in tests/calendar/test_services.py.
    assert (us["region_id"], us["close_day"], us["business_days_left"]) == (amer.id, "2027-01-29", 46)
    assert us["milestones"] == {"BD-30": "2026-12-15", "BD-20": "2026-12-30", "BD-10": "2027-01-14",
                                "BD-5": "2027-01-22", "BD0": "2027-01-29", "BD+10": "2027-02-12"}
    assert {"date": "2026-11-26", "name": "Thanksgiving Day"} in us["holidays"]
    # England: Christmas Fri 25 Dec, Boxing Day observed Mon 28 Dec, New Year Fri 1 Jan; BD0 is still Fri 29 Jan.
    assert body["regions"][1]["close_day"] == "2027-01-29"


def test_the_quarter_defaults_to_today_in_utc(api_as, worked_example_day):
    body = api_as("responder").get("/api/v1/calendar/quarter").get_json()

    assert (body["label"], body["last_day"]) == ("Q4 FY27", "2027-01-31")


@pytest.mark.config(FISCAL_YEAR_START_MONTH=1)
def test_the_quarter_follows_the_configured_fiscal_year(api_as):
    calendar.create_region(**AMER)

    body = api_as("responder").get("/api/v1/calendar/quarter?date=2026-11-22").get_json()

    assert (body["label"], body["last_day"], body["regions"][0]["close_day"]) == ("Q4 FY26", "2026-12-31", "2026-12-31")


@pytest.mark.parametrize("raw", ["22/11/2026", "2026-13-01", "tomorrow", "0001-01-15", "9999-12-31"])
def test_a_bad_date_is_a_400_naming_date(api_as, raw):
    calendar.create_region(**AMER)

    response = api_as("responder").get("/api/v1/calendar/quarter", query_string={"date": raw})

    assert response.status_code == 400
    assert list(response.get_json()["fields"]) == ["date"]
