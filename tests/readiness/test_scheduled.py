"""Scheduler jobs: the quarter's checklist created once, one snapshot a day, each overdue item's owner reminded once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.extensions import db
from app.oncall.models import ContactKind, ContactMethod
from app.readiness import checklist
from app.readiness.models import ReadinessQuarter, ReadinessSnapshot
from app.readiness.scheduled import instantiate_current_quarter, remind_overdue_items, snapshot_today
from app.readiness.snapshots import quarter_trend
from app.scheduler import jobs
from app.timeutil import fiscal_quarter, utcnow
from tests.conftest import drain_outbox

Q4 = fiscal_quarter(2027, 4)


def test_the_scheduler_lists_the_three_readiness_jobs(app):
    names = {job.name for job in jobs(app)}
    assert {"readiness_checklist", "readiness_snapshot", "readiness_overdue_reminders"} <= names


def test_the_scheduler_creates_the_current_quarters_checklist_once(app, make_user):
    checklist.save_template_item(title="DR test", track="drtest", owner_id=make_user().id, bd_offset=-30)
    assert instantiate_current_quarter() == 1
    assert instantiate_current_quarter() == 0
    [row] = db.session.scalars(select(ReadinessQuarter)).all()
    assert (row.fiscal_year, row.quarter, row.instantiated_by) == (2027, 4, "scheduler")


def test_one_snapshot_a_day_however_often_the_job_runs(app, clock):
    assert snapshot_today() == {"frozen": False, "snapshot": True}
    assert snapshot_today() == {"frozen": False, "snapshot": False}
    clock.move_to(datetime(2026, 11, 18, 1, tzinfo=UTC))
    assert snapshot_today() == {"frozen": False, "snapshot": True}
    days = db.session.scalars(select(ReadinessSnapshot.day).order_by(ReadinessSnapshot.day)).all()
    assert [day.isoformat() for day in days] == ["2026-11-17", "2026-11-18"]


def test_the_trend_compares_with_last_week_and_the_quarters_first_snapshot(app, clock):
    for days_ago, score in ((14, 50), (7, 60), (1, 70)):
        day = utcnow().date() - timedelta(days=days_ago)
        db.session.add(ReadinessSnapshot(day=day, fiscal_year=2027, quarter=4, score=score, colour="amber",
                                         tracks={}))
    db.session.commit()
    trend = quarter_trend(Q4)
    assert (trend.since_week, trend.since_start) == (10, 20)
    assert len(trend.points) == 3


@pytest.fixture
def overdue_items(app, make_user, clock):
    """Three items due BD-30 (Friday 18 December 2026): a person with an email, a person without, and a role."""
    reachable = make_user("responder", name="Reachable Rae")
    unreachable = make_user("responder", name="Unreachable Uli")
    db.session.add(ContactMethod(user_id=reachable.id, kind=ContactKind.EMAIL, address=reachable.email,
                                 verified_at=utcnow()))
    db.session.commit()
    for title, owner, role in (("DR test", reachable, ""), ("Vendors", unreachable, ""), ("Laptops", None, "Desk")):
        checklist.save_template_item(title=title, track="checklist", owner_id=owner.id if owner else None,
                                     owner_role=role, bd_offset=-30)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    return reachable


def test_nothing_is_reminded_before_an_item_is_overdue(overdue_items):
    assert remind_overdue_items() == {"queued": 0, "no_owner": 0, "no_method": 0}


def test_each_overdue_items_owner_is_reminded_once_and_the_outcome_is_kept(overdue_items, clock):
    clock.move_to(datetime(2026, 12, 21, 9, tzinfo=UTC))
    assert remind_overdue_items() == {"queued": 1, "no_owner": 1, "no_method": 1}
    assert remind_overdue_items() == {"queued": 0, "no_owner": 0, "no_method": 0}
    [message] = db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "readiness_overdue"))
    assert message.user_id == overdue_items.id and "DR test" in message.subject
    outcomes = {item.title: item.reminder_delivery for item in checklist.quarter_items(Q4)}
    assert outcomes == {"DR test": "pending", "Vendors": "no method", "Laptops": "no owner"}
    assert drain_outbox() == 1  # the engine sends it; the item shows what became of it
    db.session.expire_all()
    outcomes = {item.title: item.reminder_delivery for item in checklist.quarter_items(Q4)}
    assert outcomes == {"DR test": "sent", "Vendors": "no method", "Laptops": "no owner"}


def test_an_item_done_in_time_is_not_reminded(overdue_items, clock):
    [own] = [item for item in checklist.quarter_items(Q4) if item.owner_id == overdue_items.id]
    checklist.update_item(overdue_items, own, status="done")
    clock.move_to(datetime(2026, 12, 21, 9, tzinfo=UTC))
    assert remind_overdue_items()["queued"] == 0
