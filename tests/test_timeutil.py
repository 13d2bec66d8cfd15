"""Behaviour of app.timeutil: clock, zones, fiscal quarters and business-day maths.

Every expected date below was worked out by hand from a printed calendar and the
holiday rules (cross-checked against the holidays package's own lists), not copied
from the code's output.
Weekday reminders used throughout: 2025-12-31 Wed, 2026-11-22 Sun, 2027-01-31 Sun.
"""

from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine

from app.timeutil import (
    UTC,
    BusinessCalendar,
    FiscalQuarter,
    as_utc,
    business_day_label,
    business_day_offset,
    close_day,
    fiscal_quarter,
    fiscal_quarter_for,
    format_bd_offset,
    is_valid_zone,
    parse_bd_offset,
    to_zone,
    today_in,
    utcnow,
)

US = BusinessCalendar("US")
PH = BusinessCalendar("PH")
GB = BusinessCalendar("GB")
WEEKENDS_ONLY = BusinessCalendar()

# 2026-11-22 03:00 UTC: Saturday evening in Los Angeles (UTC-8), Sunday 11:00 in Manila (UTC+8).
SUNDAY_3AM_UTC = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


# ----------------------------------------------------------------------------- clock and zones


def test_utcnow_is_aware_utc_and_follows_time_machine():
    with time_machine.travel(SUNDAY_3AM_UTC, tick=False):
        now = utcnow()
    assert now == SUNDAY_3AM_UTC
    assert now.tzinfo is UTC
    assert now.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "zone, expected",
    [
        ("America/Los_Angeles", date(2026, 11, 21)),  # 03:00 UTC - 8h = 19:00 the day before
        ("Asia/Manila", date(2026, 11, 22)),  # 03:00 UTC + 8h = 11:00 the same day
        ("UTC", date(2026, 11, 22)),
    ],
)
def test_today_depends_on_the_zone(zone, expected):
    with time_machine.travel(SUNDAY_3AM_UTC, tick=False):
        assert today_in(zone) == expected


def test_today_in_an_unknown_zone_is_a_value_error():
    with pytest.raises(ValueError, match="time zone"):
        today_in("Mars/Olympus")


def test_naive_datetimes_are_taken_to_be_utc():
    assert as_utc(datetime(2026, 11, 22, 3, 0)) == SUNDAY_3AM_UTC
    assert as_utc(datetime(2026, 11, 22, 3, 0)).tzinfo is UTC


def test_aware_datetimes_are_converted_to_utc():
    manila_11am = datetime(2026, 11, 22, 11, 0, tzinfo=timezone(timedelta(hours=8)))
    converted = as_utc(manila_11am)
    assert converted == SUNDAY_3AM_UTC
    assert converted.hour == 3 and converted.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "instant, zone, wall_clock",
    [
        (SUNDAY_3AM_UTC, "America/Los_Angeles", datetime(2026, 11, 21, 19, 0)),  # PST, DST ended 2026-11-01
        (SUNDAY_3AM_UTC, "Asia/Manila", datetime(2026, 11, 22, 11, 0)),
        (datetime(2026, 7, 1, 12, 0), "America/Los_Angeles", datetime(2026, 7, 1, 5, 0)),  # naive = UTC; PDT is -7
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "Europe/London", datetime(2026, 7, 1, 13, 0)),  # BST is +1
    ],
)
def test_to_zone_shows_the_same_instant_on_the_local_wall_clock(instant, zone, wall_clock):
    shown = to_zone(instant, zone)
    assert shown.replace(tzinfo=None) == wall_clock
    assert shown == as_utc(instant)  # same instant, only the presentation changed


@pytest.mark.parametrize("name", ["UTC", "America/Los_Angeles", "Asia/Manila", "Europe/London"])
def test_real_iana_zone_names_are_valid(name):
    assert is_valid_zone(name) is True


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc", "/etc/passwd", "asia/manila", " UTC", None, 42])
def test_made_up_or_malformed_zone_names_are_rejected_without_raising(name):
    assert is_valid_zone(name) is False


# ----------------------------------------------------------------------------- fiscal quarters


@pytest.mark.parametrize(
    "day, start_month, fiscal_year, quarter, first_day, last_day",
    [
        # Start month 2 (February): Q1 Feb-Apr, Q2 May-Jul, Q3 Aug-Oct, Q4 Nov-Jan.
        (date(2026, 11, 22), 2, 2027, 4, date(2026, 11, 1), date(2027, 1, 31)),
        (date(2026, 2, 1), 2, 2027, 1, date(2026, 2, 1), date(2026, 4, 30)),
        (date(2026, 1, 31), 2, 2026, 4, date(2025, 11, 1), date(2026, 1, 31)),
        (date(2026, 4, 30), 2, 2027, 1, date(2026, 2, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), 2, 2027, 2, date(2026, 5, 1), date(2026, 7, 31)),
        (date(2026, 10, 31), 2, 2027, 3, date(2026, 8, 1), date(2026, 10, 31)),
        (date(2027, 1, 1), 2, 2027, 4, date(2026, 11, 1), date(2027, 1, 31)),
        (date(2024, 2, 29), 2, 2025, 1, date(2024, 2, 1), date(2024, 4, 30)),
        # Start month 1: fiscal year == calendar year.
        (date(2026, 11, 22), 1, 2026, 4, date(2026, 10, 1), date(2026, 12, 31)),
        (date(2026, 1, 1), 1, 2026, 1, date(2026, 1, 1), date(2026, 3, 31)),
        (date(2025, 12, 31), 1, 2025, 4, date(2025, 10, 1), date(2025, 12, 31)),
        (date(2026, 6, 30), 1, 2026, 2, date(2026, 4, 1), date(2026, 6, 30)),
        (date(2024, 2, 29), 1, 2024, 1, date(2024, 1, 1), date(2024, 3, 31)),
        # Start month 7 (July-June): FY27 runs 2026-07-01 .. 2027-06-30.
        (date(2026, 7, 1), 7, 2027, 1, date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 6, 30), 7, 2026, 4, date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 12, 31), 7, 2027, 2, date(2026, 10, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), 7, 2027, 3, date(2027, 1, 1), date(2027, 3, 31)),
        (date(2027, 2, 28), 7, 2027, 3, date(2027, 1, 1), date(2027, 3, 31)),
        # Start month 12: Q1 is Dec-Feb, so a leap year decides the close date.
        (date(2026, 12, 1), 12, 2027, 1, date(2026, 12, 1), date(2027, 2, 28)),
        (date(2028, 2, 29), 12, 2028, 1, date(2027, 12, 1), date(2028, 2, 29)),
    ],
)
def test_date_falls_in_the_expected_fiscal_quarter(day, start_month, fiscal_year, quarter, first_day, last_day):
    fq = fiscal_quarter_for(day, start_month)
    assert (fq.fiscal_year, fq.quarter, fq.first_day, fq.last_day, fq.start_month) == (
        fiscal_year, quarter, first_day, last_day, start_month
    )
    assert fq.contains(day)
    assert fq == fiscal_quarter(fiscal_year, quarter, start_month)


def test_november_is_q4_of_the_fiscal_year_ending_next_january():
    fq = fiscal_quarter_for(date(2026, 11, 22))  # default start month is February
    assert fq.label == "Q4 FY27"
    assert fq.last_day == date(2027, 1, 31)


def test_quarter_contains_only_its_own_days():
    fq = fiscal_quarter(2027, 4)  # 2026-11-01 .. 2027-01-31
    assert fq.contains(date(2026, 11, 1)) and fq.contains(date(2027, 1, 31))
    assert not fq.contains(date(2026, 10, 31)) and not fq.contains(date(2027, 2, 1))


@pytest.mark.parametrize(
    "fiscal_year, quarter, start_month, label",
    [(2027, 4, 2, "Q4 FY27"), (2026, 1, 1, "Q1 FY26"), (2000, 2, 1, "Q2 FY00"), (2009, 3, 7, "Q3 FY09")],
)
def test_label_uses_quarter_and_two_digit_fiscal_year(fiscal_year, quarter, start_month, label):
    assert fiscal_quarter(fiscal_year, quarter, start_month).label == label


@pytest.mark.parametrize(
    "start, expected_next",
    [
        (fiscal_quarter(2027, 4, 2), (2028, 1, date(2027, 2, 1), date(2027, 4, 30))),
        (fiscal_quarter(2027, 1, 2), (2027, 2, date(2026, 5, 1), date(2026, 7, 31))),
        (fiscal_quarter(2026, 4, 1), (2027, 1, date(2027, 1, 1), date(2027, 3, 31))),
        (fiscal_quarter(2026, 4, 7), (2027, 1, date(2026, 7, 1), date(2026, 9, 30))),
    ],
)
def test_next_quarter_rolls_over_the_fiscal_year_after_q4(start, expected_next):
    nxt = start.next()
    assert (nxt.fiscal_year, nxt.quarter, nxt.first_day, nxt.last_day) == expected_next
    assert nxt.previous() == start


def test_previous_of_q1_is_q4_of_the_prior_fiscal_year():
    prev = fiscal_quarter(2027, 1, 2).previous()
    assert (prev.label, prev.first_day, prev.last_day) == ("Q4 FY26", date(2025, 11, 1), date(2026, 1, 31))


@pytest.mark.parametrize("start_month", [1, 2, 7, 12])
def test_consecutive_quarters_tile_the_calendar_without_gaps(start_month):
    fq = fiscal_quarter_for(date(2023, 1, 15), start_month)
    for _ in range(16):  # four fiscal years, covering a leap February
        nxt = fq.next()
        assert nxt.first_day == fq.last_day + timedelta(days=1)
        assert nxt.previous() == fq
        fq = nxt


@pytest.mark.parametrize("start_month", [0, 13, -1])
def test_start_month_outside_1_to_12_is_rejected(start_month):
    with pytest.raises(ValueError, match="start month"):
        fiscal_quarter_for(date(2026, 1, 1), start_month)
    with pytest.raises(ValueError, match="start month"):
        fiscal_quarter(2026, 1, start_month)


@pytest.mark.parametrize("quarter", [0, 5, -1])
def test_quarter_outside_1_to_4_is_rejected(quarter):
    with pytest.raises(ValueError, match="quarter"):
        fiscal_quarter(2026, quarter)


def test_hand_built_quarter_with_inconsistent_dates_is_rejected():
    with pytest.raises(ValueError):
        FiscalQuarter(2027, 4, date(2026, 11, 1), date(2026, 12, 31), 2)  # Q4 FY27 really ends 2027-01-31


# ----------------------------------------------------------------------------- business calendars


def test_unknown_holiday_country_is_a_value_error():
    with pytest.raises(ValueError, match="XX"):
        BusinessCalendar("XX")


def test_unknown_subdivision_is_a_value_error():
    with pytest.raises(ValueError, match="ZZ"):
        BusinessCalendar("US", subdivision="ZZ")


@pytest.mark.parametrize("weekend", [(5, 7), (0, 1, 2, 3, 4, 5, 6)])
def test_impossible_weekends_are_rejected(weekend):
    with pytest.raises(ValueError, match="weekend"):
        BusinessCalendar(weekend=weekend)


def test_weekends_only_calendar_knows_no_holidays():
    assert WEEKENDS_ONLY.holiday_name(date(2025, 12, 25)) is None
    assert WEEKENDS_ONLY.is_business_day(date(2025, 12, 25))  # a Thursday
    assert not WEEKENDS_ONLY.is_business_day(date(2026, 11, 22))  # a Sunday
    assert WEEKENDS_ONLY.holidays_between(date(2025, 1, 1), date(2025, 12, 31)) == []


def test_custom_weekend_makes_sunday_a_working_day():
    friday_saturday = BusinessCalendar(weekend=(4, 5))
    assert friday_saturday.is_business_day(date(2026, 11, 22))  # Sunday
    assert not friday_saturday.is_business_day(date(2026, 11, 20))  # Friday


def test_holidays_are_found_in_any_year_not_just_the_current_one():
    # Lazily loaded years: 4 July 1990 and Christmas 2090 must both be known.
    assert US.holiday_name(date(1990, 7, 4)) == "Independence Day"
    assert US.holiday_name(date(2090, 12, 25)) == "Christmas Day"
    assert not US.is_business_day(date(2090, 12, 25))


def test_holidays_between_is_inclusive_and_sorted_across_years():
    # GB (no subdivision) over the 2026/27 year end: Christmas Fri 25, Boxing Day Sat 26
    # observed Mon 28, New Year's Day Fri 1 Jan.
    assert GB.holidays_between(date(2026, 12, 25), date(2027, 1, 1)) == [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 26), "Boxing Day"),
        (date(2026, 12, 28), "Boxing Day (observed)"),
        (date(2027, 1, 1), "New Year's Day"),
    ]
    assert GB.holidays_between(date(2027, 1, 1), date(2026, 12, 25)) == []


@pytest.mark.parametrize(
    "calendar, start, end, expected",
    [
        # US, Tue 2026-11-24 -> Tue 12-01: counts 25 Wed, 27 Fri, 30 Mon, 1 Tue;
        # skips Thanksgiving Thu 26 and the weekend 28-29.
        (US, date(2026, 11, 24), date(2026, 12, 1), 4),
        (US, date(2026, 12, 1), date(2026, 11, 24), -4),
        (US, date(2026, 11, 24), date(2026, 11, 24), 0),
        # Start day itself is never counted: Wed 25 -> Thu 26 (Thanksgiving) is 0.
        (US, date(2026, 11, 25), date(2026, 11, 26), 0),
        # GB Christmas 2025: 25 Thu and 26 Fri are holidays, 27-28 weekend, so only Mon 29 counts.
        (GB, date(2025, 12, 24), date(2025, 12, 29), 1),
        (GB, date(2025, 12, 29), date(2025, 12, 24), -1),
        # Weekends only: Fri -> Mon is one business day, Sat -> Mon too, Fri -> Sun none.
        (WEEKENDS_ONLY, date(2026, 11, 20), date(2026, 11, 23), 1),
        (WEEKENDS_ONLY, date(2026, 11, 21), date(2026, 11, 23), 1),
        (WEEKENDS_ONLY, date(2026, 11, 20), date(2026, 11, 22), 0),
        (WEEKENDS_ONLY, date(2026, 11, 22), date(2026, 11, 20), 0),
        # 2026 starts on a Thursday and has 52 weeks + 1 day: 52 * 5 + 1 = 261 weekdays.
        (WEEKENDS_ONLY, date(2025, 12, 31), date(2026, 12, 31), 261),
        # US federal holidays on 2026 weekdays: Jan 1, Jan 19, Feb 16, May 25, Jun 19, Jul 3 (observed
        # for Sat Jul 4), Sep 7, Oct 12, Nov 11, Nov 26, Dec 25 = 11, so 261 - 11 = 250.
        (US, date(2025, 12, 31), date(2026, 12, 31), 250),
        # A 400-year Gregorian cycle is exactly 146097 days = 20871 weeks -> 20871 * 5 weekdays.
        (WEEKENDS_ONLY, date(2000, 1, 1), date(2400, 1, 1), 104355),
    ],
)
def test_business_days_between_counts_the_days_after_start_up_to_end(calendar, start, end, expected):
    assert calendar.business_days_between(start, end) == expected


@pytest.mark.parametrize(
    "start, n, expected",
    [
        (date(2026, 11, 25), 1, date(2026, 11, 27)),  # Wed + 1 skips Thanksgiving Thu 26
        (date(2026, 11, 27), -1, date(2026, 11, 25)),  # and back again
        (date(2026, 11, 25), 3, date(2026, 12, 1)),  # Fri 27, Mon 30, Tue 1
        (date(2026, 11, 30), -2, date(2026, 11, 25)),  # Fri 27, (Thu 26 holiday), Wed 25
        (date(2026, 12, 24), 1, date(2026, 12, 28)),  # Christmas Fri 25, then the weekend
        (date(2026, 11, 24), 0, date(2026, 11, 24)),  # n=0 on a business day: the day itself
        (date(2026, 11, 22), 0, date(2026, 11, 20)),  # n=0 on Sunday: the Friday before
        (date(2026, 11, 26), 0, date(2026, 11, 25)),  # n=0 on Thanksgiving: the Wednesday before
    ],
)
def test_add_business_days_skips_weekends_and_us_holidays(start, n, expected):
    assert US.add_business_days(start, n) == expected


# ----------------------------------------------------------------------------- close calendar (BD offsets)


def test_weekend_close_moves_bd0_back_to_friday():
    # Q4 FY27 (start month 2) ends Sunday 2027-01-31, so BD0 is Friday 2027-01-29.
    q4 = fiscal_quarter(2027, 4, 2)
    assert q4.last_day == date(2027, 1, 31)
    assert close_day(q4, US) == date(2027, 1, 29)
    # BD-5: Thu 28 (-1), Wed 27 (-2), Tue 26 (-3), Mon 25 (-4), Fri 22 (-5).
    assert business_day_offset(q4, -5, US) == date(2027, 1, 22)
    # BD-10 crosses MLK Day Mon 2027-01-18: Thu 21 (-6), Wed 20 (-7), Tue 19 (-8), Fri 15 (-9), Thu 14 (-10).
    assert business_day_offset(q4, -10, US) == date(2027, 1, 14)
    # BD+10: Feb 1-5 (+1..+5), Feb 8-12 (+6..+10); Presidents' Day is Feb 15, after it.
    assert business_day_offset(q4, 10, US) == date(2027, 2, 12)
    assert business_day_offset(q4, 0, US) == date(2027, 1, 29)


def test_philippine_year_end_holidays_push_bd0_back_two_days():
    # Q4 FY25 with a calendar fiscal year ends Wed 2025-12-31. The holidays package lists
    # Tue 12-30 Rizal Day and Wed 12-31 New Year's Eve (special non-working day) for PH,
    # so BD0 is Mon 2025-12-29.
    q4 = fiscal_quarter(2025, 4, 1)
    assert PH.holiday_name(date(2025, 12, 30)) == "Rizal Day"
    assert PH.holiday_name(date(2025, 12, 31)) == "New Year's Eve"
    assert close_day(q4, PH) == date(2025, 12, 29)
    # Back: Sat 27/Sun 28 weekend -> Fri 26 is BD-1; Thu 25 Christmas and Wed 24 Christmas Eve -> Tue 23 is BD-2.
    assert business_day_offset(q4, -1, PH) == date(2025, 12, 26)
    assert business_day_offset(q4, -2, PH) == date(2025, 12, 23)
    # Forward: 30, 31 and New Year's Day are holidays, so Fri 2026-01-02 is BD+1.
    assert business_day_offset(q4, 1, PH) == date(2026, 1, 2)


def test_us_close_on_an_observed_new_year_holiday_moves_bd0_to_thursday():
    # 2028-01-01 is a Saturday, so the US federal holiday is observed on Fri 2027-12-31 --
    # the very day Q4 FY27 (calendar fiscal year) closes. BD0 becomes Thu 2027-12-30.
    q4 = fiscal_quarter(2027, 4, 1)
    assert close_day(q4, US) == date(2027, 12, 30)
    # BD-1: Wed 29; BD-3: Tue 28 (-2), Mon 27 (-3). Christmas is observed Fri 24 (25th is a Saturday).
    assert business_day_offset(q4, -3, US) == date(2027, 12, 27)
    assert business_day_offset(q4, -4, US) == date(2027, 12, 23)


def test_gb_boxing_day_observed_is_skipped_before_close():
    # Q4 FY26 (calendar fiscal year) closes Thu 2026-12-31, an ordinary GB working day.
    # Back from it: Wed 30 (-1), Tue 29 (-2), Mon 28 is Boxing Day (observed), 26-27 weekend,
    # Fri 25 Christmas, so Thu 24 is BD-3.
    q4 = fiscal_quarter(2026, 4, 1)
    assert close_day(q4, GB) == date(2026, 12, 31)
    assert business_day_offset(q4, -3, GB) == date(2026, 12, 24)
    assert GB.business_days_between(date(2026, 12, 24), date(2026, 12, 31)) == 3


def test_english_summer_bank_holiday_moves_close_but_uk_wide_calendar_does_not():
    # With start month 3, Q2 FY27 is Jun-Aug 2026 and closes Mon 2026-08-31, the late summer
    # bank holiday in England. The package's UK-wide default omits it (Scotland's is in early
    # August), so the subdivision matters.
    q2 = fiscal_quarter(2027, 2, 3)
    assert q2.last_day == date(2026, 8, 31)
    assert close_day(q2, BusinessCalendar("GB", subdivision="ENG")) == date(2026, 8, 28)
    assert close_day(q2, GB) == date(2026, 8, 31)


@pytest.mark.parametrize(
    "day, label",
    [
        (date(2027, 1, 29), "BD0"),
        (date(2027, 1, 22), "BD-5"),
        (date(2027, 1, 14), "BD-10"),
        (date(2027, 2, 12), "BD+10"),
        (date(2027, 2, 1), "BD+1"),
        # Non-business days take the label of the business day before them.
        (date(2027, 1, 30), "BD0"),  # Saturday after BD0
        (date(2027, 1, 31), "BD0"),  # the Sunday close date itself
        (date(2027, 1, 18), "BD-9"),  # MLK Day -> Fri 15, which is BD-9
    ],
)
def test_business_day_label_names_the_offset_from_bd0(day, label):
    assert business_day_label(day, fiscal_quarter(2027, 4, 2), US) == label


@pytest.mark.parametrize(
    "text, offset",
    [("BD0", 0), ("BD-5", -5), ("BD+10", 10), ("bd-20", -20), ("  BD+3\t", 3), ("Bd7", 7), ("BD+0", 0)],
)
def test_parse_bd_offset_accepts_canonical_and_lenient_forms(text, offset):
    assert parse_bd_offset(text) == offset


@pytest.mark.parametrize("text", ["BD", "BD+-1", "X5", "", "   ", "BD 5", "BD5.0", "BD-", "5", "BD+1000", "BD٣"])
def test_parse_bd_offset_rejects_malformed_text(text):
    with pytest.raises(ValueError, match="business-day offset"):
        parse_bd_offset(text)


@pytest.mark.parametrize("offset, text", [(0, "BD0"), (-5, "BD-5"), (10, "BD+10"), (1, "BD+1"), (-20, "BD-20")])
def test_format_bd_offset_writes_an_explicit_sign(offset, text):
    assert format_bd_offset(offset) == text
    assert parse_bd_offset(text) == offset
