"""Local dates: every date rule reads the date where it belongs, so pages agree at every hour in every zone.

Q4 FY27 closes on Friday 2027-01-29 (BD0) in each of these regions. Monday 2026-11-16 23:30 and Tuesday 00:30 are
local times of the viewer: on the first the region is still on Monday, on the second already on Tuesday, whatever
UTC's date is then (Los Angeles' Monday 23:30 is Tuesday 07:30 UTC; Manila's Tuesday 00:30 is Monday 16:30 UTC).
"""
from __future__ import annotations

import re
from datetime import date, datetime, time

import pytest
import time_machine

from app.calendar import services as calendar
from app.extensions import db
from app.readiness import checklist
from app.readiness.scheduled import remind_overdue_items
from app.readiness.score import compute_readiness
from app.timeutil import UTC, wall_clock_to_utc

REGIONS = {"America/Los_Angeles": ("AMER", "US"), "Europe/London": ("EMEA", "GB"), "Asia/Manila": ("APAC", "PH"),
           "Australia/Sydney": ("ANZ", "AU")}


def region_for(zone: str):
    name, country = REGIONS[zone]
    return calendar.create_region(name=name, time_zone=zone, business_start=time(9), business_end=time(17),
                                  holiday_country=country)


@pytest.mark.parametrize("zone, local_day, local_time, business_days_left", [
    ("America/Los_Angeles", date(2026, 11, 16), time(23, 30), 50),
    ("America/Los_Angeles", date(2026, 11, 17), time(0, 30), 49),
    ("Europe/London", date(2026, 11, 16), time(23, 30), 51),
    ("Europe/London", date(2026, 11, 17), time(0, 30), 50),
    ("Asia/Manila", date(2026, 11, 16), time(23, 30), 47),
    ("Asia/Manila", date(2026, 11, 17), time(0, 30), 46),
    ("Australia/Sydney", date(2026, 11, 16), time(23, 30), 51),
    ("Australia/Sydney", date(2026, 11, 17), time(0, 30), 50),
])
def test_the_readiness_page_and_home_agree_at_23_30_and_00_30_local(login_as, zone, local_day, local_time,
                                                                     business_days_left):
    region = region_for(zone)
    others = [region_for(other) for other in REGIONS if other != zone]
    with time_machine.travel(wall_clock_to_utc(local_day, local_time, zone), tick=False):
        viewer = login_as("executive", time_zone=zone, region_id=region.id)
        home = viewer.get("/").get_data(as_text=True)
        readiness = viewer.get("/readiness").get_data(as_text=True)

    shown_home = re.search(r'data-testid="business-days-left">(\d+)<', home).group(1)
    shown_readiness = re.search(rf'data-testid="days-left-{region.id}">(\d+)<', readiness).group(1)
    assert int(shown_home) == int(shown_readiness) == business_days_left
    # Every other region counts from its own date too, on both pages alike.
    for other in others:
        assert re.search(rf'data-testid="days-left-{other.id}">(\d+)<', readiness) is not None
    assert "Q4 FY27" in home and "Q4 FY27 close readiness" in readiness


ITEM_DUE = date(2026, 11, 20)  # a Friday


@pytest.mark.parametrize("zone, local_day, local_time, overdue", [
    # Los Angeles: UTC's midnight comes at 16:00 on the due day; the item is not overdue until local midnight.
    ("America/Los_Angeles", ITEM_DUE, time(16, 30), False),
    ("America/Los_Angeles", ITEM_DUE, time(23, 59), False),
    ("America/Los_Angeles", date(2026, 11, 21), time(0, 1), True),
    # Manila and Sydney: local midnight comes first, while UTC is still on the due day.
    ("Asia/Manila", ITEM_DUE, time(23, 59), False),
    ("Asia/Manila", date(2026, 11, 21), time(0, 30), True),
    ("Australia/Sydney", date(2026, 11, 21), time(0, 30), True),
    ("Europe/London", ITEM_DUE, time(23, 59), False),
    ("Europe/London", date(2026, 11, 21), time(0, 1), True),
])
def test_an_item_is_overdue_from_its_owners_local_midnight_not_utcs(api_as, make_user, zone, local_day,
                                                                     local_time, overdue):
    owner = make_user("crisis_team", time_zone=zone, region_id=region_for(zone).id)
    checklist.save_template_item(title="Vendor validation", track="vendors", owner_id=owner.id, bd_offset=-20)
    quarter = calendar.quarter_for(ITEM_DUE)
    checklist.instantiate_quarter(quarter=quarter, by="test")
    [item] = checklist.quarter_items(quarter)
    item.due_on = ITEM_DUE  # the BD-20 of each region differs; pin one day for the table
    db.session.commit()

    with time_machine.travel(wall_clock_to_utc(local_day, local_time, zone), tick=False):
        flag = api_as("executive").get("/api/v1/readiness/checklist?quarter=FY27-Q4").get_json()[0]["overdue"]
        reasons = [reason.text for reason in compute_readiness().track("checklist").reasons]
        reminded = sum(remind_overdue_items().values())

    assert flag is overdue
    assert any(text.startswith("Overdue since") for text in reasons) is overdue
    assert reminded == int(overdue)


@pytest.mark.config(CLOSE_TIME_ZONE="America/Los_Angeles")
def test_the_days_to_close_and_the_quarter_are_the_close_regions(login_as):
    # Sunday 2027-01-31 20:00 in Los Angeles is Monday 02-01 12:00 in Manila: still Q4 FY27 for the company.
    with time_machine.travel(datetime(2027, 2, 1, 4, tzinfo=UTC), tick=False):
        viewer = login_as("executive", time_zone="Asia/Manila")
        page = viewer.get("/readiness").get_data(as_text=True)
        home = viewer.get("/").get_data(as_text=True)

    assert "Q4 FY27 close readiness" in page and "<h1>Q4 FY27</h1>" in home
    assert re.search(r'data-testid="days-left">(\d+)<', page).group(1) == "0"
