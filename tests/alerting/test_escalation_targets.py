"""An escalation step that names a schedule pages whoever is on call in it at that moment, and a gap skips on."""
from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from app.alerting.models import AlertEvent
from app.extensions import db
from app.oncall import policies, rotations, schedules
from tests.alerting.pager import give_methods

ALICE, BOB, CAROL = "+14155550101", "+14155550102", "+14155550103"
ALL_WEEK, WEEKDAYS = (0, 1, 2, 3, 4, 5, 6), (0, 1, 2, 3, 4)


def weekly_schedule(name: str, members, *, days=ALL_WEEK, start=time(0), end=time(0), zone: str = "UTC"):
    """A schedule of one weekly rotation handing over on Mondays at 09:00 UTC, from Monday 2026-09-28.

    At T0 (Tuesday 2026-10-06 02:00 UTC) the rotation is in its second week: its second member is on.
    """
    rotation = rotations.create_rotation(name=f"{name} rotation", time_zone="UTC", start_date=date(2026, 9, 28),
                                         start_time=time(9), handoff_kind="weekly", shift_length=1,
                                         member_ids=[person.id for person in members])
    schedule = schedules.create_schedule(name=name)
    schedules.add_layer(schedule, rotation_id=rotation.id, time_zone=zone, days=days, start_time=start,
                        end_time=end)
    return schedules.get_schedule(schedule.id)


def policy_of(*steps: list[dict], delay: int = 30):
    """A policy whose steps each notify the given targets: [{"schedule_id": 3}], [{"user_id": 7}] ..."""
    return policies.save_policy(None, name="Critical jobs",
                                steps=[{"delay_minutes": delay, "targets": targets} for targets in steps])


def timeline_texts(alert_id: int) -> list[str]:
    return list(db.session.scalars(select(AlertEvent.text).where(AlertEvent.alert_id == alert_id)
                                   .order_by(AlertEvent.id)))


def test_a_schedule_step_pages_whoever_is_on_call_when_it_runs(phones, make_user):
    alice, bob = make_user("responder", name="Alice"), make_user("responder", name="Bob")
    give_methods(alice, ("sms", ALICE, 0))
    give_methods(bob, ("sms", BOB, 0))
    primary = weekly_schedule("Primary", [alice, bob])
    policy = policy_of([{"schedule_id": primary.id}])

    first = phones.trigger("Billing job missed", escalation_policy_id=policy.id, dedup_key="billing")
    phones.tick()
    phones.expect_sms(BOB, "QD alert 1: Billing job missed")  # Bob's week; Alice is not texted
    assert "Step 1: paging Bob." in timeline_texts(first.id)

    phones.traveller.shift(timedelta(days=7))  # Monday 09:00 handed the rotation back to Alice
    phones.trigger("Bookings job missed", escalation_policy_id=policy.id, dedup_key="bookings")
    phones.tick()

    phones.expect_sms(ALICE, "QD alert 1: Bookings job missed")


def test_a_schedule_with_nobody_on_call_goes_on_to_the_next_step_at_once(phones, make_user):
    alice, bob, carol = (make_user("responder", name=name) for name in ("Alice", "Bob", "Carol"))
    give_methods(alice, ("sms", ALICE, 0))
    give_methods(bob, ("sms", BOB, 0))
    give_methods(carol, ("sms", CAROL, 0))
    # Office hours only: at T0, 03:00 on a Tuesday in London, nobody is on call.
    office = weekly_schedule("Office hours", [alice, bob], days=WEEKDAYS, start=time(9), end=time(17),
                             zone="Europe/London")
    policy = policy_of([{"schedule_id": office.id}], [{"user_id": carol.id}])

    alert = phones.trigger(escalation_policy_id=policy.id)
    phones.tick()  # no 30-minute wait on a step that reached nobody

    phones.expect_sms(CAROL, "QD alert 1:")
    texts = timeline_texts(alert.id)
    assert "Step 1: paging nobody. (nobody is on call in Office hours)" in texts
    assert "Nobody could be paged at that step: going on to the next at once." in texts
    assert "Step 2: paging Carol." in texts
