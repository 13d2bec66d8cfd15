"""Regions (rules and changes) and the quarter close as each region sees it."""
from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

from app.calendar import services as calendar
from app.calendar.models import Region
from app.errors import Conflict, Invalid
from app.extensions import db
from tests.calendar.conftest import AMER, EMEA

# The worked example, counted by hand.
#
# FISCAL_YEAR_START_MONTH=2: FY27 runs Feb 2026 - Jan 2027, so Sunday 2026-11-22 falls in Q4 FY27
# (Nov, Dec, Jan). Its last day, 2027-01-31, is a Sunday, so BD0 (last business day on or before it)
# is Friday 2027-01-29.
#
# Business days left, counted from the day after 2026-11-22 up to and including BD0: the Mondays from
# 23 Nov to 25 Jan start ten whole working weeks (23-27 Nov, 30 Nov-4 Dec, 7-11, 14-18, 21-25, 28 Dec-1 Jan,
# 4-8, 11-15, 18-22, 25-29 Jan) = 50 weekdays, less the US holidays on weekdays among them:
# Thanksgiving Thu 26 Nov, Christmas Fri 25 Dec, New Year Fri 1 Jan, MLK Day Mon 18 Jan = 50 - 4 = 46.
#
# Milestones, stepping business days back from BD0 (Fri 29 Jan):
#   BD-5:  28, 27, 26, 25, 22 Jan                                    -> Fri 2027-01-22
#   BD-10: 21, 20, 19, (18 MLK), 15, 14 Jan                          -> Thu 2027-01-14
#   BD-20: 13, 12, 11, 8, 7, 6, 5, 4 Jan, (1 Jan), 31, 30 Dec        -> Wed 2026-12-30
#   BD-30: 29, 28, (25), 24, 23, 22, 21, 18, 17, 16, 15 Dec          -> Tue 2026-12-15
# and forward: BD+10: 1-5 Feb, 8-12 Feb (Presidents' Day is 15 Feb)  -> Fri 2027-02-12
WORKED_DAY = date(2026, 11, 22)
WORKED_MILESTONES = [
    ("BD-30", date(2026, 12, 15)), ("BD-20", date(2026, 12, 30)), ("BD-10", date(2027, 1, 14)),
    ("BD-5", date(2027, 1, 22)), ("BD0", date(2027, 1, 29)), ("BD+10", date(2027, 2, 12)),
]


def region_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Region))


def test_creating_a_region_cleans_its_name_and_holiday_codes(app):
    region = calendar.create_region(**{**EMEA, "name": "  EMEA ", "holiday_country": " gb",
                                       "holiday_subdivision": "eng"})

    db.session.expire_all()
    stored = db.session.get(Region, region.id)
    assert (stored.name, stored.holiday_country, stored.holiday_subdivision) == ("EMEA", "GB", "ENG")
    assert (stored.time_zone, stored.business_start, stored.business_end) == ("Europe/London", time(9), time(17))


def test_a_region_may_have_no_public_holidays(app):
    region = calendar.create_region(**{**AMER, "holiday_country": "", "holiday_subdivision": None})

    assert region.holiday_country is None


@pytest.mark.parametrize("overrides, field", [
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ({"time_zone": "posixrules"}, "time_zone"),  # a file in the zone database, not a zone
    ({"business_start": time(17), "business_end": time(9)}, "business_end"),
    ({"business_start": time(9), "business_end": time(9)}, "business_end"),  # no hours at all
    ({"holiday_country": "XX", "holiday_subdivision": None}, "holiday_country"),
    ({"holiday_country": "XX", "holiday_subdivision": "ENG"}, "holiday_country"),  # the country is at fault
    ({"holiday_country": None, "holiday_subdivision": "ENG"}, "holiday_country"),  # subdivision of nothing
    ({"holiday_country": "GB", "holiday_subdivision": "ZZZ"}, "holiday_subdivision"),
])
def test_create_region_refuses_invalid_settings_naming_the_field(app, overrides, field):
    with pytest.raises(Invalid) as refused:
        calendar.create_region(**{**EMEA, **overrides})

    assert refused.value.field == field
    assert region_count() == 0


def test_create_region_refuses_a_taken_name(app):
    calendar.create_region(**EMEA)

    with pytest.raises(Conflict) as refused:
        calendar.create_region(**{**AMER, "name": " EMEA "})

    assert refused.value.field == "name"
    assert region_count() == 1


def test_updating_a_region_changes_every_field(app):
    region = calendar.create_region(**EMEA)

    calendar.update_region(region, name="Europe", time_zone="Europe/Paris", business_start=time(8),
                           business_end=time(16), holiday_country="fr", holiday_subdivision=None)

    db.session.expire_all()
    stored = db.session.get(Region, region.id)
    assert (stored.name, stored.time_zone, stored.business_start, stored.business_end,
            stored.holiday_country, stored.holiday_subdivision) == \
        ("Europe", "Europe/Paris", time(8), time(16), "FR", None)


def test_a_region_keeps_its_own_name_on_update(app):
    region = calendar.create_region(**EMEA)

    calendar.update_region(region, **{**EMEA, "business_end": time(18)})

    assert region.business_end == time(18)


def test_update_region_refuses_another_regions_name(app):
    calendar.create_region(**EMEA)
    amer = calendar.create_region(**AMER)

    with pytest.raises(Conflict) as refused:
        calendar.update_region(amer, **{**AMER, "name": "EMEA"})

    assert refused.value.field == "name"
    db.session.expire_all()
    assert db.session.get(Region, amer.id).name == "AMER"


@pytest.mark.parametrize("overrides, field", [
    ({"time_zone": "Nowhere/Special"}, "time_zone"),
    ({"business_start": time(18)}, "business_end"),
    ({"holiday_country": "QQ"}, "holiday_country"),
])
def test_update_region_refuses_invalid_settings_and_changes_nothing(app, overrides, field):
    region = calendar.create_region(**EMEA)

    with pytest.raises(Invalid) as refused:
        calendar.update_region(region, **{**EMEA, **overrides})

    assert refused.value.field == field
    db.session.expire_all()
    stored = db.session.get(Region, region.id)
    assert (stored.time_zone, stored.business_start, stored.holiday_country) == ("Europe/London", time(9), "GB")


def test_deleting_a_region_keeps_its_people_without_a_region(make_user):
    region = calendar.create_region(**EMEA)
    other = calendar.create_region(**AMER)
    member = make_user("responder", region_id=region.id)
    outsider = make_user("responder", region_id=other.id)

    calendar.delete_region(region)

    db.session.expire_all()
    assert region_count() == 1
    assert member.region_id is None and member.region is None
    assert outsider.region_id == other.id


def test_the_worked_example_quarter_is_q4_fy27(app):
    quarter = calendar.quarter_for(WORKED_DAY)

    assert (quarter.label, quarter.first_day, quarter.last_day) == ("Q4 FY27", date(2026, 11, 1), date(2027, 1, 31))


def test_the_worked_example_close_for_a_us_region(amer):
    close = calendar.region_close(amer, calendar.quarter_for(WORKED_DAY), WORKED_DAY)

    assert close.close_day == date(2027, 1, 29)  # the quarter ends on a Sunday
    assert close.business_days_left == 46
    assert close.milestones == WORKED_MILESTONES
    assert close.holidays == [
        (date(2026, 11, 11), "Veterans Day"), (date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 12, 25), "Christmas Day"), (date(2027, 1, 1), "New Year's Day"),
        (date(2027, 1, 18), "Martin Luther King Jr. Day"),
    ]


def test_a_region_without_holidays_counts_only_weekends(app):
    region = calendar.create_region(**{**AMER, "holiday_country": None})

    close = calendar.region_close(region, calendar.quarter_for(WORKED_DAY), WORKED_DAY)

    assert (close.close_day, close.business_days_left, close.holidays) == (date(2027, 1, 29), 50, [])
    assert dict(close.milestones)["BD-5"] == date(2027, 1, 22)  # 28, 27, 26, 25, 22 Jan: no MLK Day to skip
    assert dict(close.milestones)["BD-10"] == date(2027, 1, 15)  # 21, 20, 19, 18, 15 Jan


def test_no_business_days_are_left_after_the_close(amer):
    quarter = calendar.quarter_for(WORKED_DAY)

    close = calendar.region_close(amer, quarter, date(2027, 1, 30))  # the Saturday after BD0

    assert close.business_days_left == 0


def test_the_overview_has_one_close_per_region_in_name_order(amer):
    calendar.create_region(**EMEA)
    calendar.create_region(**{**EMEA, "name": "APAC", "time_zone": "Asia/Manila", "holiday_country": "PH",
                              "holiday_subdivision": None})

    overview = calendar.quarter_overview(calendar.quarter_for(WORKED_DAY), on=WORKED_DAY)

    assert [close.region.name for close in overview] == ["AMER", "APAC", "EMEA"]
    assert overview[0].business_days_left == 46


@pytest.mark.config(FISCAL_YEAR_START_MONTH=1)
def test_a_calendar_fiscal_year_moves_the_quarter_and_its_close(amer):
    # FY = calendar year: 2026-11-22 is in Q4 FY26 (Oct-Dec 2026), closing Thursday 2026-12-31, a business day.
    # Days left: weekdays 23 Nov - 31 Dec = 5 whole weeks (23 Nov-25 Dec) + 28-31 Dec = 29, less Thanksgiving
    # and Christmas = 27. BD-5: 30, 29, 28, (25), 24, 23 Dec. BD+10: (1 Jan), 4-8, 11-15 Jan.
    quarter = calendar.quarter_for(WORKED_DAY)
    close = calendar.region_close(amer, quarter, WORKED_DAY)

    assert (quarter.label, quarter.first_day, quarter.last_day) == ("Q4 FY26", date(2026, 10, 1), date(2026, 12, 31))
    assert (close.close_day, close.business_days_left) == (date(2026, 12, 31), 27)
    assert dict(close.milestones)["BD-5"] == date(2026, 12, 23)
    assert dict(close.milestones)["BD+10"] == date(2027, 1, 15)
