"""One wall-clock rule, used everywhere a time of day in a zone becomes an instant.

A time the clocks skip (spring forward) happens at the instant the clocks jump; a time that happens twice (fall
back) happens at its first occurrence. Both changes in four zones, worked out by hand:
- Los Angeles: 2027-03-14 02:00 PST -> 03:00 PDT (10:00 UTC); 2026-11-01 02:00 PDT -> 01:00 PST.
- London: 2027-03-28 01:00 GMT -> 02:00 BST (01:00 UTC); 2026-10-25 02:00 BST -> 01:00 GMT.
- Sydney: 2026-10-04 02:00 AEST -> 03:00 AEDT (2026-10-03 16:00 UTC); 2027-04-04 03:00 AEDT -> 02:00 AEST.
- Lord Howe Island (a half-hour change): 2026-10-04 02:00 -> 02:30 (+10:30 -> +11, 2026-10-03 15:30 UTC);
  2027-04-04 02:00 -> 01:30 (+11 -> +10:30).
The same answer must come out of the resolver, a rotation's hand-off, the weekly review slot, a cron slot and a
weekly maintenance window.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from app.oncall.rotation import DAILY, LayerSpec, RotationSpec
from app.reviews.agenda import slot_in_week
from app.timeutil import UTC, wall_clock_to_utc, zone_label
from app.watchlist.schedules import WindowSpec, next_cron_slot, occurrences


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


LA, LONDON, SYDNEY, LORD_HOWE = "America/Los_Angeles", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe"

CASES = [
    # zone, local day, wall time, the instant
    (LA, date(2027, 3, 14), time(2, 30), utc(2027, 3, 14, 10, 0)),  # skipped: the jump
    (LA, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 8, 30)),  # twice: 01:30 PDT, not 09:30 UTC (PST)
    (LONDON, date(2027, 3, 28), time(1, 30), utc(2027, 3, 28, 1, 0)),
    (LONDON, date(2026, 10, 25), time(1, 30), utc(2026, 10, 25, 0, 30)),  # 01:30 BST
    (SYDNEY, date(2026, 10, 4), time(2, 30), utc(2026, 10, 3, 16, 0)),
    (SYDNEY, date(2027, 4, 4), time(2, 30), utc(2027, 4, 3, 15, 30)),  # 02:30 AEDT, not 16:30 UTC (AEST)
    (LORD_HOWE, date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 15, 30)),
    (LORD_HOWE, date(2027, 4, 4), time(1, 45), utc(2027, 4, 3, 14, 45)),  # at +11, not 15:15 UTC (+10:30)
]
IDS = ["LA-spring", "LA-fall", "London-spring", "London-fall", "Sydney-spring", "Sydney-fall", "LordHowe-spring",
       "LordHowe-fall"]


@pytest.mark.parametrize("zone, day, wall, instant", CASES, ids=IDS)
def test_the_resolver_follows_the_rule_at_both_changes(zone, day, wall, instant):
    assert wall_clock_to_utc(day, wall, zone) == instant


@pytest.mark.parametrize("zone, day, wall, instant", CASES, ids=IDS)
def test_a_daily_rotation_hands_off_at_the_resolved_instant(zone, day, wall, instant):
    rotation = RotationSpec(zone=zone, start_local=datetime.combine(day - timedelta(days=3), wall), kind=DAILY,
                            length=1, members=(1, 2))

    assert rotation.handoff(3) == instant


@pytest.mark.parametrize("zone, day, wall, instant", CASES, ids=IDS)
def test_a_schedule_layer_opens_at_the_resolved_instant(zone, day, wall, instant):
    rotation = RotationSpec(zone=zone, start_local=datetime(2026, 1, 1), kind=DAILY, length=1, members=(1,))
    layer = LayerSpec(rotation=rotation, zone=zone, days=frozenset(range(7)), start=wall, end=time(23))

    assert layer.windows_on(day)[0] == instant


@pytest.mark.parametrize("zone, day, wall, instant", CASES, ids=IDS)
def test_the_weekly_review_slot_is_the_resolved_instant(zone, day, wall, instant):
    settings = SimpleNamespace(review_weekday=day.weekday(), review_time=wall, review_zone=zone)

    assert slot_in_week(settings, day) == instant


@pytest.mark.parametrize("zone, day, wall, instant", CASES, ids=IDS)
def test_a_fixed_time_cron_slot_is_the_resolved_instant(zone, day, wall, instant):
    expression = f"{wall.minute} {wall.hour} * * *"

    assert next_cron_slot(expression, zone, instant - timedelta(hours=3)) == instant
    # And once only: the next slot is the next day's, never the second pass through a repeated hour.
    assert next_cron_slot(expression, zone, instant) > instant + timedelta(hours=20)


@pytest.mark.parametrize("zone, day, wall, instant", CASES, ids=IDS)
def test_a_weekly_maintenance_window_opens_at_the_resolved_instant(zone, day, wall, instant):
    window = WindowSpec(kind="weekly", weekday=day.weekday(), start_time=wall, end_time=time(5), zone=zone)

    [(opens, _closes)] = occurrences(window, instant - timedelta(hours=1), instant + timedelta(hours=1))

    assert opens == instant


def test_a_time_with_its_own_zone_is_refused():
    with pytest.raises(ValueError):
        wall_clock_to_utc(date(2027, 3, 14), time(2, 30, tzinfo=UTC), LA)


@pytest.mark.parametrize("zone, at, label", [
    (LA, utc(2027, 1, 15), "UTC−8, Los Angeles"),
    (LA, utc(2027, 7, 15), "UTC−7, Los Angeles"),
    ("Asia/Manila", utc(2027, 1, 15), "UTC+8, Manila"),  # both would print "PST" with %Z
    ("Asia/Kolkata", utc(2027, 1, 15), "UTC+5:30, Kolkata"),
    (LORD_HOWE, utc(2027, 1, 15), "UTC+11, Lord Howe"),
    ("UTC", utc(2027, 1, 15), "UTC"),
])
def test_a_zone_is_named_by_its_offset_then_and_its_place(zone, at, label):
    assert zone_label(zone, at) == label
