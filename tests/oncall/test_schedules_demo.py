"""The demo's on-call data: regional rotations, after hours, and a follow-the-sun schedule; safe to run twice."""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.auth.services import find_user_by_email
from app.oncall import policies, schedules
from app.oncall.services import notification_plan
from app.oncall.demo import seed_demo_oncall
from app.oncall.models import Rotation, RotationMember, Schedule, ScheduleLayer
from app.seed import seed_demo
from app.timeutil import UTC


def test_the_demo_builds_follow_the_sun_from_three_regions_and_after_hours(app):
    seed_demo()

    schedule = seed_demo_oncall()

    layers = [(layer.rotation.name, layer.time_zone, sorted(layer.weekdays), layer.start_time, layer.end_time)
              for layer in schedules.get_schedule(schedule.id).layers]
    assert schedule.name == "Follow the sun"
    assert layers == [
        ("APAC on-call", "Asia/Manila", [0, 1, 2, 3, 4], time(9), time(18)),
        ("EMEA on-call", "Europe/London", [0, 1, 2, 3, 4], time(8), time(17)),
        ("AMER on-call", "America/Los_Angeles", [0, 1, 2, 3, 4], time(7), time(17)),
        ("After hours", "UTC", [0, 1, 2, 3, 4, 5, 6], time(0), time(0)),
    ]
    emails = set(db.session.scalars(select(User.email).join(RotationMember, RotationMember.user_id == User.id)))
    assert emails == {"admin@acme.example", "crisis@acme.example", "oncall@acme.example"}  # no executive


def test_the_demo_rotations_hand_off_mondays_at_nine_local_and_daily_at_eighteen_utc(app):
    seed_demo()
    schedule = schedules.get_schedule(seed_demo_oncall().id)

    # APAC: weekly from Monday 2026-01-05 09:00 Manila; Wednesday 2026-11-25 03:00 UTC (11:00 Manila) is 46
    # weeks on (322 days), and 46 % 3 = 1: the second person, crisis@.
    apac = schedules.who_is_on_call(schedule, datetime(2026, 11, 25, 3, tzinfo=UTC))
    # After hours: daily from 2026-01-05 18:00 UTC; Saturday 2026-11-28 12:00 UTC is in the shift that began
    # Friday 11-27 18:00, 326 days on, and 326 % 3 = 2: the third person, admin@.
    night = schedules.who_is_on_call(schedule, datetime(2026, 11, 28, 12, tzinfo=UTC))

    assert [user.email for user in apac] == ["crisis@acme.example"]
    assert [user.email for user in night] == ["admin@acme.example"]
    rotation = db.session.scalar(select(Rotation).where(Rotation.name == "EMEA on-call"))
    assert (rotation.start_local, rotation.handoff_kind.value) == (datetime(2026, 1, 5, 9), "weekly")


def test_the_demo_is_safe_to_run_twice(app):
    seed_demo()
    first = seed_demo_oncall()

    second = seed_demo_oncall()

    assert second.id == first.id
    counts = [db.session.scalar(select(func.count()).select_from(model))
              for model in (Rotation, RotationMember, Schedule, ScheduleLayer)]
    assert counts == [4, 12, 1, 4]


def test_the_demo_seed_includes_the_on_call_schedule_and_policy(app):
    seed_demo()

    assert db.session.scalar(select(func.count()).select_from(Schedule).where(Schedule.name == "Follow the sun")) == 1
    assert [policy.name for policy in policies.list_policies()] == ["Crisis team (fallback)", "Critical jobs"]
    # The crisis team's policy is the organisation's fallback: no demo alert can page nobody.
    assert policies.fallback_policy().name == "Crisis team (fallback)"


def test_every_page_links_to_the_on_call_pages(login_as):
    client = login_as("executive")

    page = client.get("/").get_data(as_text=True)

    for href in ("/oncall/people", "/schedules", "/policies", "/messages"):  # in the bar or behind More
        assert f'href="{href}"' in page
    assert 'href="/rotations"' in client.get("/schedules").get_data(as_text=True)  # rotations: from schedules


def test_the_demo_on_call_people_can_be_paged_and_the_executive_is_not_on_the_list(app):
    seed_demo()
    seed_demo()

    for email in ("admin@acme.example", "crisis@acme.example", "oncall@acme.example"):
        plan = notification_plan(find_user_by_email(email))
        assert [(delay, method.kind.value) for delay, method in plan] == [(0, "email"), (0, "sms"), (2, "voice")]
    assert notification_plan(find_user_by_email("exec@acme.example")) == []
