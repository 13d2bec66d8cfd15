"""Contact methods, verification codes, notification rules and the quarterly confirmation, through the services."""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.audit.models import AuditEvent
from app.auth import services as auth
from app.calendar import services as calendar
from app.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.oncall import services as contacts
from app.oncall.models import ContactMethod, NotificationRule
from tests.conftest import drain_outbox
from tests.oncall.conftest import last_code_sent

NOON = datetime(2026, 11, 10, 12, tzinfo=UTC)
# The GSM 03.38 basic character set: SMS text outside it is sent as UCS-2, which cuts a message to 70 characters.
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")


@pytest.fixture
def clock_start():
    return NOON


@pytest.fixture
def responder(make_user, contact_region_us):
    return make_user("responder", region_id=contact_region_us.id, time_zone="America/Los_Angeles")


def stored(method: ContactMethod) -> ContactMethod:
    db.session.expire_all()
    return db.session.get(ContactMethod, method.id)


def sent_messages(method: ContactMethod) -> list[OutboundMessage]:
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.contact_method_id == method.id)
                                   .order_by(OutboundMessage.id)))


# --- addresses ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("region, typed, stored_as", [
    ("US", "(415) 555-2671", "+14155552671"),
    ("US", "+44 20 7946 0958", "+442079460958"),
    ("GB", "020 7946 0958", "+442079460958"),
    ("PH", "0917 123 4567", "+639171234567"),
    (None, "+1 415-555-2671", "+14155552671"),
])
def test_phone_numbers_are_stored_in_e164_reading_local_numbers_in_the_persons_country(
        app, make_user, region, typed, stored_as):
    region_id = calendar.create_region(name=f"R-{region}", time_zone="UTC", business_start=time(9),
                                       business_end=time(17), holiday_country=region).id if region else None
    person = make_user("responder", region_id=region_id)
    method = contacts.add_method(person, person, kind="sms", address=typed)
    assert stored(method).address == stored_as


@pytest.mark.parametrize("typed, because", [
    ("12345", "too short for US (+1)"),
    ("+1 415 555 26711", "too long for US (+1)"),
    ("+1 200 555 2671", "not a valid number for US (+1)"),
    ("415-CALL-NOW", "digits only, not letters"),
    ("call me", "digits only, not letters"),
    ("---", "not a phone number"),
    ("+999 1234567", "unknown country code"),
])
def test_a_bad_phone_number_is_refused_saying_why(responder, typed, because):
    with pytest.raises(Invalid) as refusal:
        contacts.add_method(responder, responder, kind="voice", address=typed)
    assert refusal.value.field == "address"
    assert because in refusal.value.message
    assert db.session.scalar(select(ContactMethod.id)) is None


def test_a_local_number_needs_a_country_code_when_the_person_has_no_region(make_user):
    person = make_user("responder")
    with pytest.raises(Invalid, match=r"Start the number with \+ and its country code"):
        contacts.add_method(person, person, kind="sms", address="415 555 2671")


def test_emails_are_validated_and_lower_cased(responder):
    method = contacts.add_method(responder, responder, kind="email", address="  Rowan.R@Example.COM ")
    assert stored(method).address == "rowan.r@example.com"
    with pytest.raises(Invalid) as refusal:
        contacts.add_method(responder, responder, kind="email", address="rowan@@example")
    assert refusal.value.field == "address"


def test_the_same_address_twice_is_a_conflict_however_it_is_written(responder, add_contact_method):
    add_contact_method(responder, "sms", "+1 415 555 2671")
    with pytest.raises(Conflict) as refusal:
        add_contact_method(responder, "sms", "(415) 555-2671")
    assert refusal.value.field == "address"
    add_contact_method(responder, "voice", "(415) 555-2671")  # the same phone for calls is another method


def test_a_new_method_is_unverified_and_unusable(responder, add_contact_method):
    method = add_contact_method(responder)
    assert not method.is_verified and not method.is_usable
    assert contacts.has_verified_phone(responder.id) is False


# --- who may change what -----------------------------------------------------------------------------------

@pytest.mark.parametrize("actor_role, allowed", [
    ("crisis_team", True), ("admin", True), ("responder", False), ("executive", False)])
def test_only_the_person_or_the_crisis_team_changes_someones_contact_methods(
        make_user, responder, actor_role, allowed):
    actor = make_user(actor_role)
    if allowed:
        assert contacts.add_method(actor, responder, kind="sms", address="+14155552671").user_id == responder.id
    else:
        with pytest.raises(Forbidden):
            contacts.add_method(actor, responder, kind="sms", address="+14155552671")


@pytest.mark.parametrize("role", ["responder", "executive", "crisis_team", "admin"])
def test_everyone_changes_their_own_contact_methods(make_user, role):
    person = make_user(role)
    assert contacts.add_method(person, person, kind="email", address="me@example.com").user_id == person.id


def test_deleting_a_method_deletes_its_rules(responder, add_contact_method):
    method = add_contact_method(responder)
    contacts.add_rule(responder, responder, contact_method_id=method.id, delay_minutes=3)
    contacts.delete_method(responder, method)
    assert db.session.scalar(select(NotificationRule.id)) is None
    assert db.session.scalar(select(ContactMethod.id)) is None


# --- verification codes ------------------------------------------------------------------------------------

def test_sending_a_code_keeps_only_a_hash_and_sends_the_code_through_the_method_itself(
        responder, add_contact_method, clock):
    method = add_contact_method(responder)
    expires = contacts.send_code(responder, method)
    code = last_code_sent(method)

    method = stored(method)
    assert expires == NOON + timedelta(minutes=10) == method.code_expires_at
    assert len(method.code_hash) == 64 and code not in method.code_hash
    assert method.code_attempts == 0
    [message] = sent_messages(method)
    # Queued, urgent, marked secret; the engine sends it, never the request that asked for it.
    assert (message.purpose, message.kind, message.address, message.status) == ("verification", "sms",
                                                                                 "+14155552671", "pending")
    assert (message.priority, message.sensitive, message.sent_at) == (0, True, None)
    assert message.body == f"Quarterdeck code: {code}. It expires in 10 minutes."
    assert drain_outbox() == 1
    db.session.refresh(message)
    assert (message.status, message.channel) == ("sent", "console")
    assert message.body == f"Quarterdeck code: {code}. It expires in 10 minutes."  # the console's reader needs it


@pytest.mark.parametrize("kind, address", [("sms", "+14155552671"), ("voice", "+14155552671")])
def test_phone_verification_texts_are_short_gsm7(responder, add_contact_method, kind, address):
    method = add_contact_method(responder, kind, address)
    contacts.send_code(responder, method)
    [message] = sent_messages(method)
    assert set(message.body) <= GSM7
    assert len(message.body) <= 160


def test_the_voice_code_is_read_digit_by_digit_and_the_email_has_a_subject(responder, add_contact_method):
    voice = add_contact_method(responder, "voice")
    email = add_contact_method(responder, "email", "rowan@example.com")
    contacts.send_code(responder, voice)
    contacts.send_code(responder, email)
    code = last_code_sent(voice)
    assert ", ".join(code) in sent_messages(voice)[0].body
    [mail] = sent_messages(email)
    assert mail.subject == "Your Quarterdeck verification code"
    assert last_code_sent(email) in mail.body


def test_a_code_cannot_be_resent_within_a_minute(responder, add_contact_method, clock):
    method = add_contact_method(responder)
    contacts.send_code(responder, method)
    first = last_code_sent(method)
    clock.shift(timedelta(seconds=59))
    with pytest.raises(contacts.TooSoon, match="try again in 1 second"):
        contacts.send_code(responder, method)
    assert len(sent_messages(method)) == 1

    clock.shift(timedelta(seconds=2))
    contacts.send_code(responder, method)
    assert len(sent_messages(method)) == 2
    if last_code_sent(method) != first:  # a fresh code replaces the old one (1 in a million they are equal)
        with pytest.raises(Invalid, match="Wrong code"):
            contacts.verify_code(responder, method, first)


def test_the_right_code_verifies_the_method_clears_the_code_and_adds_a_first_rule(
        responder, add_contact_method, clock):
    method = add_contact_method(responder)
    contacts.send_code(responder, method)
    clock.shift(timedelta(minutes=9, seconds=59))

    assert contacts.verify_code(responder, method, f" {last_code_sent(method)} ") is True

    method = stored(method)
    assert method.verified_at == NOON + timedelta(minutes=9, seconds=59)
    assert (method.code_hash, method.code_expires_at, method.code_sent_at) == (None, None, None)
    assert [(rule.delay_minutes, rule.contact_method_id) for rule in contacts.list_rules(responder)] == [(0, method.id)]
    assert contacts.has_verified_phone(responder.id) is True


def test_only_the_first_verified_method_of_a_person_without_rules_gets_a_default_rule(
        responder, add_contact_method):
    add_contact_method(responder, verified=True)
    second = add_contact_method(responder, "email", "rowan@example.com")
    contacts.send_code(responder, second)
    assert contacts.verify_code(responder, second, last_code_sent(second)) is False
    assert len(contacts.list_rules(responder)) == 1


def test_a_person_who_already_has_rules_gets_no_default_rule(responder, add_contact_method):
    method = add_contact_method(responder)
    contacts.add_rule(responder, responder, contact_method_id=method.id, delay_minutes=2)
    contacts.send_code(responder, method)
    assert contacts.verify_code(responder, method, last_code_sent(method)) is False
    assert [rule.delay_minutes for rule in contacts.list_rules(responder)] == [2]


@pytest.mark.parametrize("minutes_later, expired", [(9, False), (10, True), (60, True)])
def test_a_code_expires_after_the_configured_minutes(responder, add_contact_method, clock, minutes_later, expired):
    method = add_contact_method(responder)
    contacts.send_code(responder, method)
    clock.shift(timedelta(minutes=minutes_later))
    if expired:
        with pytest.raises(Invalid, match="expired") as refusal:
            contacts.verify_code(responder, method, last_code_sent(method))
        assert refusal.value.field == "code"
        assert not stored(method).is_verified
    else:
        contacts.verify_code(responder, method, last_code_sent(method))
        assert stored(method).is_verified


@pytest.mark.config(VERIFICATION_CODE_MINUTES=2)
def test_the_code_lifetime_is_configurable(responder, add_contact_method, clock):
    method = add_contact_method(responder)
    assert contacts.send_code(responder, method) == NOON + timedelta(minutes=2)
    assert sent_messages(method)[0].body.endswith("It expires in 2 minutes.")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_code_guessed_wrong_too_often_is_locked_even_for_the_right_code(responder, add_contact_method):
    method = add_contact_method(responder)
    contacts.send_code(responder, method)
    code = last_code_sent(method)
    for left in (4, 3, 2, 1):
        with pytest.raises(Invalid, match=f"Wrong code; {left} tr"):
            contacts.verify_code(responder, method, wrong(code))
    with pytest.raises(Invalid, match="locked"):
        contacts.verify_code(responder, method, wrong(code))
    assert stored(method).code_attempts == 5

    with pytest.raises(Invalid, match="locked"):
        contacts.verify_code(responder, method, code)
    assert not stored(method).is_verified


def test_a_new_code_unlocks_verification(responder, add_contact_method, clock):
    method = add_contact_method(responder)
    contacts.send_code(responder, method)
    for _ in range(5):
        with pytest.raises(Invalid):
            contacts.verify_code(responder, method, wrong(last_code_sent(method)))
    clock.shift(timedelta(minutes=1))
    contacts.send_code(responder, method)
    contacts.verify_code(responder, method, last_code_sent(method))
    assert stored(method).is_verified


@pytest.mark.config(VERIFICATION_MAX_ATTEMPTS=2)
def test_the_number_of_tries_is_configurable(responder, add_contact_method):
    method = add_contact_method(responder)
    contacts.send_code(responder, method)
    code = last_code_sent(method)
    with pytest.raises(Invalid, match="1 try left"):
        contacts.verify_code(responder, method, wrong(code))
    with pytest.raises(Invalid, match="locked"):
        contacts.verify_code(responder, method, wrong(code))
    with pytest.raises(Invalid, match="locked"):
        contacts.verify_code(responder, method, code)


def test_verifying_needs_a_code_to_have_been_sent_and_a_verified_method_takes_no_code(
        responder, add_contact_method):
    method = add_contact_method(responder)
    with pytest.raises(Invalid, match="send a code first"):
        contacts.verify_code(responder, method, "123456")
    contacts.send_code(responder, method)
    contacts.verify_code(responder, method, last_code_sent(method))
    with pytest.raises(Conflict, match="already verified"):
        contacts.send_code(responder, method)


def test_a_code_is_never_logged_nor_kept_in_the_audit_trail(responder, add_contact_method, caplog):
    caplog.set_level(logging.DEBUG)
    method = add_contact_method(responder)
    contacts.send_code(responder, method)
    code = last_code_sent(method)
    drain_outbox()  # the console channel sends it (and logs that it did)
    code_hash = stored(method).code_hash
    with pytest.raises(Invalid):
        contacts.verify_code(responder, method, wrong(code))
    contacts.verify_code(responder, method, code)

    assert caplog.records, "the console channel logs each send: the check below must look at something"
    assert all(code not in record.getMessage() for record in caplog.records)
    trail = json.dumps([event.changes for event in db.session.scalars(select(AuditEvent))])
    assert "verified_at" in trail
    assert code not in trail and code_hash not in trail


# --- notification rules ------------------------------------------------------------------------------------

def test_rules_list_by_delay_then_kind(responder, add_contact_method):
    sms = add_contact_method(responder, "sms")
    voice = add_contact_method(responder, "voice")
    email = add_contact_method(responder, "email", "rowan@example.com")
    for method, delay in ((email, 0), (voice, 2), (sms, 0), (email, 30)):
        contacts.add_rule(responder, responder, contact_method_id=method.id, delay_minutes=delay)
    assert [(rule.delay_minutes, rule.method.kind.value) for rule in contacts.list_rules(responder)] == [
        (0, "email"), (0, "sms"), (2, "voice"), (30, "email")]


def test_a_rule_must_use_the_persons_own_method_once_per_delay_within_a_day(
        make_user, responder, add_contact_method):
    method = add_contact_method(responder)
    other = make_user("responder")
    others_method = add_contact_method(other)
    contacts.add_rule(responder, responder, contact_method_id=method.id, delay_minutes=0)

    for kwargs, error, field in [
        ({"contact_method_id": method.id, "delay_minutes": 0}, Conflict, "delay_minutes"),
        ({"contact_method_id": others_method.id, "delay_minutes": 5}, Invalid, "contact_method_id"),
        ({"contact_method_id": method.id, "delay_minutes": 1441}, Invalid, "delay_minutes"),
        ({"contact_method_id": method.id, "delay_minutes": -1}, Invalid, "delay_minutes"),
    ]:
        with pytest.raises(error) as refusal:
            contacts.add_rule(responder, responder, **kwargs)
        assert refusal.value.field == field
    with pytest.raises(Forbidden):
        contacts.add_rule(other, responder, contact_method_id=method.id, delay_minutes=9)
    assert len(contacts.list_rules(responder)) == 1


def test_the_plan_holds_only_verified_enabled_methods_by_delay_then_kind(responder, add_contact_method):
    voice = add_contact_method(responder, "voice", verified=True)  # gets the default rule at 0
    email = add_contact_method(responder, "email", "rowan@example.com", verified=True)
    unverified = add_contact_method(responder, "sms")
    disabled = add_contact_method(responder, "sms", "+442079460958", verified=True)
    for method, delay in ((email, 0), (unverified, 0), (disabled, 1), (voice, 5)):
        contacts.add_rule(responder, responder, contact_method_id=method.id, delay_minutes=delay)
    disabled.disabled_at, disabled.disabled_reason = NOON, "Twilio: unreachable number"
    db.session.commit()

    plan = contacts.notification_plan(responder)
    assert [(delay, method.id) for delay, method in plan] == [(0, email.id), (0, voice.id), (5, voice.id)]


def test_who_cannot_be_phoned(make_user, add_contact_method):
    email_only, unverified, voice, disabled = (make_user("responder") for _ in range(4))
    add_contact_method(email_only, "email", "e@example.com", verified=True)
    add_contact_method(unverified, "sms")
    add_contact_method(voice, "voice", verified=True)
    add_contact_method(disabled, "sms", verified=True).disabled_at = NOON
    db.session.commit()

    ids = [email_only.id, unverified.id, voice.id, disabled.id]
    assert contacts.users_without_verified_phone(ids) == {email_only.id, unverified.id, disabled.id}
    assert [contacts.has_verified_phone(user_id) for user_id in ids] == [False, False, True, False]
    assert contacts.users_without_verified_phone([]) == set()


# --- quarterly confirmation --------------------------------------------------------------------------------

def test_confirming_records_the_current_quarter_and_a_new_quarter_asks_again(responder, add_contact_method):
    add_contact_method(responder, verified=True)
    with time_machine.travel(datetime(2027, 1, 30, 12, tzinfo=UTC), tick=False):  # Q4 FY27 in Los Angeles
        confirmation = contacts.confirm_contacts(responder, responder)
        assert (confirmation.fiscal_year, confirmation.quarter) == (2027, 4)
        assert contacts.confirm_contacts(responder, responder).id == confirmation.id
        [row] = contacts.people_status()
        assert row.confirmed and row.confirmed_at == datetime(2027, 1, 30, 12, tzinfo=UTC)
        assert contacts.people_status(unconfirmed_only=True) == []
    # 1 February 03:00 UTC is still 31 January in Los Angeles: the quarter follows the person's own date.
    with time_machine.travel(datetime(2027, 2, 1, 3, tzinfo=UTC), tick=False):
        assert contacts.people_status()[0].confirmed
    with time_machine.travel(datetime(2027, 2, 1, 9, tzinfo=UTC), tick=False):
        [row] = contacts.people_status(unconfirmed_only=True)
        assert (row.person.id, row.confirmed, row.quarter.label) == (responder.id, False, "Q1 FY28")


def test_only_the_person_confirms_and_only_with_a_usable_method(make_user, responder, add_contact_method):
    with pytest.raises(Invalid, match="Verify at least one"):
        contacts.confirm_contacts(responder, responder)
    add_contact_method(responder, verified=True)
    with pytest.raises(Forbidden):
        contacts.confirm_contacts(make_user("admin"), responder)


def test_the_people_list_holds_active_people_with_their_phone_status(make_user, responder, add_contact_method):
    add_contact_method(responder, "voice", verified=True)
    quiet = make_user("executive", name="Aaron Quiet")
    gone = make_user("responder")
    auth.update_user(gone, name=gone.name, role="responder", time_zone="UTC", region_id=None, active=False)

    rows = contacts.people_status()
    assert [(row.person.id, row.has_verified_phone, row.confirmed) for row in rows] == [
        (quiet.id, False, False), (responder.id, True, False)]
