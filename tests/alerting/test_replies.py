"""SMS replies: reply codes per phone, the words people type, idempotent answers, STOP/START, caps."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.alerting.models import Alert, ReplyCode
from app.alerting.replies import Command, parse_reply
from app.extensions import db
from tests.alerting.pager import give_methods, policy_for
from tests.conftest import drain_outbox

ALICE = "+14155550101"


@pytest.mark.parametrize("text, expected", [
    ("12a", Command("ack", 12)), ("12 A", Command("ack", 12)), (" ack 12 ", Command("ack", 12)),
    ("ACK #12", Command("ack", 12)), ("12r", Command("resolve", 12)), ("resolve 3", Command("resolve", 3)),
    ("12e", Command("escalate", 12)), ("esc 12", Command("escalate", 12)), ("a", Command("ack")),
    ("R", Command("resolve")), ("STOP", Command("stop")), ("Start", Command("start")),
    ("12", Command("help")), ("hello", Command("help")), ("", Command("help")), ("12x", Command("help")),
])
def test_replies_are_read_case_insensitively_and_tolerant_of_spaces(text, expected):
    assert parse_reply(text) == expected


@pytest.fixture
def alice(make_user):
    person = make_user("responder", name="Alice", time_zone="Europe/London")
    give_methods(person, ("sms", ALICE, 0))
    return person


def test_each_open_alert_gets_the_smallest_free_code_and_codes_are_reused_after_closing(phones, alice):
    policy = policy_for(([alice], 30))
    first = phones.trigger("First", escalation_policy_id=policy.id, dedup_key="1")
    phones.trigger("Second", escalation_policy_id=policy.id, dedup_key="2")
    phones.tick()
    phones.expect_sms(ALICE, "Second")  # bundled: newest first, numbered by their own codes
    assert sorted(db.session.scalars(select(ReplyCode.code))) == [1, 2]
    first_code = db.session.scalar(select(ReplyCode.code).where(ReplyCode.alert_id == first.id))

    assert phones.reply(ALICE, f"{first_code}r").startswith(f"Resolved alert {first_code}: First")
    phones.trigger("Third", escalation_policy_id=policy.id, dedup_key="3")
    phones.tick()

    phones.expect_sms(ALICE, f"QD alert {first_code}: Third")


def test_a_repeated_acknowledgement_says_who_did_it_and_when(phones, alice):
    phones.trigger(escalation_policy_id=policy_for(([alice], 30)).id)
    phones.tick()
    phones.expect_sms(ALICE)
    phones.reply(ALICE, "1a")  # 02:00 UTC is 03:00 in London on 6 October (BST)

    answer = phones.reply(ALICE, "ack 1")

    assert answer == "QD alert 1 was already acknowledged by Alice at 03:00: ERP billing job missed its run"


def test_a_alone_acknowledges_the_newest_open_alert_for_that_phone(phones, alice):
    policy = policy_for(([alice], 30))
    older = phones.trigger("Older", escalation_policy_id=policy.id, dedup_key="older")
    phones.tick()
    phones.expect_sms(ALICE, "Older")
    newer = phones.trigger("Newer", escalation_policy_id=policy.id, dedup_key="newer")
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 2: Newer")

    assert phones.reply(ALICE, "A").startswith("Acknowledged alert 2: Newer")

    assert (db.session.get(Alert, older.id).status, db.session.get(Alert, newer.id).status) == \
        ("triggered", "acknowledged")


def test_escalating_by_reply_pages_the_next_step_now(phones, alice, make_user):
    bob = make_user("responder", name="Bob")
    give_methods(bob, ("sms", "+14155550102", 0))
    phones.trigger(escalation_policy_id=policy_for(([alice], 30), ([bob], 30)).id)
    phones.tick()
    phones.expect_sms(ALICE)

    assert phones.reply(ALICE, "1e").startswith("Escalated alert 1")
    phones.tick()

    phones.expect_sms("+14155550102", "QD alert 1:")


def test_unknown_numbers_get_no_answer(phones, alice):
    assert phones.reply("+14155559999", "1a") == ""


def test_help_answers_are_capped_per_number(phones, alice):
    answers = [phones.reply(ALICE, "what?") for _ in range(5)]

    assert all("reply 12a to ack alert 12" in answer for answer in answers[:3])
    assert answers[3:] == ["", ""]


def test_a_code_no_alert_holds_gets_help_naming_it(phones, alice):
    assert phones.reply(ALICE, "7a").startswith("No open alert 7 for this number.")


def test_after_stop_the_persons_page_shows_the_number_off_and_reverifying_turns_it_back_on(phones, alice, login_as):
    from app.oncall import services as contacts
    from app.oncall.models import ContactMethod

    phones.reply(ALICE, "stop")
    page = login_as("crisis_team").get(f"/oncall/people/{alice.id}").get_data(as_text=True)
    assert "Replied STOP: SMS is off until START is sent." in page

    method = db.session.scalar(select(ContactMethod).where(ContactMethod.address == ALICE))
    contacts.send_code(alice, method)
    drain_outbox()  # the engine sends it through Twilio: the stand-in accepts it
    code = phones.expect_sms(ALICE, "Quarterdeck code").body.split("code: ")[1][:6]
    contacts.verify_code(alice, method, code)

    assert db.session.get(ContactMethod, method.id).is_usable
