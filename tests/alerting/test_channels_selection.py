"""Which channel carries a message: the provider when it is fully configured, else the console."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.alerting.channels import (ConsoleChannel, EmailChannel, TwilioSmsChannel, TwilioVoiceChannel, channel_for,
                                   email_enabled, twilio_enabled, voice_enabled)
from app.alerting.models import REDACTED, OutboundMessage
from app.extensions import db
from app.oncall import services as contacts
from tests.conftest import drain_outbox

SID, TOKEN, NUMBER, SERVICE = "AC" + "0" * 32, "t" * 32, "+15005550006", "MG" + "0" * 32
TWILIO = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": NUMBER,
          "PUBLIC_BASE_URL": "https://qd.example.com"}


@pytest.mark.parametrize("kind", ["sms", "voice", "email"])
def test_with_nothing_configured_every_kind_goes_to_the_console(kind):
    channel = channel_for(kind, {"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "SMTP_URL": ""})

    assert isinstance(channel, ConsoleChannel)
    assert (channel.name, channel.keeps_body) == ("console", True)


def test_a_configured_twilio_carries_sms_and_voice():
    sms, voice = channel_for("sms", TWILIO), channel_for("voice", TWILIO)

    assert isinstance(sms, TwilioSmsChannel) and isinstance(voice, TwilioVoiceChannel)
    assert (sms.name, voice.name) == ("twilio_sms", "twilio_voice")
    assert sms.keeps_body is False  # Twilio holds the text
    assert voice.keeps_body is True  # the call fetches its words from us when answered
    assert isinstance(channel_for("email", TWILIO), ConsoleChannel)


def test_a_messaging_service_carries_sms_but_cannot_place_calls():
    config = {**TWILIO, "TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": SERVICE}

    assert twilio_enabled(config) and not voice_enabled(config)
    assert isinstance(channel_for("sms", config), TwilioSmsChannel)
    assert isinstance(channel_for("voice", config), ConsoleChannel)


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"])
def test_half_configured_twilio_is_off(missing):
    config = {**TWILIO, missing: ""}

    assert not twilio_enabled(config)
    assert isinstance(channel_for("sms", config), ConsoleChannel)


def test_an_smtp_url_turns_email_on():
    config = {"SMTP_URL": "smtp://mail.example.com:25"}

    assert email_enabled(config) and not email_enabled({"SMTP_URL": ""})
    channel = channel_for("email", config)
    assert isinstance(channel, EmailChannel)
    assert (channel.name, channel.keeps_body) == ("email", False)


def test_the_app_picks_its_channels_from_its_own_config(app, twilio, smtp_sink):
    assert isinstance(channel_for("sms", app.config), TwilioSmsChannel)
    assert isinstance(channel_for("voice", app.config), TwilioVoiceChannel)
    assert isinstance(channel_for("email", app.config), EmailChannel)


def test_an_app_without_providers_uses_the_console(app):
    assert isinstance(channel_for("sms", app.config), ConsoleChannel)
    assert isinstance(channel_for("email", app.config), ConsoleChannel)


def _code_in(text: str) -> str:
    return re.search(r"\b\d{6}\b", re.sub(r"(?<=\d), (?=\d)", "", text)).group(0)


def test_a_verification_code_goes_out_by_twilio_sms_and_is_not_kept(app, twilio, make_user):
    person = make_user("responder")
    method = contacts.add_method(person, person, kind="sms", address="+14155552671")

    contacts.send_code(person, method)
    assert twilio.messages == []  # nothing leaves inside the request: the engine sends it
    drain_outbox()

    [received] = twilio.messages
    assert received.to == "+14155552671" and received.from_ == twilio.from_number
    record = db.session.scalars(select(OutboundMessage)).one()
    assert (record.channel, record.status, record.provider_ref) == ("twilio_sms", "sent", received.sid)
    assert record.body == REDACTED  # the code is withheld once it has left
    assert received.message_id == record.id
    assert contacts.verify_code(person, method, _code_in(received.body))


def test_a_number_twilio_refuses_fails_the_send_permanently(app, twilio, make_user):
    person = make_user("responder")
    method = contacts.add_method(person, person, kind="sms", address="+14155552671")
    twilio.fail_for("+14155552671", code=21614)

    contacts.send_code(person, method)
    drain_outbox()

    record = db.session.scalars(select(OutboundMessage)).one()
    assert (record.status, record.permanent_failure) == ("failed", True)
    assert "21614" in record.last_error
    assert record.body == REDACTED  # failed or not, a code does not stay readable
    assert contacts.last_code_message(db.session.get(type(method), method.id)).status == "failed"


def test_a_verification_code_goes_out_by_email_through_smtp(app, smtp_sink, make_user):
    person = make_user("responder", email="priya@example.com")
    method = contacts.add_method(person, person, kind="email", address="priya@example.com")

    contacts.send_code(person, method)
    drain_outbox()

    [received] = smtp_sink.messages
    assert received.rcpt_tos == ["priya@example.com"] and received.subject
    record = db.session.scalars(select(OutboundMessage)).one()
    assert (record.channel, record.provider_ref) == ("email", received["Message-ID"])
    assert contacts.verify_code(person, method, _code_in(received.body))
