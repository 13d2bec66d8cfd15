"""A cron job watched across a DST change, end to end: pings over HTTP, the deadline they set, the detector.

The rule (app/watchlist/schedules.py): a slot that does not exist (spring forward) is expected at the moment the
clocks jump; a slot that happens twice (fall back) is expected once, at its first occurrence.
Dates in 2027 (the fixtures' clock starts on 2026-11-16). PST = UTC-8, PDT = UTC-7, GMT = UTC+0, BST = UTC+1.
Los Angeles springs forward on Sunday 2027-03-14 (02:00 PST -> 03:00 PDT, 10:00 UTC) and falls back on Sunday
2027-11-07 (02:00 PDT -> 01:00 PST, 09:00 UTC); London springs forward on Sunday 2027-03-28 (01:00 GMT -> 02:00
BST, 01:00 UTC) and falls back on Sunday 2027-10-31 (02:00 BST -> 01:00 GMT, 01:00 UTC).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.timeutil import UTC
from tests.watchlist.conftest import detect, fresh

LA, LONDON = "America/Los_Angeles", "Europe/London"
MINUTE = timedelta(minutes=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize("zone, cron, day_before_slot, dst_day_slot, day_after_slot", [
    # 02:30 does not exist on the spring-forward day: expected at the jump, 03:00 PDT.
    (LA, "30 2 * * *", utc(2027, 3, 13, 10, 30), utc(2027, 3, 14, 10), utc(2027, 3, 15, 9, 30)),
    # 01:30 happens twice on the fall-back day: expected at the first, 01:30 PDT; the next is 01:30 PST.
    (LA, "30 1 * * *", utc(2027, 11, 6, 8, 30), utc(2027, 11, 7, 8, 30), utc(2027, 11, 8, 9, 30)),
    (LONDON, "30 1 * * *", utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1), utc(2027, 3, 29, 0, 30)),
    (LONDON, "30 1 * * *", utc(2027, 10, 30, 0, 30), utc(2027, 10, 31, 0, 30), utc(2027, 11, 1, 1, 30)),
], ids=["LA-spring-forward", "LA-fall-back", "London-spring-forward", "London-fall-back"])
def test_pings_on_both_sides_of_a_dst_change_expect_the_slot_by_the_dst_rule(
        make_job, ping, clock, zone, cron, day_before_slot, dst_day_slot, day_after_slot):
    job = make_job(cron_expr=cron, time_zone=zone)
    clock.move_to(day_before_slot + MINUTE)

    ping(job)  # the day before the change, on time
    assert fresh(job).due_at == dst_day_slot

    clock.move_to(dst_day_slot + MINUTE)
    ping(job)  # on the day of the change, at its slot
    assert fresh(job).due_at == day_after_slot


def test_on_the_spring_forward_day_a_job_is_late_from_the_jump(make_job, ping, clock):
    job = make_job(cron_expr="30 2 * * *", time_zone=LA, grace_minutes=15)
    clock.move_to(utc(2027, 3, 13, 10, 31))
    ping(job)

    clock.move_to(utc(2027, 3, 14, 9, 59, 59))  # 01:59:59 PST, a second before the jump
    assert detect() == {}
    clock.move_to(utc(2027, 3, 14, 10, 0, 5))  # 03:00:05 PDT
    assert detect() == {"late": 1}
    clock.move_to(utc(2027, 3, 14, 10, 15, 5))
    assert detect() == {"down": 1, "paged": 1}
    assert fresh(job).down_since == utc(2027, 3, 14, 10, 15)


def test_on_the_fall_back_day_the_second_pass_through_the_slot_is_not_expected(make_job, ping, clock):
    job = make_job(cron_expr="30 1 * * *", time_zone=LA, grace_minutes=15)
    clock.move_to(utc(2027, 11, 7, 8, 31))  # 01:31 PDT, the first pass: the job ran
    ping(job)

    clock.move_to(utc(2027, 11, 7, 9, 47))  # 01:47 PST: past the second 01:30 and its grace
    assert detect() == {}

    assert (fresh(job).state, fresh(job).due_at) == ("up", utc(2027, 11, 8, 9, 30))
