"""The quarterly validation: confirmed this quarter, stale from the next, never; checks; the contract expiry flag.

With the fiscal year starting in February, Q4 FY27 runs from 1 November 2026 to Sunday 31 January 2027.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.calendar.services import quarter_for
from app.errors import Invalid
from app.timeutil import fiscal_quarter
from app.vendors import campaign
from app.vendors.campaign import ContactState, ContractFlag
from tests.vendors.conftest import IN_Q1_FY28, IN_Q4_FY27

Q4_FY27 = fiscal_quarter(2027, 4, 2)
Q1_FY28 = fiscal_quarter(2028, 1, 2)


def states(contacts, quarter):
    return [status.state for status in campaign.contact_statuses(contacts, quarter)]


def test_a_contact_confirmed_this_quarter_turns_stale_when_the_next_quarter_starts(make_vendor, make_contact,
                                                                                    make_user, at):
    checker = make_user("crisis_team", name="Casey Crisis", time_zone="Europe/London")
    vendor = make_vendor(levels=1)
    confirmed, never = make_contact(vendor), make_contact(vendor)
    with at(IN_Q4_FY27):
        record = campaign.confirm_contact(checker, confirmed)
    assert (record.fiscal_year, record.quarter, record.confirmed_by_name) == (2027, 4, "Casey Crisis")
    assert record.confirmed_at == IN_Q4_FY27
    assert states([confirmed, never], Q4_FY27) == [ContactState.CONFIRMED, ContactState.NEVER]
    assert states([confirmed, never], Q1_FY28) == [ContactState.STALE, ContactState.NEVER]
    [status, _] = campaign.contact_statuses([confirmed, never], Q1_FY28)
    assert status.last.confirmed_at == IN_Q4_FY27  # the page says when it was last confirmed, and by whom


@pytest.mark.parametrize("zone, quarter", [("America/Los_Angeles", (2027, 4)), ("Asia/Manila", (2028, 1))])
def test_the_quarter_of_a_confirmation_is_the_confirmers_own_date(make_vendor, make_contact, make_user, at, zone,
                                                                   quarter):
    # 17:00 UTC on 31 January is still January in Los Angeles but already 1 February in Manila.
    person = make_user("crisis_team", time_zone=zone)
    contact = make_contact(make_vendor(levels=1))
    with at(datetime(2027, 1, 31, 17, tzinfo=UTC)):
        record = campaign.confirm_contact(person, contact)
    assert (record.fiscal_year, record.quarter) == quarter


def test_confirming_again_in_the_same_quarter_keeps_the_first_confirmation(make_vendor, make_contact, make_user,
                                                                           at):
    first, second = make_user("crisis_team", name="First"), make_user("admin", name="Second")
    contact = make_contact(make_vendor(levels=1))
    with at(IN_Q4_FY27):
        campaign.confirm_contact(first, contact)
    with at(datetime(2026, 12, 1, tzinfo=UTC)):
        again = campaign.confirm_contact(second, contact)
    assert (again.confirmed_by_name, again.confirmed_at) == ("First", IN_Q4_FY27)
    with at(IN_Q1_FY28):
        next_quarter = campaign.confirm_contact(second, contact)
    assert (next_quarter.quarter, next_quarter.confirmed_by_name) == (1, "Second")
    assert states([contact], Q1_FY28) == [ContactState.CONFIRMED]


@pytest.mark.parametrize("expires, flag", [
    (None, None),
    (date(2026, 11, 22), ContractFlag.EXPIRED),  # the day before "today"
    (date(2026, 11, 23), ContractFlag.EXPIRES_BEFORE_CLOSE),
    (date(2027, 1, 31), ContractFlag.EXPIRES_BEFORE_CLOSE),  # the quarter's last day
    (date(2027, 2, 1), None),
])
def test_a_contract_expiring_before_the_quarter_closes_is_flagged(make_vendor, expires, flag):
    vendor = make_vendor(contract_expires=expires)
    assert campaign.contract_flag(vendor, Q4_FY27, date(2026, 11, 23)) is flag


def test_a_vendor_is_validated_with_both_checks_and_every_contact_confirmed(make_vendor, make_contact, make_user, at):
    checker = make_user("crisis_team", name="Casey")
    vendor = make_vendor(levels=2)
    contacts = [make_contact(vendor, level=1), make_contact(vendor, level=2)]
    with at(IN_Q4_FY27):
        today = date(2026, 11, 23)
        assert not campaign.vendor_progress(vendor, Q4_FY27, today).validated
        for contact in contacts:
            campaign.confirm_contact(checker, contact)
        campaign.record_check(checker, vendor, "list")
        progress = campaign.vendor_progress(vendor, Q4_FY27, today)
        assert progress.confirmed == 2 and not progress.validated  # the plan is not reviewed yet
        check = campaign.record_check(checker, vendor, "plan")
        assert (check.done_by_name, check.done_at) == ("Casey", IN_Q4_FY27)
        assert campaign.vendor_progress(vendor, Q4_FY27, today).validated
    assert not campaign.vendor_progress(vendor, Q1_FY28, date(2027, 2, 2)).validated  # a new quarter starts over


def test_an_unknown_check_is_refused(make_vendor, make_user):
    with pytest.raises(Invalid) as refused:
        campaign.record_check(make_user("crisis_team"), make_vendor(), "vibes")
    assert refused.value.field == "check"


def test_the_campaign_counts_critical_and_important_vendors_only(make_vendor, make_contact, make_user, at):
    checker = make_user("crisis_team")
    critical, important, other = (make_vendor(levels=1, tier=tier) for tier in ("critical", "important", "other"))
    for vendor in (critical, important, other):
        make_contact(vendor)
    stale = make_contact(important)
    with at(datetime(2026, 10, 15, tzinfo=UTC)):  # Q3 FY27
        campaign.confirm_contact(checker, stale)
    with at(IN_Q4_FY27):
        campaign.confirm_contact(checker, critical.contacts[0])
        totals = campaign.campaign_totals(quarter_for(date(2026, 11, 23)), date(2026, 11, 23))
    assert (totals.vendors, totals.contacts, totals.confirmed, totals.stale, totals.never) == (2, 3, 1, 1, 1)
    assert totals.percent == 33
