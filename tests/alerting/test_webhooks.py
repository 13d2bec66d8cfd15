"""Twilio's webhooks answer only requests signed for PUBLIC_BASE_URL with a configured token."""
from __future__ import annotations

import pytest
from flask import current_app

from app.alerting.models import OutboundMessage
from app.extensions import db
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
