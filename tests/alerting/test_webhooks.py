"""Twilio's webhooks answer only requests signed for PUBLIC_BASE_URL with a configured token."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from flask import current_app
from sqlalchemy import select

from app.alerting.channels.twilio_voice import MENU_PROMPT
from app.alerting.models import Alert, AlertEvent, OutboundMessage
from app.extensions import db
from tests.alerting.pager import give_methods, policy_for
from tests.fakes.twilio_server import signed_request

PATHS = ["/twilio/sms", "/twilio/status?message_id=1", "/twilio/voice?message_id=1",
         "/twilio/voice/gather?message_id=1"]
FORM = {"From": "+14155550101", "Body": "1a", "MessageStatus": "delivered", "Digits": "4"}


def _url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + path


@pytest.mark.parametrize("path", PATHS)
def test_a_missing_signature_is_refused(twilio, client, path):
    assert client.post(path, data=FORM).status_code == 403


@pytest.mark.parametrize("path", PATHS)
def test_a_forged_signature_is_refused(twilio, client, path):
    path, form, headers = signed_request(_url(path), FORM, "not-the-token")
    assert client.post(path, data=form, headers=headers).status_code == 403


@pytest.mark.parametrize("path", PATHS)
def test_a_signature_for_another_host_is_refused(twilio, client, path):
    path, form, headers = signed_request("https://attacker.example" + path, FORM, twilio.auth_token)
    assert client.post(path, data=form, headers=headers).status_code == 403


def test_changing_a_signed_field_breaks_the_signature(twilio, client):
    path, form, headers = signed_request(_url("/twilio/sms"), FORM, twilio.auth_token)
    assert client.post(path, data={**form, "Body": "1r"}, headers=headers).status_code == 403


@pytest.mark.parametrize("path", PATHS)
def test_without_a_configured_token_every_request_is_refused(app, client, path):
    app.config.update(TWILIO_AUTH_TOKEN="", TWILIO_AUTH_TOKEN_SECONDARY="")
    path, form, headers = signed_request(_url(path), FORM, "")
    assert client.post(path, data=form, headers=headers).status_code == 403


def test_the_secondary_token_is_accepted_while_tokens_are_rotated(twilio, app, client):
    app.config["TWILIO_AUTH_TOKEN_SECONDARY"] = "the-next-token-0123456789abcdef"
    path, form, headers = signed_request(_url("/twilio/status?message_id=1"), FORM, "the-next-token-0123456789abcdef")
    assert client.post(path, data=form, headers=headers).status_code == 204


def test_a_report_for_an_unknown_message_is_acknowledged_and_ignored(twilio, client):
    path, form, headers = signed_request(_url("/twilio/status?message_id=999"), FORM, twilio.auth_token)

    assert client.post(path, data=form, headers=headers).status_code == 204
    assert db.session.get(OutboundMessage, 999) is None


def test_a_call_for_an_unknown_message_says_so_and_hangs_up(twilio, client):
    path, form, headers = signed_request(_url("/twilio/voice?message_id=999"), {"AnsweredBy": "human"},
                                         twilio.auth_token)
    body = client.post(path, data=form, headers=headers).get_data(as_text=True)
    assert "no longer available" in body and "<Hangup" in body


def test_a_call_that_is_not_a_page_says_its_words_twice(twilio, client, make_user):
    person = make_user("responder")
    message = OutboundMessage(user_id=person.id, channel="twilio_voice", kind="voice", address="+14155550101",
                              purpose="verification", body="Your Quarterdeck code is 1 2 3 4 5 6.", status="sent")
    db.session.add(message)
    db.session.commit()
    path, form, headers = signed_request(_url(f"/twilio/voice?message_id={message.id}"), {"AnsweredBy": "human"},
                                         twilio.auth_token)

    body = client.post(path, data=form, headers=headers).get_data(as_text=True)

    assert body.count("Your Quarterdeck code is 1 2 3 4 5 6.") == 2 and "Gather" not in body


# --- the keypad on a paging call --------------------------------------------------------------------------

CAROL, BOB = "+14155550103", "+14155550102"
SUMMARY = "ERP billing job missed its run"
SPOKEN_ALERT = f"This is Quarterdeck with a critical alert. {SUMMARY}."


@pytest.fixture
def call_to_carol(phones, make_user):
    """Carol (step 1, called at once) has answered a paging call; Bob (step 2, texted) is 30 minutes away."""
    carol, bob = make_user("responder", name="Carol"), make_user("responder", name="Bob")
    give_methods(carol, ("voice", CAROL, 0))
    give_methods(bob, ("sms", BOB, 0))
    alert = phones.trigger(SUMMARY, escalation_policy_id=policy_for(([carol], 30), ([bob], 30)).id)
    phones.tick()
    call = phones.expect_call(CAROL)
    phones.answer_call(call)
    return alert, call


def _timeline(alert_id: int) -> list[AlertEvent]:
    return list(db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)))


def _spoken(twiml: str) -> list[str]:
    return [say.text for say in ET.fromstring(twiml).iter("Say")]


def test_pressing_6_resolves_the_alert_and_says_so(phones, call_to_carol):
    alert, call = call_to_carol

    twiml = phones.answer_call(call, digits="6")

    assert _spoken(twiml) == ["Resolved. Goodbye."] and ET.fromstring(twiml).find("Hangup") is not None
    resolved = db.session.get(Alert, alert.id)
    assert (resolved.status, resolved.resolved_by) == ("resolved", "Carol")
    assert _timeline(alert.id)[-1].text == f"Resolved by Carol via voice call to {CAROL}."
    phones.wait(minutes=30)  # Bob's step would have come now: a resolved alert pages nobody


def test_pressing_5_escalates_to_the_next_step_at_once(phones, call_to_carol):
    alert, call = call_to_carol

    twiml = phones.answer_call(call, digits="5")
    phones.tick()

    assert _spoken(twiml) == ["Escalated. Goodbye."]
    phones.expect_sms(BOB, f"QD alert 1: {SUMMARY}")  # now, not after step 1's 30 minutes
    assert db.session.get(Alert, alert.id).status == "triggered"
    texts = [event.text for event in _timeline(alert.id)]
    assert f"Carol asked to escalate now via voice call to {CAROL}." in texts and "Step 2: paging Bob." in texts


def test_pressing_star_repeats_the_alert_and_the_menu_changing_nothing(phones, call_to_carol):
    alert, call = call_to_carol
    events_before = len(_timeline(alert.id))

    twiml = phones.answer_call(call, digits="*")

    assert _spoken(twiml)[:3] == [SPOKEN_ALERT, SPOKEN_ALERT, MENU_PROMPT]  # no "Sorry": star is a real key
    gather = ET.fromstring(twiml).find("Gather")
    assert gather.get("action").endswith(f"/twilio/voice/gather?message_id={call.message_id}")
    assert db.session.get(Alert, alert.id).status == "triggered"
    assert len(_timeline(alert.id)) == events_before


def test_an_unknown_key_says_it_does_nothing_and_offers_the_menu_again(phones, call_to_carol):
    alert, call = call_to_carol
    events_before = len(_timeline(alert.id))

    twiml = phones.answer_call(call, digits="9")

    assert _spoken(twiml)[0] == f"Sorry, that key does nothing. {SPOKEN_ALERT}"
    assert [say.text for say in ET.fromstring(twiml).find("Gather").iter("Say")] == [MENU_PROMPT]
    assert db.session.get(Alert, alert.id).status == "triggered"
    assert len(_timeline(alert.id)) == events_before
