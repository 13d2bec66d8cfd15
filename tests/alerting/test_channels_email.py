"""The email channel, sending through smtplib to a real SMTP server on 127.0.0.1."""
from __future__ import annotations

import socket

import pytest

from app.alerting.channels import ChannelError, EmailChannel, Message
from app.alerting.channels.email import parse_smtp_url
from tests.fakes.smtp_sink import SmtpSink

TO = "priya@example.com"


def mail(to=TO, subject="Alert #12: ERP billing job missed its run", body="Open: https://qd.example.com/alerts/12"):
    return Message(to=to, body=body, kind="email", subject=subject, message_id=5)


def settings(sink, **overrides):
    return {"SMTP_URL": sink.url, "SMTP_FROM": "quarterdeck@example.com", "SMTP_TIMEOUT_SECONDS": 2, **overrides}


def test_a_mail_arrives_with_subject_body_sender_and_the_returned_message_id(smtp_server):
    message_id = EmailChannel(settings(smtp_server)).send(mail())

    [received] = smtp_server.messages
    assert received.rcpt_tos == [TO]
    assert received.mail_from == "quarterdeck@example.com"
    assert received["From"] == "quarterdeck@example.com" and received["To"] == TO
    assert received.subject == "Alert #12: ERP billing job missed its run"
    assert received.body.strip() == "Open: https://qd.example.com/alerts/12"
    assert received["Message-ID"] == message_id and message_id.endswith("@example.com>")


def test_the_sender_defaults_to_quarterdeck_at_localhost(smtp_server):
    EmailChannel({"SMTP_URL": smtp_server.url}).send(mail())

    assert smtp_server.messages[0].mail_from == "quarterdeck@localhost"


def test_a_subject_cannot_smuggle_in_headers(smtp_server):
    EmailChannel(settings(smtp_server)).send(mail(subject="Alert\r\nBcc: everyone@example.com"))

    [received] = smtp_server.messages
    assert received.subject == "Alert Bcc: everyone@example.com"
    assert received["Bcc"] is None and received.rcpt_tos == [TO]


def test_non_ascii_text_survives(smtp_server):
    EmailChannel(settings(smtp_server)).send(mail(subject="Clôture Q3 — échec", body="Zürich: 5 € überfällig"))

    [received] = smtp_server.messages
    assert received.subject == "Clôture Q3 — échec"
    assert received.body.strip() == "Zürich: 5 € überfällig"


def test_a_recipient_the_server_refuses_for_good_is_a_permanent_failure(smtp_server):
    smtp_server.refuse(TO, "550 5.1.1 No such user here")

    with pytest.raises(ChannelError) as raised:
        EmailChannel(settings(smtp_server)).send(mail())

    assert raised.value.permanent is True
    assert "550" in str(raised.value)
    assert smtp_server.messages == []


def test_a_recipient_refused_for_now_is_retryable(smtp_server):
    smtp_server.refuse(TO, "451 4.3.0 Mailbox busy, try later")

    with pytest.raises(ChannelError) as raised:
        EmailChannel(settings(smtp_server)).send(mail())

    assert raised.value.permanent is False


def test_an_address_that_is_not_an_email_is_a_permanent_failure(smtp_server):
    with pytest.raises(ChannelError) as raised:
        EmailChannel(settings(smtp_server)).send(mail(to="not an address"))

    assert raised.value.permanent is True


def test_a_server_that_refuses_the_connection_is_retryable():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(ChannelError) as raised:
        EmailChannel({"SMTP_URL": f"smtp://127.0.0.1:{port}", "SMTP_TIMEOUT_SECONDS": 2}).send(mail())

    assert raised.value.permanent is False


def test_a_server_that_never_answers_times_out_as_retryable():
    with socket.socket() as silent:  # accepts connections but never says hello
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"smtp://127.0.0.1:{silent.getsockname()[1]}"

        with pytest.raises(ChannelError) as raised:
            EmailChannel({"SMTP_URL": url, "SMTP_TIMEOUT_SECONDS": 0.3}).send(mail())

    assert raised.value.permanent is False


# The sink offers AUTH without TLS, which aiosmtpd rightly warns about; it is a local test server.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS", "ignore:Session.login_data")
def test_credentials_in_the_url_are_used_to_log_in():
    sink = SmtpSink(username="qd", password="p@ss word").start()
    try:
        url = "smtp://qd:p%40ss%20word@127.0.0.1:" + sink.url.rsplit(":", 1)[1]
        EmailChannel({"SMTP_URL": url}).send(mail())
        with pytest.raises(ChannelError) as raised:
            EmailChannel({"SMTP_URL": url.replace("word@", "wrong@")}).send(mail())
    finally:
        sink.stop()

    assert len(sink.messages) == 1
    assert raised.value.permanent is False  # our login is wrong, not the recipient


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.com", ("mail.example.com", 25, False, False, "", "")),
    ("smtp://u:p@mail.example.com:2525", ("mail.example.com", 2525, False, False, "u", "p")),
    ("smtp://mail.example.com:587?starttls=true", ("mail.example.com", 587, False, True, "", "")),
    ("smtps://mail.example.com", ("mail.example.com", 465, True, False, "", "")),
])
def test_smtp_urls_are_read(url, expected):
    server = parse_smtp_url(url)
    assert (server.host, server.port, server.implicit_tls, server.starttls, server.username,
            server.password) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://host:port", "smtp://h?starttls=maybe"])
def test_a_malformed_smtp_url_is_a_retryable_failure_naming_smtp_url(url):
    with pytest.raises(ChannelError) as raised:
        EmailChannel({"SMTP_URL": url}).send(mail())

    assert "SMTP_URL" in str(raised.value) and raised.value.permanent is False
