"""The rotation engine on its own (app/oncall/rotation.py): pure arithmetic, no database, no app.

Every expected instant is worked out by hand in the comments: PDT = UTC-7, PST = UTC-8, BST = UTC+1,
GMT = UTC+0, Manila = UTC+8 (no DST). DST changes used: Los Angeles falls back on 2026-11-01 (02:00 PDT ->
01:00 PST) and springs forward on 2027-03-14 (02:00 PST -> 03:00 PDT); London falls back on 2026-10-25
(02:00 BST -> 01:00 GMT) and springs forward on 2027-03-28 (01:00 GMT -> 02:00 BST).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from app.oncall.rotation import (ADD, CUSTOM, DAILY, HOURLY, REPLACE, WEEKLY, LayerSpec, OverrideSpec, RotationSpec,
                                 ScheduleSpec, gaps, on_call, shifts_of, timeline)
from app.timeutil import UTC, wall_clock_to_utc

LA, LONDON, MANILA = "America/Los_Angeles", "Europe/London", "Asia/Manila"
WEEKDAYS, EVERY_DAY = frozenset(range(5)), frozenset(range(7))
ALL_DAY = time(0)
A, B, C, D = 1, 2, 3, 4


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# -- the DST rule ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("zone, local, expected", [
    # Spring forward: the wall time does not exist; the hand-off happens when the clocks jump.
    (LA, datetime(2027, 3, 14, 2, 30), utc(2027, 3, 14, 10, 0)),  # the jump: 02:00 PST = 10:00 UTC
    (LONDON, datetime(2027, 3, 28, 1, 30), utc(2027, 3, 28, 1, 0)),  # the jump: 01:00 GMT = 01:00 UTC
    # Fall back: the wall time happens twice; the hand-off happens at the first occurrence (summer time).
    (LA, datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 8, 30)),  # 01:30 PDT, not 01:30 PST (09:30 UTC)
    (LONDON, datetime(2026, 10, 25, 1, 30), utc(2026, 10, 25, 0, 30)),  # 01:30 BST, not 01:30 GMT
    # Ordinary times are untouched.
    (LA, datetime(2026, 11, 1, 3, 0), utc(2026, 11, 1, 11, 0)),  # 03:00 PST
    (MANILA, datetime(2026, 11, 25, 9, 0), utc(2026, 11, 25, 1, 0)),
], ids=["LA-spring-gap", "London-spring-gap", "LA-fall-ambiguous", "London-fall-ambiguous", "LA-ordinary",
        "Manila"])
def test_a_wall_clock_time_resolves_by_the_dst_rule(zone, local, expected):
    assert wall_clock_to_utc(local.date(), local.time(), zone) == expected


@pytest.mark.parametrize("zone, anchor, shift, expected", [
    # Weekly at Sunday 01:30 in Los Angeles, from 2026-10-25 (PDT): across both changes.
    (LA, datetime(2026, 10, 25, 1, 30), 1, utc(2026, 11, 1, 8, 30)),  # fall-back day: first 01:30 (PDT)
    (LA, datetime(2026, 10, 25, 1, 30), 2, utc(2026, 11, 8, 9, 30)),  # 01:30 PST
    (LA, datetime(2026, 10, 25, 1, 30), 20, utc(2027, 3, 14, 9, 30)),  # 20 weeks on: spring-forward day,
    # 01:30 still exists (PST)
    (LA, datetime(2026, 10, 25, 1, 30), 21, utc(2027, 3, 21, 8, 30)),  # 01:30 PDT
    # Weekly at Sunday 02:30 in Los Angeles: on fall-back day 02:30 happens once; on spring-forward day never.
    (LA, datetime(2026, 10, 25, 2, 30), 1, utc(2026, 11, 1, 10, 30)),  # 02:30 PST
    (LA, datetime(2026, 10, 25, 2, 30), 20, utc(2027, 3, 14, 10, 0)),  # does not exist: the jump
    (LA, datetime(2026, 10, 25, 2, 30), 21, utc(2027, 3, 21, 9, 30)),  # 02:30 PDT
    # Weekly at Sunday 01:30 in London, from 2026-10-18 (BST): 01:30 is ambiguous in October, missing in March.
    (LONDON, datetime(2026, 10, 18, 1, 30), 1, utc(2026, 10, 25, 0, 30)),  # first 01:30 (BST)
    (LONDON, datetime(2026, 10, 18, 1, 30), 2, utc(2026, 11, 1, 1, 30)),  # 01:30 GMT
    (LONDON, datetime(2026, 10, 18, 1, 30), 23, utc(2027, 3, 28, 1, 0)),  # 23 weeks on: the jump
    (LONDON, datetime(2026, 10, 18, 1, 30), 24, utc(2027, 4, 4, 0, 30)),  # 01:30 BST
])
def test_a_weekly_rotation_hands_off_across_both_dst_changes(zone, anchor, shift, expected):
    rotation = RotationSpec(zone, anchor, WEEKLY, 1, (A, B, C))

    assert rotation.handoff(shift) == expected
    assert rotation.shift_index(expected) == shift
    assert rotation.shift_index(expected - timedelta(seconds=1)) == shift - 1
    assert rotation.member_at(expected) == (A, B, C)[shift % 3]


def test_the_fall_back_week_is_an_hour_longer_and_the_repeated_hour_has_no_second_hand_off():
    rotation = RotationSpec(LA, datetime(2026, 10, 25, 1, 30), WEEKLY, 1, (A, B, C))

    # Shift 1 runs from the first 01:30 on 2026-11-01 (08:30 UTC) to 01:30 PST on 2026-11-08 (09:30 UTC).
    assert rotation.handoff(2) - rotation.handoff(1) == timedelta(hours=169)
    # The second 01:30 (PST, 09:30 UTC) is still B's shift.
    assert rotation.member_at(utc(2026, 11, 1, 9, 30)) == B


def test_the_spring_forward_week_loses_its_hour_on_both_sides_of_a_missing_hand_off():
    rotation = RotationSpec(LA, datetime(2026, 10, 25, 2, 30), WEEKLY, 1, (A, B, C))

    # 02:30 PST on 03-07 (10:30 UTC) -> the jump on 03-14 (10:00 UTC) -> 02:30 PDT on 03-21 (09:30 UTC).
    assert rotation.handoff(20) - rotation.handoff(19) == timedelta(hours=167, minutes=30)
    assert rotation.handoff(21) - rotation.handoff(20) == timedelta(hours=167, minutes=30)
    assert rotation.member_at(utc(2027, 3, 14, 9, 59, 59)) == B  # shift 19: 19 % 3 = 1
    assert rotation.member_at(utc(2027, 3, 14, 10)) == C  # shift 20: 20 % 3 = 2


@pytest.mark.parametrize("zone, anchor, window, expected", [
    # Daily at 02:30 LA: 02:30 PST, then the jump, then 02:30 PDT.
    (LA, datetime(2027, 3, 10, 2, 30), (utc(2027, 3, 13), utc(2027, 3, 16)),
     [utc(2027, 3, 13, 10, 30), utc(2027, 3, 14, 10, 0), utc(2027, 3, 15, 9, 30)]),
    # Daily at 01:30 LA: 01:30 PDT, the first of the two 01:30s, then 01:30 PST.
    (LA, datetime(2026, 10, 29, 1, 30), (utc(2026, 10, 31), utc(2026, 11, 3)),
     [utc(2026, 10, 31, 8, 30), utc(2026, 11, 1, 8, 30), utc(2026, 11, 2, 9, 30)]),
    # Daily at 01:30 London: 01:30 GMT, the jump, 01:30 BST.
    (LONDON, datetime(2027, 3, 26, 1, 30), (utc(2027, 3, 27), utc(2027, 3, 30)),
     [utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 0), utc(2027, 3, 29, 0, 30)]),
    # Daily at 01:30 London: 01:30 BST, the first 01:30 (BST), then 01:30 GMT.
    (LONDON, datetime(2026, 10, 23, 1, 30), (utc(2026, 10, 24), utc(2026, 10, 27)),
     [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]),
], ids=["LA-spring", "LA-fall", "London-spring", "London-fall"])
def test_a_daily_rotation_hands_off_on_dst_days_by_the_rule(zone, anchor, window, expected):
    assert RotationSpec(zone, anchor, DAILY, 1, (A, B)).handoffs_between(*window) == expected


@pytest.mark.parametrize("anchor, hourly_next, daily_next", [
    # From midnight PDT (07:00 UTC) on fall-back day: 24 elapsed hours end at 23:00 PST the same day
    # (07:00 UTC), while the calendar day ends at midnight PST (08:00 UTC), 25 hours later.
    (datetime(2026, 11, 1), utc(2026, 11, 2, 7), utc(2026, 11, 2, 8)),
    # From midnight PST (08:00 UTC) on spring-forward day: 24 hours end at 01:00 PDT the next day (08:00 UTC);
    # the calendar day (23 hours) ends at midnight PDT (07:00 UTC).
    (datetime(2027, 3, 14), utc(2027, 3, 15, 8), utc(2027, 3, 15, 7)),
], ids=["fall-back", "spring-forward"])
def test_an_hourly_rotation_counts_elapsed_hours_not_calendar_days(anchor, hourly_next, daily_next):
    assert RotationSpec(LA, anchor, HOURLY, 24, (A, B)).handoff(1) == hourly_next
    assert RotationSpec(LA, anchor, DAILY, 1, (A, B)).handoff(1) == daily_next


def test_an_hourly_rotation_hands_off_twenty_five_times_on_the_long_day():
    rotation = RotationSpec(LA, datetime(2026, 11, 1), HOURLY, 1, (A, B))

    # Local 2026-11-01 runs from 07:00 UTC to 08:00 UTC the next day: 25 hours, 25 hand-offs.
    assert len(rotation.handoffs_between(utc(2026, 11, 1, 7), utc(2026, 11, 2, 8))) == 25


# Every 36 hours from Friday 2026-10-30 09:00 PDT (16:00 UTC), A then B then C, across Los Angeles' fall back:
# hand-offs at 10-30 16:00, 11-01 04:00, 11-02 16:00, 11-04 04:00, 11-05 16:00 UTC. Elapsed time, so the wall clock
# drifts an hour after the change (the third hand-off is 08:00 PST, not 09:00).
CUSTOM_36H = RotationSpec(LA, datetime(2026, 10, 30, 9), CUSTOM, 36, (A, B, C))


@pytest.mark.parametrize("at, expected", [
    (utc(2026, 10, 30, 15, 59, 59), None),  # before the first hand-off
    (utc(2026, 10, 30, 16), A),
    (utc(2026, 11, 1, 3, 59, 59), A),
    (utc(2026, 11, 1, 4), B),  # Saturday 21:00 PDT
    (utc(2026, 11, 1, 9, 30), B),  # the second 01:30 (PST) changes nothing
    (utc(2026, 11, 2, 15, 59, 59), B),
    (utc(2026, 11, 2, 16), C),  # 08:00 PST: 36 elapsed hours (a wall-clock rule would wait until 09:00 PST)
    (utc(2026, 11, 2, 16, 59, 59), C),
    (utc(2026, 11, 4, 3, 59, 59), C),
    (utc(2026, 11, 4, 4), A),  # the list wraps
    (utc(2026, 11, 5, 16), B),
], ids=lambda value: value.isoformat() if isinstance(value, datetime) else None)
def test_a_custom_rotation_hands_off_every_36_elapsed_hours_across_a_dst_change(at, expected):
    assert CUSTOM_36H.member_at(at) == expected


def test_a_custom_rotations_hand_offs_are_exactly_its_length_apart_across_a_dst_change():
    handoffs = CUSTOM_36H.handoffs_between(utc(2026, 10, 30), utc(2026, 11, 6))

    assert handoffs == [utc(2026, 10, 30, 16) + k * timedelta(hours=36) for k in range(5)]


def test_before_a_rotation_starts_nobody_is_on_it():
    rotation = RotationSpec(LONDON, datetime(2026, 11, 2, 9), WEEKLY, 1, (A, B))  # 09:00 GMT = 09:00 UTC
    schedule = ScheduleSpec((LayerSpec(rotation, "UTC", EVERY_DAY, ALL_DAY, ALL_DAY),))

    assert rotation.shift_index(utc(2026, 11, 2, 8, 59)) is None
    assert rotation.member_at(utc(2026, 11, 2, 8, 59)) is None
    assert on_call(schedule, utc(2026, 11, 2, 8, 59)) == []
    assert on_call(schedule, utc(2026, 11, 2, 9)) == [A]
    assert [(g.start, g.end) for g in gaps(timeline(schedule, utc(2026, 11, 2), utc(2026, 11, 3)))] == \
        [(utc(2026, 11, 2), utc(2026, 11, 2, 9))]


# -- follow the sun ---------------------------------------------------------------------------------------------

APAC, EMEA, AMER, NIGHT = 101, 201, 301, 401


def follow_the_sun(after_hours_days: frozenset[int] = EVERY_DAY) -> ScheduleSpec:
    def single(person: int, zone: str) -> RotationSpec:
        return RotationSpec(zone, datetime(2026, 1, 5, 9), WEEKLY, 1, (person,))

    return ScheduleSpec((
        LayerSpec(single(APAC, MANILA), MANILA, WEEKDAYS, time(9), time(18)),
        LayerSpec(single(EMEA, LONDON), LONDON, WEEKDAYS, time(8), time(17)),
        LayerSpec(single(AMER, LA), LA, WEEKDAYS, time(7), time(17)),
        LayerSpec(RotationSpec("UTC", datetime(2026, 1, 5, 18), DAILY, 1, (NIGHT,)), "UTC", after_hours_days,
                  ALL_DAY, ALL_DAY),
    ))


@pytest.mark.parametrize("at, expected", [
    # Winter weekday, Wednesday 2026-11-25: APAC 01:00-10:00 UTC, EMEA 08:00-17:00, AMER 15:00-01:00.
    (utc(2026, 11, 25, 3), APAC),  # Manila 11:00
    (utc(2026, 11, 25, 9), APAC),  # Manila 17:00 and London 09:00: the first layer decides
    (utc(2026, 11, 25, 10), EMEA),  # Manila 18:00 closed, London 10:00
    (utc(2026, 11, 25, 16), EMEA),  # London 16:00 and LA 08:00: EMEA is the earlier layer
    (utc(2026, 11, 25, 17), AMER),  # London 17:00 closed, LA 09:00
    (utc(2026, 11, 26, 0, 30), AMER),  # LA is still Wednesday, 16:30
    (utc(2026, 11, 26, 1), APAC),  # LA 17:00 closed, Manila Thursday 09:00
    # Summer weekday, Wednesday 2027-06-16: EMEA 07:00-16:00 UTC, AMER 14:00-00:00: an hour is left over.
    (utc(2027, 6, 16, 15), EMEA),  # London 16:00 BST
    (utc(2027, 6, 16, 16), AMER),  # LA 09:00 PDT
    (utc(2027, 6, 17, 0, 30), NIGHT),  # LA 17:30 closed, Manila 08:30 not yet open
    # Weekend, Saturday 2026-11-28.
    (utc(2026, 11, 28, 0, 30), AMER),  # LA is still Friday, 16:30
    (utc(2026, 11, 28, 1, 30), NIGHT),  # Manila Saturday 09:30: no weekend layer
    (utc(2026, 11, 28, 12), NIGHT),
    (utc(2026, 11, 29, 23, 30), NIGHT),  # Manila Monday 07:30, before its window
    (utc(2026, 11, 30, 1), APAC),  # Manila Monday 09:00
])
def test_follow_the_sun_hands_off_between_three_regions_and_after_hours(at, expected):
    assert on_call(follow_the_sun(), at) == [expected]


def test_a_gap_is_detected_when_no_layer_covers_the_weekend():
    schedule = follow_the_sun(after_hours_days=WEEKDAYS)  # the after-hours layer works Monday to Friday (UTC)

    segments = timeline(schedule, utc(2026, 11, 28), utc(2026, 11, 30))

    assert on_call(schedule, utc(2026, 11, 28, 12)) == []
    # Saturday 00:00-01:00 UTC is still Friday in LA (AMER); from Manila's Saturday 09:00 (01:00 UTC) nobody
    # covers until the after-hours layer opens on Monday 00:00 UTC.
    assert [(gap.start, gap.end) for gap in gaps(segments)] == [(utc(2026, 11, 28, 1), utc(2026, 11, 30))]


@pytest.mark.parametrize("start, end", [
    (utc(2026, 10, 20), utc(2026, 11, 10)),  # both autumn changes, London then LA
    (utc(2027, 3, 10), utc(2027, 4, 2)),  # both spring changes
])
def test_timeline_segments_never_overlap_and_cover_the_range_exactly(start, end):
    schedule = ScheduleSpec(follow_the_sun(WEEKDAYS).layers, (
        OverrideSpec(C, start + timedelta(days=2, hours=3), start + timedelta(days=4), REPLACE, NIGHT),
        OverrideSpec(D, start + timedelta(days=3), start + timedelta(days=9, minutes=7), ADD),
    ))

    segments = timeline(schedule, start, end)

    assert segments[0].start == start and segments[-1].end == end
    for before, after in zip(segments, segments[1:]):
        assert before.end == after.start  # no overlap, no hole
        assert before.people != after.people  # neighbours are merged when nothing changes
    for segment in segments:
        assert segment.start < segment.end
        # The people of a segment are those on call at its first and its last second.
        assert on_call(schedule, segment.start) == list(segment.people)
        assert on_call(schedule, segment.end - timedelta(seconds=1)) == list(segment.people)


# -- overrides ----------------------------------------------------------------------------------------------------

# A and B hand off every Monday at 09:00 UTC, from Monday 2026-11-02: A until 11-09 09:00, then B.
WEEKLY_AB = RotationSpec("UTC", datetime(2026, 11, 2, 9), WEEKLY, 1, (A, B))
ALWAYS = LayerSpec(WEEKLY_AB, "UTC", EVERY_DAY, ALL_DAY, ALL_DAY)


def spans(schedule: ScheduleSpec, start: datetime, end: datetime) -> list[tuple[datetime, datetime, tuple]]:
    return [(s.start, s.end, s.people) for s in timeline(schedule, start, end)]


def test_an_override_inside_a_shift_covers_only_its_hours():
    pto = OverrideSpec(C, utc(2026, 11, 3, 10), utc(2026, 11, 3, 14), REPLACE, A)  # Tuesday 10:00-14:00

    assert spans(ScheduleSpec((ALWAYS,), (pto,)), utc(2026, 11, 2, 9), utc(2026, 11, 9, 9)) == [
        (utc(2026, 11, 2, 9), utc(2026, 11, 3, 10), (A,)),
        (utc(2026, 11, 3, 10), utc(2026, 11, 3, 14), (C,)),
        (utc(2026, 11, 3, 14), utc(2026, 11, 9, 9), (A,)),
    ]


def test_an_override_of_everyone_spanning_a_hand_off_holds_across_it():
    cover = OverrideSpec(C, utc(2026, 11, 8, 20), utc(2026, 11, 9, 12), REPLACE)  # Sunday 20:00 - Monday 12:00

    # One segment for C across Monday's 09:00 hand-off, then B (whose shift began at 09:00).
    assert spans(ScheduleSpec((ALWAYS,), (cover,)), utc(2026, 11, 8), utc(2026, 11, 9, 18)) == [
        (utc(2026, 11, 8), utc(2026, 11, 8, 20), (A,)),
        (utc(2026, 11, 8, 20), utc(2026, 11, 9, 12), (C,)),
        (utc(2026, 11, 9, 12), utc(2026, 11, 9, 18), (B,)),
    ]


def test_an_override_for_one_person_spanning_a_hand_off_ends_with_their_shift():
    cover_for_a = OverrideSpec(C, utc(2026, 11, 8, 20), utc(2026, 11, 9, 12), REPLACE, A)

    # C stands in for A only: at 09:00 A's shift is over and B, who is not replaced, takes over.
    assert spans(ScheduleSpec((ALWAYS,), (cover_for_a,)), utc(2026, 11, 8), utc(2026, 11, 9, 18)) == [
        (utc(2026, 11, 8), utc(2026, 11, 8, 20), (A,)),
        (utc(2026, 11, 8, 20), utc(2026, 11, 9, 9), (C,)),
        (utc(2026, 11, 9, 9), utc(2026, 11, 9, 18), (B,)),
    ]


TUESDAY = (utc(2026, 11, 3), utc(2026, 11, 4))  # A is on call all day


@pytest.mark.parametrize("overrides, expected", [
    ([(C, REPLACE, A)], [C]),  # replace one: C instead of A
    ([(C, REPLACE, B)], [A]),  # B is not on call: nothing to replace
    ([(C, REPLACE, None)], [C]),  # replace all
    ([(C, ADD, None)], [A, C]),  # add: beside whoever is on call
    ([(A, ADD, None)], [A]),  # adding someone already on call does not list them twice
    ([(D, ADD, None), (C, REPLACE, None)], [C]),  # replace all, applied after the add, replaces the added too
    ([(D, ADD, None), (C, REPLACE, A)], [C, D]),  # replace one leaves the added person
], ids=["replace-one", "replace-absent", "replace-all", "add", "add-present", "add-then-replace-all",
        "add-then-replace-one"])
def test_overrides_replace_one_replace_all_or_add(overrides, expected):
    schedule = ScheduleSpec((ALWAYS,), tuple(OverrideSpec(user, *TUESDAY, mode, replaces)
                                             for user, mode, replaces in overrides))

    assert on_call(schedule, utc(2026, 11, 3, 12)) == expected


def test_a_persons_shifts_merge_across_segments_where_others_change():
    helper = OverrideSpec(C, utc(2026, 11, 3, 10), utc(2026, 11, 3, 14), ADD)  # C beside A for four hours

    segments = timeline(ScheduleSpec((ALWAYS,), (helper,)), utc(2026, 11, 2, 9), utc(2026, 11, 16, 9))

    # A's week is one stretch although the segments split at 10:00 and 14:00 on Tuesday.
    assert shifts_of(A, segments) == [(utc(2026, 11, 2, 9), utc(2026, 11, 9, 9))]
    assert shifts_of(C, segments) == [(utc(2026, 11, 3, 10), utc(2026, 11, 3, 14))]
    assert shifts_of(B, segments) == [(utc(2026, 11, 9, 9), utc(2026, 11, 16, 9))]
