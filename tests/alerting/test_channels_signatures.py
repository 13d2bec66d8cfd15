"""Inbound Twilio webhooks are trusted only with a valid signature; delivery error codes say what is permanent."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from app.alerting.channels import Message, TwilioSmsChannel
from app.alerting.channels.twilio_common import auth_tokens, delivery_error_is_permanent, signature_is_valid
from tests.alerting.conftest import twilio_settings
from tests.fakes.twilio_server import FakeTwilio, TwilioRecord, signed_request

PRIMARY = "a" * 32
SECONDARY = "b" * 32
URL = "https://qd.example.com/twilio/status?message_id=41"
FORM = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "To": "+14155550100"}


def signature(url=URL, form=FORM, token=PRIMARY):
    return signed_request(url, form, token)[2]["X-Twilio-Signature"]


def test_a_signature_made_with_the_token_for_this_url_and_form_is_valid():
    assert signature_is_valid(URL, FORM, signature(), [PRIMARY]) is True


def test_a_signature_made_with_another_token_is_refused():
    assert signature_is_valid(URL, FORM, signature(token="c" * 32), [PRIMARY]) is False


@pytest.mark.parametrize("missing", [None, ""])
def test_a_missing_signature_is_refused(missing):
    assert signature_is_valid(URL, FORM, missing, [PRIMARY]) is False


def test_no_configured_token_refuses_everything_even_a_correct_signature():
    assert signature_is_valid(URL, FORM, signature(), []) is False
    assert signature_is_valid(URL, FORM, signature(), [""]) is False


def test_a_changed_field_breaks_the_signature():
    forged = {**FORM, "MessageStatus": "failed"}
    assert signature_is_valid(URL, forged, signature(), [PRIMARY]) is False


def test_a_signature_for_another_host_or_message_is_refused():
    assert signature_is_valid("https://evil.example.com/twilio/status?message_id=41", FORM, signature(),
                              [PRIMARY]) is False
    assert signature_is_valid(URL.replace("=41", "=42"), FORM, signature(), [PRIMARY]) is False


def test_during_rotation_either_token_is_accepted():
    tokens = auth_tokens({"TWILIO_AUTH_TOKEN": PRIMARY, "TWILIO_AUTH_TOKEN_SECONDARY": SECONDARY})

    assert tokens == [PRIMARY, SECONDARY]
    assert signature_is_valid(URL, FORM, signature(token=SECONDARY), tokens) is True
    assert signature_is_valid(URL, FORM, signature(token=PRIMARY), tokens) is True
    assert signature_is_valid(URL, FORM, signature(token="c" * 32), tokens) is False


def test_auth_tokens_leaves_out_what_is_not_set():
    assert auth_tokens({"TWILIO_AUTH_TOKEN": PRIMARY, "TWILIO_AUTH_TOKEN_SECONDARY": ""}) == [PRIMARY]
    assert auth_tokens({}) == []


def test_twilio_signing_with_an_explicit_port_is_accepted_as_twilio_sometimes_does():
    with_port = URL.replace("qd.example.com", "qd.example.com:443")
    assert signature_is_valid(URL, FORM, signature(url=with_port), [PRIMARY]) is True


def test_the_stand_in_signs_status_callbacks_for_the_callback_url_it_was_given():
    fake = FakeTwilio(auth_token=PRIMARY)
    record = TwilioRecord(kind="message", form={"To": "+14155550100", "From": "+15005550006",
                                                "StatusCallback": URL}, values={}, status_code=201, sid="SM1")

    path, form, headers = fake.signed_status(record, "undelivered", error_code=30003)

    assert path == "/twilio/status?message_id=41"
    assert (form["MessageSid"], form["MessageStatus"], form["ErrorCode"]) == ("SM1", "undelivered", "30003")
    assert signature_is_valid(URL, form, headers["X-Twilio-Signature"], [PRIMARY])
    _path, _form, elsewhere = fake.signed_status(record, "delivered", base_url="http://127.0.0.1:9")
    assert not signature_is_valid(URL, _form, elsewhere["X-Twilio-Signature"], [PRIMARY])


@pytest.mark.parametrize("code", ["30003", "30004", "30005", "30006", "30007", 21610, "21614", " 30005 "])
def test_delivery_errors_that_can_never_succeed_are_permanent(code):
    assert delivery_error_is_permanent(code) is True


@pytest.mark.parametrize("code", [None, "", "30001", "30008", 30009, "0"])
def test_other_delivery_errors_are_not_permanent(code):
    assert delivery_error_is_permanent(code) is False


def test_post_status_delivers_a_signed_report_over_http_to_where_the_app_listens(twilio_server):
    received = []

    class App(BaseHTTPRequestHandler):
        def do_POST(self):
            form = dict(parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            received.append((self.path, form, self.headers.get("X-Twilio-Signature")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    app_server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=app_server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        TwilioSmsChannel(twilio_settings(twilio_server)).send(Message(to="+14155550100", body="x", kind="sms",
                                                                      message_id=9))
        [record] = twilio_server.messages
        answer = twilio_server.post_status(record, "delivered", send_to=f"http://127.0.0.1:{app_server.server_port}")
    finally:
        app_server.shutdown()
        app_server.server_close()

    assert answer.status_code == 204
    [(path, form, sent_signature)] = received
    assert path == "/twilio/status?message_id=9"
    assert form["MessageStatus"] == "delivered" and form["MessageSid"] == record.sid
    public_url = "https://qd.example.com" + path
    assert signature_is_valid(public_url, form, sent_signature, [twilio_server.auth_token])


def test_the_stand_in_signs_sms_replies_and_voice_requests_with_the_account_token():
    fake = FakeTwilio(auth_token=PRIMARY)
    call = TwilioRecord(kind="call", form={"To": "+14155550100", "From": "+15005550006"}, values={},
                        status_code=201, sid="CA1")
    sms_url = "https://qd.example.com/twilio/sms"
    gather_url = "https://qd.example.com/twilio/voice/gather?message_id=3"

    path, reply, headers = fake.signed_sms_reply(sms_url, "+14155550100", "12a")
    _path, keys, key_headers = fake.signed_voice(call, gather_url, digits="4")

    assert path == "/twilio/sms" and (reply["From"], reply["Body"]) == ("+14155550100", "12a")
    assert signature_is_valid(sms_url, reply, headers["X-Twilio-Signature"], [PRIMARY])
    assert (keys["CallSid"], keys["Digits"]) == ("CA1", "4")
    assert signature_is_valid(gather_url, keys, key_headers["X-Twilio-Signature"], [PRIMARY])
