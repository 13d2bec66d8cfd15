"""Vendor and ladder rules: names, contracts, phones in E.164 with clear refusals, levels numbered 1..n."""
from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit.services import history
from app.calendar import services as calendar
from app.errors import Conflict, Invalid
from app.extensions import db
from app.vendors import campaign, ladder
from app.vendors import services as vendors
from app.vendors.models import EscalationLevel, VendorContact, VendorContactConfirmation


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_vendor_keeps_its_contract_sla_and_owner(make_vendor, make_user):
    owner = make_user("crisis_team", name="Olive Owner")
    vendor = make_vendor(name="Orbis ERP", tier="critical", supports="ERP: order to cash", contract_id="ORB-1",
                         contract_level="Premier", contract_expires=date(2027, 6, 30),
                         portal_url="https://support.orbis.example", account_number="A-77", support_hours="24x7",
                         support_zone="America/New_York", sla_p1_minutes=30, owner_id=owner.id, notes="Call first")
    stored = vendors.get_vendor(vendor.id)
    assert (stored.name, stored.tier.value, stored.owner.name, stored.sla_p1_minutes, stored.sla_p2_minutes) == \
        ("Orbis ERP", "critical", "Olive Owner", 30, None)
    assert stored.contract_expires == date(2027, 6, 30) and stored.support_zone == "America/New_York"
    assert [event.action for event in history("vendors", str(vendor.id))] == ["create"]


def test_vendor_names_are_unique_whatever_their_case(make_vendor):
    make_vendor(name="Orbis ERP")
    with pytest.raises(Conflict) as refused:
        make_vendor(name="  orbis erp ")
    assert refused.value.field == "name" and "already exists" in refused.value.message


@pytest.mark.parametrize("fields, field, message", [
    ({"portal_url": "javascript:alert(1)"}, "portal_url", "https://"),
    ({"portal_url": "support.example.com"}, "portal_url", "https://"),
    ({"sla_p1_minutes": 0}, "sla_p1_minutes", "1 to 100000"),
    ({"support_zone": "Mars/Olympus"}, "support_zone", "Unknown time zone"),
    ({"tier": "vital"}, "tier", "critical, important or other"),
    ({"owner_id": 999}, "owner_id", "No active person"),
    ({"name": "   "}, "name", "required"),
    ({"contract_expires": date(1999, 1, 1)}, "contract_expires", "between 2000 and 2100"),
])
def test_bad_vendor_fields_are_refused_naming_the_field(make_vendor, fields, field, message):
    from app.vendors.models import Vendor

    with pytest.raises(Invalid) as refused:
        make_vendor(**fields)
    assert refused.value.field == field and message in refused.value.message
    assert count(Vendor) == 0


def test_phones_are_stored_in_e164(make_vendor, make_contact):
    vendor = make_vendor(levels=1)
    contact = make_contact(vendor, phone="+1 (415) 555-0100", mobile="+44 20 7946 0958", email="Desk@Orbis.Example")
    assert (contact.phone, contact.mobile, contact.email) == ("+14155550100", "+442079460958", "desk@orbis.example")
    assert contact.phones[0] == ("Phone", "+14155550100", "+1 415-555-0100")


@pytest.mark.parametrize("field, raw, message", [
    ("phone", "415 555 0100", "Start the number with + and its country code"),
    ("phone", "+1 415 555", "too short for US (+1)"),
    ("mobile", "+999 1234 5678", "unknown country code"),
    ("phone", "CALL-ME-NOW", "digits only, not letters"),
    ("mobile", "+1 415 155 0100", "not a valid number for US (+1)"),
])
def test_an_invalid_phone_is_refused_with_the_reason(make_vendor, make_contact, field, raw, message):
    vendor = make_vendor(levels=1)
    with pytest.raises(Invalid) as refused:
        make_contact(vendor, **{field: raw})
    assert refused.value.field == field
    assert message in refused.value.message
    assert count(VendorContact) == 0


def test_an_internal_contacts_local_number_reads_in_their_region(make_vendor, make_contact, make_user):
    region = calendar.create_region(name="AMER", time_zone="America/Los_Angeles", business_start=time(7),
                                    business_end=time(17), holiday_country="US")
    colleague = make_user("responder", region_id=region.id)
    vendor = make_vendor(levels=1)
    contact = make_contact(vendor, kind="internal", user_id=colleague.id, phone="(415) 555-0100")
    assert contact.phone == "+14155550100" and contact.user_id == colleague.id


@pytest.mark.parametrize("fields, field, message", [
    ({"kind": "external", "user_id": "USER"}, "user_id", "Only an internal contact"),
    ({"kind": "partner"}, "kind", "internal"),
    ({"phone": "", "email": "not-an-email"}, "email", ""),
    ({"level": 3}, "level", "has levels 1 to 2; add level 3 first"),
    ({"time_zone": "Nowhere/Else"}, "time_zone", "Unknown time zone"),
])
def test_bad_contact_fields_are_refused_naming_the_field(make_vendor, make_contact, make_user, fields, field,
                                                         message):
    vendor = make_vendor(levels=2)
    fields = dict(fields)  # the parameters are shared by both backends' runs
    if fields.get("user_id") == "USER":
        fields["user_id"] = make_user("responder").id
    with pytest.raises(Invalid) as refused:
        make_contact(vendor, **fields)
    assert refused.value.field == field and message in refused.value.message


def test_a_contact_nobody_can_reach_is_refused(make_vendor):
    vendor = make_vendor(levels=1)
    with pytest.raises(Invalid, match="a contact nobody can reach"):
        ladder.create_contact(vendor, level=1, kind="external", name="Ghost")


def test_the_database_refuses_a_contact_on_another_vendors_level(make_vendor, make_contact):
    ours, theirs = make_vendor(levels=1), make_vendor(levels=1)
    contact = make_contact(ours)
    with pytest.raises(IntegrityError):
        db.session.execute(VendorContact.__table__.update().where(VendorContact.id == contact.id)
                           .values(level_id=theirs.levels[0].id))
        db.session.commit()
    db.session.rollback()


def test_levels_are_numbered_from_one_and_move_and_close_ranks(make_vendor, make_contact):
    vendor = make_vendor(levels=3)
    first, second, third = vendor.levels
    ladder.move_level(third, "up")
    assert [(level.label, level.number) for level in vendors.get_vendor(vendor.id).levels] == \
        [("Rung 1", 1), ("Rung 3", 2), ("Rung 2", 3)]
    ladder.move_level(first, "up")  # already at the top: unchanged
    assert first.number == 1
    ladder.delete_level(third)
    assert [(level.label, level.number) for level in vendors.get_vendor(vendor.id).levels] == \
        [("Rung 1", 1), ("Rung 2", 2)]
    assert [event.changes.get("number") for event in history("vendor_escalation_levels", str(second.id))][0] == \
        [3, 2]


def test_a_level_with_contacts_cannot_be_deleted(make_vendor, make_contact):
    vendor = make_vendor(levels=2)
    make_contact(vendor, level=1)
    with pytest.raises(Conflict, match="still has 1 contact"):
        ladder.delete_level(vendor.levels[0])
    assert count(EscalationLevel) == 2


def test_moving_a_contact_to_another_level(make_vendor, make_contact):
    vendor = make_vendor(levels=2)
    contact = make_contact(vendor, level=1, name="Dana")
    ladder.update_contact(contact, **{**ladder.contact_fields(contact), "level": 2})
    assert [(level.number, [c.name for c in level.contacts]) for level in vendors.get_vendor(vendor.id).levels] == \
        [(1, []), (2, ["Dana"])]


def test_deleting_a_vendor_deletes_its_ladder_contacts_and_confirmations(make_vendor, make_contact, make_user):
    vendor = make_vendor(levels=2)
    contact = make_contact(vendor, level=2)
    campaign.confirm_contact(make_user("crisis_team"), contact)
    vendors.delete_vendor(vendor)
    assert (count(EscalationLevel), count(VendorContact), count(VendorContactConfirmation)) == (0, 0, 0)
