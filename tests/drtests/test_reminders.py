"""Scheduler: participants reminded before an exercise, once each; a quarter without an exercise by BD-30 flagged.

Q4 FY27 ends on Sunday 31 January 2027, so BD0 is Friday 29 January; on a weekends-only calendar BD-30 is
Friday 18 December 2026.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.drtests.models import DrNotice, QuarterFlag
from app.drtests.scheduled import flag_quarter_without_exercise, remind_participants
from app.extensions import db
from app.oncall import services as contacts
from app.timeutil import utcnow
from tests.conftest import drain_outbox


def verified_email(person):
    method = contacts.add_method(person, person, kind="email", address=f"x{person.id}@example.com")
    method.verified_at = utcnow()
    db.session.commit()
    return method


def sent(purpose):
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == purpose)))


def test_participants_are_reminded_once_within_the_reminder_window(make_exercise, make_user, clock):
    worker, silent = make_user("responder"), make_user("responder")
    verified_email(worker)
    exercise = make_exercise(scheduled_for=utcnow() + timedelta(days=3), participants=[worker, silent])
    assert remind_participants()["queued"] == 0  # three days out, window is two
    clock.plus(24 * 60 + 1)
    summary = remind_participants()
    assert summary == {"queued": 1, "no_method": 2, "already": 0}  # the owner has no method either
    assert remind_participants()["queued"] == 0
    messages = sent("drtest_reminder")
    assert len(messages) == 1 and messages[0].user_id == worker.id and exercise.name in messages[0].subject
    outcomes = {n.user_id: n.outcome for n in db.session.scalars(select(DrNotice))}
    assert outcomes[worker.id] == "queued" and outcomes[silent.id] == "no_method"
    assert messages[0].status == "pending" and drain_outbox() == 1  # the engine sends it


@pytest.mark.config(DRTEST_REMINDER_DAYS=0)
def test_reminders_can_be_turned_off(make_exercise, make_user, clock):
    make_exercise(scheduled_for=utcnow() + timedelta(hours=2), participants=[make_user()])
    assert remind_participants()["queued"] == remind_participants()["no_method"] == 0


def test_a_quarter_without_an_exercise_is_flagged_from_bd_minus_30_once(make_user, clock):
    lead = make_user("crisis_team")
    verified_email(lead)
    make_user("responder")
    clock.at(datetime(2026, 12, 17, 12, tzinfo=UTC))
    assert flag_quarter_without_exercise()["flagged"] == 0
    clock.at(datetime(2026, 12, 18, 12, tzinfo=UTC))
    assert flag_quarter_without_exercise() == {"flagged": 1, "queued": 1, "no_method": 0}
    assert flag_quarter_without_exercise()["flagged"] == 0
    flag = db.session.scalars(select(QuarterFlag)).one()
    assert flag.quarter_label == "Q4 FY27"
    assert [m.user_id for m in sent("drtest_quarter_flag")] == [lead.id]


def test_a_quarter_with_an_exercise_is_not_flagged(make_exercise, clock):
    make_exercise(scheduled_for=datetime(2027, 1, 10, 9, tzinfo=UTC))
    clock.at(datetime(2026, 12, 20, 12, tzinfo=UTC))
    assert flag_quarter_without_exercise()["flagged"] == 0
    assert db.session.scalars(select(QuarterFlag)).first() is None


@pytest.mark.config(CLOSE_WINDOW_COUNTRY="US")
def test_the_bd_minus_30_flag_counts_the_close_regions_holidays(make_user, clock):
    # With US holidays (Christmas, New Year's Day, Martin Luther King Day) BD-30 moves from Friday 18 to Tuesday
    # 15 December 2026: a weekends-only count would flag three business days late.
    lead = make_user("crisis_team")
    verified_email(lead)
    clock.at(datetime(2026, 12, 14, 12, tzinfo=UTC))
    assert flag_quarter_without_exercise()["flagged"] == 0
    clock.at(datetime(2026, 12, 15, 12, tzinfo=UTC))
    assert flag_quarter_without_exercise()["flagged"] == 1


@pytest.mark.config(CLOSE_TIME_ZONE="Asia/Manila")
def test_the_bd_minus_30_flag_starts_on_the_close_regions_date(make_user, clock):
    make_user("crisis_team")
    # 16:30 UTC on Thursday 17 December is 00:30 on Friday 18 December in Manila: BD-30 there.
    clock.at(datetime(2026, 12, 17, 15, 59, tzinfo=UTC))
    assert flag_quarter_without_exercise()["flagged"] == 0
    clock.at(datetime(2026, 12, 17, 16, 30, tzinfo=UTC))
    assert flag_quarter_without_exercise()["flagged"] == 1


def test_a_reminder_names_the_start_in_the_persons_zone(make_exercise, make_user, clock):
    person = make_user("responder", time_zone="America/Los_Angeles")
    verified_email(person)
    make_exercise(scheduled_for=datetime(2026, 11, 26, 17, tzinfo=UTC), participants=[person])
    clock.at(datetime(2026, 11, 25, 12, tzinfo=UTC))

    remind_participants()

    [message] = [m for m in sent("drtest_reminder") if m.user_id == person.id]
    assert "2026-11-26 09:00 (UTC-8, Los Angeles)" in message.body
