"""The Twilio SMS and voice channels, sending through the real SDK to the stand-in Twilio server over HTTP."""
from __future__ import annotations

import time

import pytest

from app.alerting.channels import ChannelError, Message, TwilioSmsChannel, TwilioVoiceChannel
from tests.alerting.conftest import PUBLIC_BASE_URL, TEST_FROM_NUMBER, twilio_settings
from tests.fakes.twilio_server import FakeTwilio

TO = "+14155550100"


def sms(body="ERP billing job missed its run. Reply 12a to acknowledge", to=TO, message_id=41):
    return Message(to=to, body=body, kind="sms", message_id=message_id)


def call(to=TO, message_id=42):
    return Message(to=to, body="ERP billing job missed its run", kind="voice", message_id=message_id)


def test_an_sms_reaches_twilio_with_sender_text_and_a_status_callback_naming_the_message(twilio_server):
    sid = TwilioSmsChannel(twilio_settings(twilio_server)).send(sms())

    [received] = twilio_server.messages
    assert sid == received.sid and sid.startswith("SM")
    assert (received.to, received.from_) == (TO, TEST_FROM_NUMBER)
    assert received.body == "ERP billing job missed its run. Reply 12a to acknowledge"
    assert received.status_callback == f"{PUBLIC_BASE_URL}/twilio/status?message_id=41"
    assert received.message_id == 41
    assert received.messaging_service_sid is None


def test_an_sms_can_go_out_through_a_messaging_service_instead_of_a_number(twilio_server):
    service = "MG" + "ab" * 16
    config = twilio_settings(twilio_server, TWILIO_FROM_NUMBER="", TWILIO_MESSAGING_SERVICE_SID=service)

    TwilioSmsChannel(config).send(sms())

    [received] = twilio_server.messages
    assert received.messaging_service_sid == service
    assert received.from_ is None


def test_sms_text_is_sent_in_gsm7(twilio_server):
    TwilioSmsChannel(twilio_settings(twilio_server)).send(sms(body="“Payroll” export – failed…\u00a0again 🔥"))

    assert twilio_server.messages[0].body == '"Payroll" export - failed... again'


def test_a_call_asks_twilio_for_our_twiml_with_machine_detection_and_every_progress_event(twilio_server):
    sid = TwilioVoiceChannel(twilio_settings(twilio_server)).send(call())

    [placed] = twilio_server.calls
    assert sid == placed.sid and sid.startswith("CA")
    assert (placed.to, placed.from_) == (TO, TEST_FROM_NUMBER)
    assert placed.url == f"{PUBLIC_BASE_URL}/twilio/voice?message_id=42"
    assert placed.status_callback == f"{PUBLIC_BASE_URL}/twilio/status?message_id=42"
    assert placed.values["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert placed.machine_detection == "Enable"
    assert twilio_server.messages == []


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_rate_limits_are_worth_retrying(twilio_server, status):
    twilio_server.fail_next(status=status)

    with pytest.raises(ChannelError) as raised:
        TwilioSmsChannel(twilio_settings(twilio_server)).send(sms())

    assert raised.value.permanent is False
    assert str(status) in str(raised.value)
    assert twilio_server.messages == []


@pytest.mark.parametrize(("code", "status"), [(21211, 400), (21610, 400), (21614, 400), (21408, 400)])
def test_a_bad_or_unsubscribed_destination_is_a_permanent_failure(twilio_server, code, status):
    twilio_server.fail_next(status=status, code=code)

    with pytest.raises(ChannelError) as raised:
        TwilioSmsChannel(twilio_settings(twilio_server)).send(sms())

    assert raised.value.permanent is True
    assert str(code) in str(raised.value)


def test_a_number_twilio_rejects_itself_is_a_permanent_failure(twilio_server):
    with pytest.raises(ChannelError) as raised:
        TwilioSmsChannel(twilio_settings(twilio_server)).send(sms(to="+1"))

    assert raised.value.permanent is True and "21211" in str(raised.value)


def test_an_unknown_client_error_is_permanent(twilio_server):
    twilio_server.fail_next(status=400, code=21999, message="Something about this request")

    with pytest.raises(ChannelError) as raised:
        TwilioSmsChannel(twilio_settings(twilio_server)).send(sms())

    assert raised.value.permanent is True


def test_a_rejected_account_token_is_not_blamed_on_the_destination(twilio_server):
    config = twilio_settings(twilio_server, TWILIO_AUTH_TOKEN="0" * 32)

    with pytest.raises(ChannelError) as raised:
        TwilioSmsChannel(config).send(sms())

    assert raised.value.permanent is False
    assert "401" in str(raised.value)


def test_a_failure_set_for_one_number_leaves_the_others_alone(twilio_server):
    channel = TwilioSmsChannel(twilio_settings(twilio_server))
    twilio_server.fail_for("+14155550199", code=21614)

    with pytest.raises(ChannelError) as raised:
        channel.send(sms(to="+14155550199"))
    channel.send(sms(to=TO))

    assert raised.value.permanent is True
    assert [m.to for m in twilio_server.messages] == [TO]


def test_a_twilio_that_does_not_answer_in_time_is_a_retryable_timeout(twilio_server):
    twilio_server.fail_next(delay=3)
    config = twilio_settings(twilio_server, TWILIO_TIMEOUT_SECONDS=0.5)

    started = time.monotonic()
    with pytest.raises(ChannelError) as raised:
        TwilioVoiceChannel(config).send(call())

    assert time.monotonic() - started < 2.5
    assert raised.value.permanent is False
    assert "in time" in str(raised.value)


def test_an_unreachable_twilio_is_a_retryable_failure(twilio_server):
    config = twilio_settings(twilio_server)
    twilio_server.stop()

    with pytest.raises(ChannelError) as raised:
        TwilioSmsChannel(config).send(sms())

    assert raised.value.permanent is False


def test_a_call_failing_after_one_success_does_not_stop_the_next(twilio_server):
    channel = TwilioVoiceChannel(twilio_settings(twilio_server))
    twilio_server.fail_next(status=500)

    with pytest.raises(ChannelError):
        channel.send(call(message_id=1))
    channel.send(call(message_id=2))

    assert [c.message_id for c in twilio_server.calls] == [2]
    assert [r.status_code for r in twilio_server.requests] == [500, 201]


def test_apps_pointed_at_different_twilio_servers_never_share_a_client(twilio_server):
    other = FakeTwilio().start()
    try:
        TwilioSmsChannel(twilio_settings(twilio_server)).send(sms(message_id=1))
        TwilioSmsChannel(twilio_settings(other)).send(sms(message_id=2))
        TwilioSmsChannel(twilio_settings(twilio_server)).send(sms(message_id=3))
    finally:
        other.stop()

    assert [m.message_id for m in twilio_server.messages] == [1, 3]
    assert [m.message_id for m in other.messages] == [2]


def test_wait_for_returns_once_enough_messages_arrived_and_fails_otherwise(twilio_server):
    TwilioSmsChannel(twilio_settings(twilio_server)).send(sms())

    assert len(twilio_server.wait_for(1, timeout=1, kind="message")) == 1
    with pytest.raises(AssertionError, match="expected 1 accepted call"):
        twilio_server.wait_for(1, timeout=0.1, kind="call")


# --- the environment's proxy settings, read once -------------------------------------------------------------

DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, a connection is refused at once


def test_the_proxy_variables_are_honoured(twilio_server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    with pytest.raises(ChannelError):  # sent through the (dead) proxy the environment names
        TwilioSmsChannel(twilio_settings(twilio_server, TWILIO_TIMEOUT_SECONDS=2.1)).send(sms())
    assert twilio_server.messages == []

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    TwilioSmsChannel(twilio_settings(twilio_server, TWILIO_TIMEOUT_SECONDS=2.2)).send(sms())
    assert len(twilio_server.messages) == 1


def test_the_environment_is_read_when_the_client_is_made_not_on_every_send(twilio_server, monkeypatch):
    settings = twilio_settings(twilio_server, TWILIO_TIMEOUT_SECONDS=2.3)
    TwilioSmsChannel(settings).send(sms(message_id=1))

    monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)  # requests alone would read this on the next send
    TwilioSmsChannel(settings).send(sms(message_id=2))

    assert [m.message_id for m in twilio_server.messages] == [1, 2]
