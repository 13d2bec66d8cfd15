"""Fixtures for the paging tests: the stand-in Twilio server and the SMTP sink, wired into the app's config.

`twilio` and `smtp_sink` configure the `app` fixture's app (so they run on both backends); `twilio_server`
and `smtp_server` are the bare servers for tests that hand a channel its settings directly.
"""
from __future__ import annotations

import pytest

from tests.fakes.smtp_sink import SmtpSink
from tests.fakes.twilio_server import FakeTwilio

TEST_FROM_NUMBER = "+15005550006"
PUBLIC_BASE_URL = "https://qd.example.com"


def twilio_settings(server: FakeTwilio, **overrides) -> dict[str, object]:
    """The config that points the Twilio channels at `server`."""
    return {"TWILIO_ACCOUNT_SID": server.account_sid, "TWILIO_AUTH_TOKEN": server.auth_token,
            "TWILIO_AUTH_TOKEN_SECONDARY": "", "TWILIO_FROM_NUMBER": server.from_number,
            "TWILIO_MESSAGING_SERVICE_SID": "", "TWILIO_API_BASE_URL": server.url, "TWILIO_TIMEOUT_SECONDS": 2,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL, **overrides}


@pytest.fixture
def twilio_server():
    server = FakeTwilio(from_number=TEST_FROM_NUMBER).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def twilio(app, twilio_server):
    """The stand-in Twilio server, with the app configured to send through it (SMS and voice on)."""
    settings = twilio_settings(twilio_server)
    settings.pop("PUBLIC_BASE_URL")  # the app keeps its own public address: webhooks are signed for it
    app.config.update(settings)
    return twilio_server


@pytest.fixture
def smtp_server():
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp_sink(app, smtp_server):
    """A local SMTP server receiving the app's email (SMTP_URL points at it)."""
    app.config.update({"SMTP_URL": smtp_server.url, "SMTP_FROM": "quarterdeck@example.com",
                       "SMTP_TIMEOUT_SECONDS": 2})
    return smtp_server


@pytest.fixture
def phones(app, twilio, client):
    """Phones at T0 (time stands still unless a test moves it); fails the test if a message went unexpected."""
    from tests.alerting.pager import Phones, start_clock

    with start_clock() as traveller:
        phones = Phones(app, twilio, client, traveller)
        yield phones
        phones.expect_nothing()
