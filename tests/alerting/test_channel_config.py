"""Twilio and SMTP settings: off when unset, on when complete, and a stop at start-up when malformed or half set."""
from __future__ import annotations

import pytest

from config import ConfigError, load_config

GOOD_ENV = {"SECRET_KEY": "a-long-enough-secret-for-tests"}
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "0123456789abcdef" * 2
SERVICE = "MG" + "fedcba9876543210" * 2
TWILIO = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": "+15005550006"}


def test_nothing_set_means_twilio_and_email_are_off():
    config = load_config(GOOD_ENV)

    assert (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], config["TWILIO_FROM_NUMBER"]) == ("", "", "")
    assert config["TWILIO_API_BASE_URL"] == "https://api.twilio.com"
    assert config["TWILIO_TIMEOUT_SECONDS"] == 10
    assert (config["SMTP_URL"], config["SMTP_FROM"]) == ("", "quarterdeck@localhost")


def test_a_complete_twilio_configuration_is_read():
    config = load_config({**GOOD_ENV, **TWILIO, "TWILIO_AUTH_TOKEN_SECONDARY": "f" * 32,
                          "TWILIO_API_BASE_URL": "http://127.0.0.1:8099/", "TWILIO_TIMEOUT_SECONDS": "3"})

    assert (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"]) == (SID, TOKEN)
    assert config["TWILIO_AUTH_TOKEN_SECONDARY"] == "f" * 32
    assert config["TWILIO_API_BASE_URL"] == "http://127.0.0.1:8099"
    assert config["TWILIO_TIMEOUT_SECONDS"] == 3


def test_the_sender_number_is_stored_in_e164():
    config = load_config({**GOOD_ENV, **TWILIO, "TWILIO_FROM_NUMBER": "+1 (500) 555-0006"})
    assert config["TWILIO_FROM_NUMBER"] == "+15005550006"


def test_a_messaging_service_alone_is_a_complete_sender():
    env = {**GOOD_ENV, **TWILIO, "TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": SERVICE}
    assert load_config(env)["TWILIO_MESSAGING_SERVICE_SID"] == SERVICE


@pytest.mark.parametrize(("name", "value"), [
    ("TWILIO_ACCOUNT_SID", "AC123"),
    ("TWILIO_ACCOUNT_SID", "MG" + "0" * 32),
    ("TWILIO_AUTH_TOKEN", "short"),
    ("TWILIO_AUTH_TOKEN", "has spaces in the middle of it!!"),
    ("TWILIO_AUTH_TOKEN_SECONDARY", "x"),
    ("TWILIO_FROM_NUMBER", "5005550006"),
    ("TWILIO_FROM_NUMBER", "+1500555000"),
    ("TWILIO_FROM_NUMBER", "call me"),
    ("TWILIO_MESSAGING_SERVICE_SID", "MG12"),
    ("TWILIO_API_BASE_URL", "api.twilio.com"),
    ("TWILIO_TIMEOUT_SECONDS", "0"),
    ("TWILIO_TIMEOUT_SECONDS", "soon"),
])
def test_a_malformed_twilio_variable_stops_start_up_naming_it(name, value):
    with pytest.raises(ConfigError) as raised:
        load_config({**GOOD_ENV, **TWILIO, name: value})

    assert name in str(raised.value)


def test_a_malformed_token_is_not_echoed_in_full():
    with pytest.raises(ConfigError) as raised:
        load_config({**GOOD_ENV, **TWILIO, "TWILIO_AUTH_TOKEN": "secret-secret-secret-secret!"})

    assert "secret-secret-secret" not in str(raised.value)


@pytest.mark.parametrize(("env", "missing"), [
    ({"TWILIO_ACCOUNT_SID": SID}, ["TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"]),
    ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}, ["TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"]),
    ({"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": "+15005550006"}, ["TWILIO_ACCOUNT_SID"]),
    ({"TWILIO_FROM_NUMBER": "+15005550006"}, ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]),
    ({"TWILIO_AUTH_TOKEN_SECONDARY": TOKEN}, ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]),
])
def test_half_configured_twilio_stops_start_up_naming_what_is_missing(env, missing):
    with pytest.raises(ConfigError) as raised:
        load_config({**GOOD_ENV, **env})

    message = str(raised.value)
    assert "half configured" in message
    for name in missing:
        assert name in message


@pytest.mark.parametrize("url", ["smtp://mail.example.com", "smtp://u:p@mail.example.com:25",
                                 "smtp://mail.example.com:587?starttls=true", "smtps://mail.example.com:465"])
def test_well_formed_smtp_urls_are_accepted(url):
    assert load_config({**GOOD_ENV, "SMTP_URL": url})["SMTP_URL"] == url


@pytest.mark.parametrize(("name", "value"), [
    ("SMTP_URL", "mail.example.com"),
    ("SMTP_URL", "http://mail.example.com"),
    ("SMTP_URL", "smtp://"),
    ("SMTP_URL", "smtp://mail.example.com:port"),
    ("SMTP_URL", "smtp://mail.example.com?starttls=perhaps"),
    ("SMTP_FROM", "quarterdeck"),
    ("SMTP_TIMEOUT_SECONDS", "0"),
])
def test_a_malformed_smtp_variable_stops_start_up_naming_it(name, value):
    with pytest.raises(ConfigError) as raised:
        load_config({**GOOD_ENV, name: value})

    assert name in str(raised.value)


def test_an_smtp_password_is_not_echoed_in_the_error():
    with pytest.raises(ConfigError) as raised:
        load_config({**GOOD_ENV, "SMTP_URL": "smtp://user:hunter2@mail.example.com:port"})

    assert "hunter2" not in str(raised.value)


def test_a_display_name_is_allowed_in_smtp_from():
    config = load_config({**GOOD_ENV, "SMTP_FROM": "Quarterdeck <qd@example.com>"})
    assert config["SMTP_FROM"] == "Quarterdeck <qd@example.com>"
