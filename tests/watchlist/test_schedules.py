"""When jobs are expected: cron slots in the job's zone across both DST changes, intervals, early pings, windows."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from app.timeutil import UTC
from app.watchlist.schedules import (ScheduleError, ScheduleSpec, WindowSpec, check_cron, next_cron_slot, next_due,
                                     occurrences, previous_cron_slot, upcoming_slots, window_at)

LA, LONDON = "America/Los_Angeles", "Europe/London"


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def slots(expression: str, zone: str, after: datetime, count: int) -> list[datetime]:
    return upcoming_slots(ScheduleSpec(kind="cron", cron=expression, zone=zone), after, count)


# Los Angeles: clocks jump 02:00 -> 03:00 on Sunday 2026-03-08 and fall 02:00 -> 01:00 on Sunday 2026-11-01.
# London: 01:00 -> 02:00 on Sunday 2026-03-29 and 02:00 -> 01:00 on Sunday 2026-10-25.

def test_a_daily_slot_in_the_spring_forward_gap_happens_when_the_clocks_jump_in_los_angeles():
    assert slots("30 2 * * *", LA, utc(2026, 3, 7, 12), 3) == [
        utc(2026, 3, 8, 10),  # 02:30 does not exist: 03:00 PDT, the jump
        utc(2026, 3, 9, 9, 30),  # then 02:30 PDT again
        utc(2026, 3, 10, 9, 30)]


def test_a_daily_slot_in_the_repeated_hour_happens_once_at_its_first_occurrence_in_los_angeles():
    assert slots("30 1 * * *", LA, utc(2026, 10, 31, 12), 2) == [
        utc(2026, 11, 1, 8, 30),  # 01:30 PDT; the second 01:30 (PST, 09:30 UTC) is not a slot
        utc(2026, 11, 2, 9, 30)]


def test_reading_from_inside_the_repeated_hour_never_gives_a_slot_already_past():
    # 09:00 UTC is 01:00 PST, the second pass through 01:xx: today's 01:30 slot was at 08:30 UTC.
    assert next_cron_slot("30 1 * * *", LA, utc(2026, 11, 1, 9)) == utc(2026, 11, 2, 9, 30)


def test_an_hourly_job_keeps_both_repeated_hours_and_skips_the_missing_one_in_los_angeles():
    assert slots("0 * * * *", LA, utc(2026, 11, 1, 7, 30), 3) == [utc(2026, 11, 1, 8), utc(2026, 11, 1, 9),
                                                                   utc(2026, 11, 1, 10)]
    assert slots("0 * * * *", LA, utc(2026, 3, 8, 9, 30), 2) == [utc(2026, 3, 8, 10), utc(2026, 3, 8, 11)]


def test_london_spring_forward_moves_a_missing_slot_to_the_jump():
    assert slots("30 1 * * *", LONDON, utc(2026, 3, 28, 12), 2) == [utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)]


def test_london_fall_back_counts_the_repeated_slot_once():
    assert slots("30 1 * * *", LONDON, utc(2026, 10, 24, 12), 2) == [utc(2026, 10, 25, 0, 30),
                                                                      utc(2026, 10, 26, 1, 30)]


def test_a_weekday_expression_is_read_in_the_jobs_zone_not_utc():
    # Friday 2026-11-20 23:30 in Los Angeles is Saturday 07:30 UTC: still a weekday slot there.
    assert slots("30 23 * * 1-5", LA, utc(2026, 11, 20, 12), 2) == [utc(2026, 11, 21, 7, 30),
                                                                     utc(2026, 11, 24, 7, 30)]


def test_the_previous_slot_includes_the_instant_itself():
    assert previous_cron_slot("0 2 * * *", "UTC", utc(2026, 11, 16, 2)) == utc(2026, 11, 16, 2)
    assert previous_cron_slot("0 2 * * *", "UTC", utc(2026, 11, 16, 1, 59)) == utc(2026, 11, 15, 2)


def test_an_interval_job_is_expected_an_interval_after_its_ping_whatever_the_clocks_do():
    spec = ScheduleSpec(kind="interval", interval=timedelta(hours=1), zone=LA)
    assert next_due(spec, utc(2026, 11, 1, 8, 15)) == utc(2026, 11, 1, 9, 15)


@pytest.mark.parametrize("pinged, expected", [
    (utc(2026, 11, 16, 1, 59, 30), utc(2026, 11, 17, 2)),  # 30 s early, within a minute: counts for today's 02:00
    (utc(2026, 11, 16, 1, 58), utc(2026, 11, 16, 2)),  # 2 min early: too early, today's slot is still expected
    (utc(2026, 11, 16, 2, 4), utc(2026, 11, 17, 2)),  # on time
])
def test_an_early_ping_within_the_tolerance_counts_for_the_coming_slot(pinged, expected):
    spec = ScheduleSpec(kind="cron", cron="0 2 * * *", zone="UTC")
    assert next_due(spec, pinged, timedelta(seconds=60)) == expected


@pytest.mark.parametrize("expression, message", [
    ("0 2 * *", "five fields"),
    ("61 2 * * *", "bad minute"),
    ("0 0 30 2 *", "bad day-of-month"),
    ("every day", "five fields"),
])
def test_a_malformed_cron_expression_is_refused_with_the_reason(expression, message):
    with pytest.raises(ScheduleError, match=message):
        check_cron(expression)


def test_a_cron_expression_is_normalised_to_single_spaces():
    assert check_cron("  30   2 * *  1-5 ") == "30 2 * * 1-5"


def test_a_weekly_window_follows_london_wall_clock_across_the_change():
    sundays = WindowSpec(kind="weekly", weekday=6, start_time=time(1), end_time=time(3), zone=LONDON)
    found = occurrences(sundays, utc(2026, 3, 20), utc(2026, 4, 6))
    assert found == [(utc(2026, 3, 22, 1), utc(2026, 3, 22, 3)),  # GMT
                     (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),  # 01:00 is the jump; 03:00 BST is 02:00 UTC
                     (utc(2026, 4, 5, 0), utc(2026, 4, 5, 2))]  # BST


def test_a_window_ending_at_or_before_its_start_ends_the_next_day():
    overnight = WindowSpec(kind="weekly", weekday=4, start_time=time(22), end_time=time(2), zone="UTC")
    assert window_at([overnight], utc(2026, 11, 21, 1)) == (utc(2026, 11, 20, 22), utc(2026, 11, 21, 2))
    assert window_at([overnight], utc(2026, 11, 21, 2)) is None


def test_overlapping_windows_join_into_one_quiet_time():
    first = WindowSpec(kind="once", starts_at=utc(2026, 11, 16, 1), ends_at=utc(2026, 11, 16, 3))
    second = WindowSpec(kind="once", starts_at=utc(2026, 11, 16, 2), ends_at=utc(2026, 11, 16, 5))
    assert window_at([first, second], utc(2026, 11, 16, 1, 30)) == (utc(2026, 11, 16, 1), utc(2026, 11, 16, 5))


@pytest.mark.parametrize("nickname, after, expected", [
    ("@hourly", utc(2026, 11, 16, 9, 10), utc(2026, 11, 16, 10)),
    ("@daily", utc(2026, 11, 16, 9, 10), utc(2026, 11, 17, 8)),  # midnight in Los Angeles (PST)
    ("@midnight", utc(2026, 11, 16, 9, 10), utc(2026, 11, 17, 8)),
    ("@weekly", utc(2026, 11, 16, 9, 10), utc(2026, 11, 22, 8)),  # Sunday midnight
    ("@monthly", utc(2026, 11, 16, 9, 10), utc(2026, 12, 1, 8)),
    ("@yearly", utc(2026, 11, 16, 9, 10), utc(2027, 1, 1, 8)),
    ("@annually", utc(2026, 11, 16, 9, 10), utc(2027, 1, 1, 8)),
])
def test_cron_nicknames_are_accepted_and_read_in_the_jobs_zone(nickname, after, expected):
    assert check_cron(nickname.upper(), LA) == nickname
    assert next_cron_slot(nickname, LA, after) == expected


def test_a_nickname_with_no_schedule_is_refused_with_the_reason():
    with pytest.raises(ScheduleError, match="@reboot has no schedule to watch"):
        check_cron("@reboot", LA)


def test_a_close_freeze_window_covers_whole_business_days_around_bd0_in_the_close_region():
    from app.calendar.close_region import CloseRegion
    from app.timeutil import BusinessCalendar

    # Q4 FY27: BD0 Friday 2027-01-29; BD-2 Wednesday 27th; BD+3 Wednesday 3 February; days of Los Angeles.
    close = CloseRegion(zone=LA, calendar=BusinessCalendar(None), start_month=2)
    spec = WindowSpec(kind="freeze", bd_start=-2, bd_end=3, close=close)

    assert occurrences(spec, utc(2026, 12, 1), utc(2027, 3, 1)) == [(utc(2027, 1, 27, 8), utc(2027, 2, 4, 8))]
    assert window_at([spec], utc(2027, 1, 27, 7, 59)) is None
    assert window_at([spec], utc(2027, 2, 4, 7, 59)) == (utc(2027, 1, 27, 8), utc(2027, 2, 4, 8))
    # Every quarter has its own: Q1 FY28's BD0 is Friday 30 April.
    assert occurrences(spec, utc(2027, 4, 1), utc(2027, 5, 31)) == [(utc(2027, 4, 28, 7), utc(2027, 5, 6, 7))]
