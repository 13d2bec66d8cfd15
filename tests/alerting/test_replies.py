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


# --- reply words other domains register ---------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("12x", Command("extra", 12)), ("12 X", Command("extra", 12)), ("x 12", Command("extra", 12)),
    ("xtra #3", Command("extra", 3)), ("x", Command("help")), ("12a", Command("ack", 12)), ("12y", Command("help")),
])
def test_registered_words_read_like_the_built_in_ones_but_always_need_a_code(text, expected):
    assert parse_reply(text, {"x": "extra", "xtra": "extra"}) == expected


@pytest.fixture
def extra_action(app):
    """A reply action registered on the app for one test: answers with what it was given."""
    from app.alerting.replies import REPLY_ACTIONS_KEY, register_reply_action

    calls = []

    def handler(alert_id, person, phone, code):
        calls.append((alert_id, person.name, phone, code))
        db.session.commit()
        return f"Extra on alert {code} for {person.name}"

    register_reply_action(app, "extra", handler, words=("x",))
    try:
        yield calls
    finally:
        app.extensions[REPLY_ACTIONS_KEY].pop("extra", None)


def test_a_registered_reply_word_calls_its_handler_with_the_alert_its_code_names(phones, alice, extra_action):
    alert = phones.trigger(escalation_policy_id=policy_for(([alice], 30)).id)
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 1:")

    answer = phones.reply(ALICE, "1x")

    assert answer == "Extra on alert 1 for Alice"
    assert extra_action == [(alert.id, "Alice", ALICE, 1)]
    assert db.session.get(Alert, alert.id).status == "triggered"  # the handler alone decides what happens


def test_a_registered_word_with_a_code_no_alert_holds_gets_help(phones, alice, extra_action):
    assert phones.reply(ALICE, "9x").startswith("No open alert 9 for this number.")
    assert extra_action == []


def test_a_registered_word_may_not_shadow_a_built_in_one(app):
    from app.alerting.replies import register_reply_action

    with pytest.raises(ValueError, match="already taken"):
        register_reply_action(app, "shadow", lambda *args: "", words=("a",))
    with pytest.raises(ValueError, match="letters"):
        register_reply_action(app, "digits", lambda *args: "", words=("1",))
