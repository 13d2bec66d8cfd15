"""Reminders to vendor owners at VENDOR_REMINDER_OFFSETS business days before the quarter closes.

Q4 FY27 ends on Sunday 31 January 2027, so it closes (BD0) on Friday 29 January. On a weekends-only calendar
BD-10 is Friday 15 January and BD-20 Friday 1 January; in the US, New Year's Day and Martin Luther King Day
(Monday 18 January) are holidays, so there BD-10 is Thursday 14 January and BD-20 Wednesday 30 December.
"""
from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.calendar import services as calendar
from app.extensions import db
from app.vendors import campaign
from app.vendors.models import VendorReminder
from app.vendors.scheduled import remind_vendor_owners
from config import ConfigError, load_config
from tests.conftest import drain_outbox
from tests.support import TEST_ENV

NOTHING = {"queued": 0, "no_owner": 0, "no_method": 0, "already": 0}


def noon(day: int, month: int = 1, year: int = 2027) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def reminders_sent() -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "vendor_reminder")
                                   .order_by(OutboundMessage.id)))


def recorded() -> list[tuple[int, str, int]]:
    return [(row.bd_offset, row.outcome.value, row.quarter) for row in
            db.session.scalars(select(VendorReminder).order_by(VendorReminder.id))]


@pytest.fixture
def owner(make_user, give_method):
    person = make_user("crisis_team", name="Olive Owner", time_zone="UTC")
    give_method(person, "email", "olive@example.com")
    return person


@pytest.fixture
def vendor(make_vendor, make_contact, owner):
    vendor = make_vendor(levels=2, name="Orbis ERP", owner_id=owner.id)
    make_contact(vendor, level=1, name="Dana Desk")
    make_contact(vendor, level=2, name="Marcus Manager")
    return vendor


def run_on(at, moment: datetime) -> dict[str, int]:
    with at(moment):
        return remind_vendor_owners()


@pytest.mark.parametrize("day, month, year, offsets", [
    (31, 12, 2026, []), (1, 1, 2027, [-20]), (14, 1, 2027, [-20]), (15, 1, 2027, [-10]), (29, 1, 2027, [-10]),
    (31, 1, 2027, [-10]),
])
def test_the_reminder_of_the_latest_offset_reached_goes_out(vendor, at, day, month, year, offsets):
    run_on(at, noon(day, month, year))
    assert [offset for offset, _outcome, _q in recorded()] == offsets
    assert len(reminders_sent()) == len(offsets)


def test_each_offset_reminds_once_per_quarter(vendor, at):
    assert run_on(at, noon(1)) == {**NOTHING, "queued": 1}
    assert run_on(at, noon(1)) == {**NOTHING, "already": 1}
    assert run_on(at, noon(8)) == {**NOTHING, "already": 1}
    assert run_on(at, noon(15)) == {**NOTHING, "queued": 1}
    assert run_on(at, noon(20)) == {**NOTHING, "already": 1}
    assert recorded() == [(-20, "queued", 4), (-10, "queued", 4)]
    assert run_on(at, noon(2, 2)) == NOTHING  # Q1 FY28 has only just begun
    assert run_on(at, noon(2, 4))["queued"] == 1  # Q1 FY28 closes on Friday 30 April: BD-20 is Friday 2 April
    assert recorded()[-1] == (-20, "queued", 1)


@pytest.mark.config(VENDOR_REMINDER_OFFSETS=(-5,))
def test_the_offsets_come_from_the_configuration(vendor, at):
    assert run_on(at, noon(21)) == NOTHING  # BD-6
    assert run_on(at, noon(22))["queued"] == 1  # BD-5: Friday 22 January
    assert recorded() == [(-5, "queued", 4)]


def test_business_days_are_counted_in_the_owners_region(vendor, owner, at):
    region = calendar.create_region(name="AMER", time_zone="America/Los_Angeles", business_start=time(7),
                                    business_end=time(17), holiday_country="US")
    owner.region_id = region.id
    db.session.commit()
    assert run_on(at, datetime(2027, 1, 14, 20, tzinfo=UTC))["queued"] == 1  # noon in Los Angeles on US BD-10
    assert recorded() == [(-10, "queued", 4)]


def test_the_email_names_the_vendor_the_contacts_and_the_page(vendor, owner, at, app):
    make_confirmed = campaign.confirm_contact
    with at(noon(4)):
        make_confirmed(owner, vendor.levels[0].contacts[0])  # Dana is confirmed; Marcus is not
    run_on(at, noon(15))
    [message] = reminders_sent()
    assert (message.kind, message.address, message.user_id, message.status) == ("email", "olive@example.com",
                                                                              owner.id, "pending")
    with at(noon(15)):
        assert drain_outbox() == 1  # the engine sends it and records the outcome
    db.session.refresh(message)
    assert message.status == "sent" and db.session.scalars(select(VendorReminder)).one().delivery == "sent"
    assert "Orbis ERP" in message.subject and "Q4 FY27" in message.subject
    assert "Marcus Manager" in message.body and "Dana Desk" not in message.body
    assert "2027-01-29" in message.body and "BD-10" in message.body
    assert f"{app.config['PUBLIC_BASE_URL']}/vendors/{vendor.id}" in message.body


def test_sms_is_used_when_the_owner_has_no_verified_email(make_user, give_method, make_vendor, make_contact, at):
    person = make_user("crisis_team")
    give_method(person, "email", "unverified@example.com", verified=False)
    give_method(person, "sms", "+14155550100")
    vendor = make_vendor(levels=1, owner_id=person.id)
    make_contact(vendor)
    run_on(at, noon(15))
    [message] = reminders_sent()
    assert (message.kind, message.address) == ("sms", "+14155550100")
    assert len(message.body) <= 160 * 2


def test_an_owner_who_cannot_be_reached_is_recorded_not_skipped_silently(make_user, make_vendor, make_contact, at):
    person = make_user("crisis_team")  # no contact method at all
    unreachable = make_vendor(levels=1, owner_id=person.id)
    ownerless = make_vendor(levels=1)
    make_contact(unreachable), make_contact(ownerless)
    assert run_on(at, noon(15)) == {**NOTHING, "no_method": 1, "no_owner": 1}
    assert sorted(recorded()) == [(-10, "no_method", 4), (-10, "no_owner", 4)]
    assert reminders_sent() == []
    assert run_on(at, noon(18)) == {**NOTHING, "already": 2}


def test_nobody_is_reminded_about_confirmed_contacts_or_other_tier_vendors(vendor, owner, make_vendor, make_contact,
                                                                          at):
    other = make_vendor(levels=1, tier="other", owner_id=owner.id)
    make_contact(other)
    with at(noon(4)):
        for contact in vendor.contacts:
            campaign.confirm_contact(owner, contact)
    assert run_on(at, noon(15)) == NOTHING
    assert recorded() == []


@pytest.mark.parametrize("raw, expected", [
    (None, (-20, -10)), ("", (-20, -10)), ("-10,-20", (-20, -10)), (" BD-15 , -5 ", (-15, -5)), ("0", (0,)),
])
def test_reminder_offsets_are_read_from_the_environment(raw, expected):
    env = dict(TEST_ENV) if raw is None else {**TEST_ENV, "VENDOR_REMINDER_OFFSETS": raw}
    assert load_config(env)["VENDOR_REMINDER_OFFSETS"] == expected


@pytest.mark.parametrize("raw, message", [
    ("soon", "business-day offsets before close"), ("-20;-10", "business-day offsets before close"),
    ("5", "between -60 and 0"), ("-61", "between -60 and 0"), ("-10,-10", "twice"),
])
def test_a_malformed_reminder_offset_stops_start_up_naming_the_variable(raw, message):
    with pytest.raises(ConfigError) as refused:
        load_config({**TEST_ENV, "VENDOR_REMINDER_OFFSETS": raw})
    assert "VENDOR_REMINDER_OFFSETS" in str(refused.value) and message in str(refused.value)


@pytest.mark.config(CLOSE_WINDOW_COUNTRY="US", VENDOR_REMINDER_OFFSETS=(-10,))
def test_an_owner_without_a_region_counts_the_close_regions_holidays(vendor, at):
    # No region: the owner's business days are the close region's (US holidays), not weekends only, so BD-10 is
    # Thursday 14 January rather than Friday 15.
    assert run_on(at, noon(13))["queued"] == 0
    assert run_on(at, noon(14))["queued"] == 1
    assert recorded() == [(-10, "queued", 4)]
