"""Pre-shift reminders and hand-off notices: when, to whom, through which method, and only once."""
from __future__ import annotations

import logging
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.auth.roles import Role
from app.extensions import db
from app.oncall import schedules
from app.oncall.reminders import send_shift_reminders
from app.scheduler import jobs
from app.timeutil import UTC
from tests.conftest import drain_outbox

# Ana then Ben, weekly hand-off Mondays 09:00 UTC from 2026-11-02: Ben takes over on Monday 2026-11-09 09:00.
HANDOFF = datetime(2026, 11, 9, 9, tzinfo=UTC)
NOTHING = {"reminders": 0, "handoffs": 0, "unreachable": 0}


def at(hour: int, minute: int = 0, day: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def run_at(moment: datetime) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        return send_shift_reminders()


def sent(purpose: str | None = None) -> list[OutboundMessage]:
    query = select(OutboundMessage).order_by(OutboundMessage.id)
    if purpose:
        query = query.where(OutboundMessage.purpose == purpose)
    return list(db.session.scalars(query))


@pytest.fixture
def ana_ben(make_user, reachable_by):
    ana = make_user(Role.RESPONDER, name="Ana", time_zone="Asia/Manila")
    ben = make_user(Role.RESPONDER, name="Ben", time_zone="Europe/London")
    reachable_by(ana, "sms", "+14155550101")
    reachable_by(ben, "sms", "+447700900123")
    return ana, ben


@pytest.fixture
def primary(make_rotation, make_oncall_schedule, ana_ben):
    return make_oncall_schedule("Primary", [make_rotation(members=list(ana_ben))])


@pytest.mark.parametrize("moment, expected", [
    (at(7, 59), 0),  # 61 minutes ahead: not yet
    (at(8, 0), 1),  # exactly SHIFT_REMINDER_MINUTES (60) ahead
    (at(8, 59), 1),
])
def test_a_reminder_goes_out_within_the_lead_time(primary, ana_ben, moment, expected):
    assert run_at(moment)["reminders"] == expected


def test_the_reminder_goes_once_and_names_the_start_in_the_persons_zone(primary, ana_ben):
    first = run_at(at(8, 0))
    again = [run_at(at(8, minute)) for minute in (1, 30, 59)]

    assert first == NOTHING | {"reminders": 1}
    assert again == [NOTHING] * 3
    [message] = sent("shift_reminder")
    assert (message.user_id, message.kind, message.address) == (ana_ben[1].id, "sms", "+447700900123")
    # Queued in the outbox, not sent by the scheduler job itself: the paging engine sends it.
    assert message.status == "pending" and message.sent_at is None
    assert drain_outbox() == 1
    db.session.refresh(message)
    assert (message.status, message.channel) == ("sent", "console")
    # 09:00 UTC is 09:00 GMT in London in November: the zone by offset and place (ASCII for SMS), never "GMT".
    assert message.body == ("Quarterdeck: your on-call shift for Primary starts at Mon 09 Nov 09:00 "
                            "(UTC, London).")


def test_the_incoming_person_is_told_at_the_hand_off_until_when(primary, ana_ben):
    result = run_at(at(9, 1))
    again = run_at(at(9, 2))

    assert result == NOTHING | {"handoffs": 1} and again == NOTHING
    [message] = sent("handoff")
    # Ben's shift runs to the next Monday's hand-off, 2026-11-16 09:00 GMT.
    assert message.body == "Quarterdeck: you are now on call for Primary until Mon 16 Nov 09:00 (UTC, London)."


@pytest.mark.parametrize("moment, told", [(at(9), True), (at(9, 5), True), (at(9, 6), False)])
def test_a_hand_off_notice_is_sent_only_within_five_minutes_of_it(primary, ana_ben, moment, told):
    assert run_at(moment)["handoffs"] == int(told)


@pytest.mark.config(SHIFT_REMINDER_MINUTES=15)
def test_the_lead_time_is_configurable(primary, ana_ben):
    assert run_at(at(8, 44))["reminders"] == 0
    assert run_at(at(8, 45))["reminders"] == 1


def test_the_reminder_goes_through_the_first_method_of_the_persons_plan(make_user, make_rotation,
                                                                        make_oncall_schedule, reachable_by):
    cy = make_user(Role.RESPONDER, name="Cy", time_zone="America/Los_Angeles")
    reachable_by(cy, "voice", "+14155550199", delay_minutes=2)
    reachable_by(cy, "email", "cy@example.com", delay_minutes=0)
    reachable_by(cy, "sms", "+14155550198", delay_minutes=0, verified=False)  # not usable
    make_oncall_schedule("Primary", [make_rotation(members=[cy])])  # Cy's first shift: 2026-11-02 09:00 UTC

    run_at(datetime(2026, 11, 2, 8, 30, tzinfo=UTC))

    [message] = sent()
    assert (message.kind, message.address) == ("email", "cy@example.com")
    # Email: the first line of the template is the subject; 09:00 UTC is 01:00 PST.
    assert message.subject == "On-call shift soon: Primary"
    assert message.body == ("Quarterdeck: your on-call shift for Primary starts at Mon 02 Nov 01:00 "
                            "(UTC-8, Los Angeles).")


def test_someone_without_a_usable_method_is_counted_and_logged_once(make_user, make_rotation,
                                                                     make_oncall_schedule, reachable_by, caplog):
    dee = make_user(Role.RESPONDER, name="Dee")
    reachable_by(dee, "sms", verified=False)
    make_oncall_schedule("Primary", [make_rotation(members=[dee])])

    with caplog.at_level(logging.WARNING, logger="quarterdeck.reminders"):
        first = run_at(datetime(2026, 11, 2, 8, 30, tzinfo=UTC))
        second = run_at(datetime(2026, 11, 2, 8, 31, tzinfo=UTC))

    assert first == NOTHING | {"unreachable": 1} and second == NOTHING
    assert sent() == []
    assert [r.getMessage() for r in caplog.records] == [
        "shift_reminder for responder1@example.com on Primary not sent: no usable contact method"]


def test_a_method_verified_before_the_shift_still_gets_the_reminder(make_user, make_rotation, make_oncall_schedule,
                                                                    reachable_by):
    dee = make_user(Role.RESPONDER, name="Dee")
    make_oncall_schedule("Primary", [make_rotation(members=[dee])])

    skipped = run_at(datetime(2026, 11, 2, 8, 10, tzinfo=UTC))
    reachable_by(dee)
    reminded = run_at(datetime(2026, 11, 2, 8, 20, tzinfo=UTC))

    assert skipped["unreachable"] == 1 and reminded["reminders"] == 1


def test_each_schedule_reminds_separately_and_an_override_starts_a_shift(primary, ana_ben, make_rotation,
                                                                         make_oncall_schedule, make_user,
                                                                         reachable_by):
    ana, ben = ana_ben
    make_oncall_schedule("Secondary", [make_rotation(members=[ben])])  # Ben all the time, from 11-02 09:00
    eve = make_user(Role.RESPONDER, name="Eve")
    reachable_by(eve, "sms", "+14155550177")
    with time_machine.travel(at(0), tick=False):
        schedules.create_override(primary, user_id=eve.id, mode="add", start_at=datetime(2026, 11, 9, 8, 30, tzinfo=UTC),
                                  end_at=datetime(2026, 11, 9, 10, tzinfo=UTC))

    result = run_at(at(8, 0))

    # Primary: Ben at 09:00 and Eve at 08:30; Secondary: Ben has been on since 11-02, no new shift.
    assert result["reminders"] == 2
    assert sorted(m.user_id for m in sent("shift_reminder")) == sorted([ben.id, eve.id])


def test_the_scheduler_runs_the_reminders_every_minute(app):
    [job] = [job for job in jobs(app) if job.name == "shift_reminders"]

    assert (job.run, job.seconds) == (send_shift_reminders, 60)
