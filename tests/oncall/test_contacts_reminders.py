"""The scheduler's reminder to confirm contact details, N business days before the quarter closes.

Q4 FY27 (fiscal year from February) ends on Sunday 31 January 2027, so it closes (BD0) on Friday 29 January.
Counting ten business days back on a weekends-only calendar gives Friday 15 January (BD-10); in the US,
Martin Luther King Day (Monday 18 January) is not a business day, so BD-10 is Thursday 14 January.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.auth import services as auth
from app.extensions import db
from app.oncall import services as contacts
from app.oncall.models import OncallNotice
from app.oncall.scheduled import remind_unconfirmed_contacts

NOTHING = {"sent": 0, "skipped_no_method": 0, "already": 0}


def at_noon_in_los_angeles(day: int, month: int = 1, year: int = 2027) -> datetime:
    return datetime(year, month, day, 20, tzinfo=UTC)


def reminders() -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "contact_reminder")
                                   .order_by(OutboundMessage.id)))


@pytest.fixture
def us_responder(make_user, contact_region_us, add_contact_method):
    person = make_user("responder", region_id=contact_region_us.id, time_zone="America/Los_Angeles")
    add_contact_method(person, "sms", verified=True)
    return person


def run_on(moment: datetime) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        return remind_unconfirmed_contacts()


@pytest.mark.parametrize("day, sent", [(13, 0), (14, 1), (20, 1), (29, 1)])
def test_reminders_go_out_from_bd_minus_10_in_the_persons_region_until_the_close(us_responder, day, sent):
    # From BD-10 on, not only on that day: a scheduler that was down on BD-10 still reminds later.
    assert run_on(at_noon_in_los_angeles(day))["sent"] == sent
    assert len(reminders()) == sent


def test_a_regionless_person_counts_business_days_on_the_close_regions_calendar(make_user, add_contact_method):
    # No CLOSE_WINDOW_COUNTRY: the close region counts weekends only.
    person = make_user("responder", time_zone="America/Los_Angeles")
    add_contact_method(person, "email", "nomad@example.com", verified=True)
    assert run_on(at_noon_in_los_angeles(14)) == NOTHING
    assert run_on(at_noon_in_los_angeles(15))["sent"] == 1


@pytest.mark.config(CLOSE_WINDOW_COUNTRY="US")
def test_a_regionless_person_counts_the_close_regions_holidays(make_user, add_contact_method):
    # With US holidays BD-10 is Thursday 14 January, not Friday 15.
    person = make_user("responder", time_zone="America/Los_Angeles")
    add_contact_method(person, "email", "nomad@example.com", verified=True)
    assert run_on(at_noon_in_los_angeles(13)) == NOTHING
    assert run_on(at_noon_in_los_angeles(14))["sent"] == 1


def test_running_twice_reminds_once_per_quarter(us_responder):
    assert run_on(at_noon_in_los_angeles(14)) == {"sent": 1, "skipped_no_method": 0, "already": 0}
    assert run_on(at_noon_in_los_angeles(14)) == {"sent": 0, "skipped_no_method": 0, "already": 1}
    assert run_on(at_noon_in_los_angeles(21)) == {"sent": 0, "skipped_no_method": 0, "already": 1}
    [message] = reminders()
    assert (message.kind, message.address, message.user_id) == ("sms", "+14155552671", us_responder.id)
    notice = db.session.scalar(select(OncallNotice))
    assert (notice.user_id, notice.kind, notice.key) == (us_responder.id, "contact_reminder", "FY27Q4")


def test_the_next_quarter_reminds_again(us_responder):
    run_on(at_noon_in_los_angeles(14))
    assert run_on(at_noon_in_los_angeles(2, month=2)) == NOTHING  # Q1 FY28 has only just begun
    assert run_on(at_noon_in_los_angeles(30, month=4))["sent"] == 1  # Q1 FY28 closes on Friday 30 April
    assert {notice.key for notice in db.session.scalars(select(OncallNotice))} == {"FY27Q4", "FY28Q1"}


def test_email_is_preferred_and_says_what_to_do(us_responder, add_contact_method, app):
    add_contact_method(us_responder, "email", "rowan@example.com", verified=True)
    run_on(at_noon_in_los_angeles(14))
    [message] = reminders()
    assert (message.kind, message.subject) == ("email", "Please confirm your contact details for Q4 FY27")
    assert "2027-01-29" in message.body
    assert f"{app.config['PUBLIC_BASE_URL']}/oncall/people/{us_responder.id}" in message.body


def test_people_who_confirmed_or_left_are_not_reminded(us_responder, make_user, contact_region_us, add_contact_method):
    with time_machine.travel(at_noon_in_los_angeles(5), tick=False):
        contacts.confirm_contacts(us_responder, us_responder)
    gone = make_user("responder", region_id=contact_region_us.id)
    add_contact_method(gone, "email", "gone@example.com", verified=True)
    auth.update_user(gone, name=gone.name, role="responder", time_zone="UTC", region_id=None, active=False)
    assert run_on(at_noon_in_los_angeles(14)) == NOTHING
    assert reminders() == []


def test_someone_with_no_usable_email_or_sms_is_counted_and_logged_not_messaged(
        make_user, contact_region_us, add_contact_method, caplog):
    person = make_user("responder", email="voice.only@example.com", region_id=contact_region_us.id)
    add_contact_method(person, "voice", verified=True)  # nobody is phoned to be told to update a phone
    add_contact_method(person, "email", "unverified@example.com")
    with caplog.at_level(logging.WARNING, logger="quarterdeck.oncall"):
        assert run_on(at_noon_in_los_angeles(14)) == {"sent": 0, "skipped_no_method": 1, "already": 0}
    assert reminders() == []
    assert any("voice.only@example.com" in record.getMessage() for record in caplog.records)


@pytest.mark.config(CONTACT_REMINDER_BUSINESS_DAYS=3)
@pytest.mark.parametrize("day, sent", [(25, 0), (26, 1)])
def test_the_number_of_business_days_is_configurable(us_responder, day, sent):
    assert run_on(at_noon_in_los_angeles(day))["sent"] == sent
