"""Sign-in throttle however an attempt is encoded, sign-out that ends every session, and the account page."""
from __future__ import annotations

import logging

import pytest

from app import create_app
from app.auth import services as auth
from app.auth.roles import Role
from config import ConfigError, load_config
from tests import support
from tests.conftest import PASSWORD, csrf_token_from, form_post, log_in

WRONG = "not the password at all"


def json_attempt(client, email: str, password: str = WRONG):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", json={"email": email, "password": password}, headers={"X-CSRFToken": token})


@pytest.mark.config(LOGIN_MAX_FAILURES=3)
def test_json_sign_in_attempts_count_toward_the_same_lockout_as_the_form(app, client, make_user):
    user = make_user(Role.RESPONDER)
    for _attempt in range(2):
        assert json_attempt(client, user.email).status_code == 401
    assert log_in(client, user.email, WRONG).status_code == 401  # the third failure, as a form
    assert json_attempt(client, user.email, PASSWORD).status_code == 429
    assert log_in(client, user.email).status_code == 429


@pytest.mark.config(LOGIN_MAX_FAILURES=3)
def test_json_attempts_with_mixed_case_and_spaces_count_for_the_same_account(app, client, make_user):
    user = make_user(Role.RESPONDER)
    for spelling in (user.email.upper(), f"  {user.email} ", user.email.title()):
        assert json_attempt(client, spelling).status_code == 401
    assert log_in(client, user.email).status_code == 429


@pytest.mark.config(LOGIN_MAX_FAILURES=2, TRUSTED_PROXY_HOPS=1)
def test_one_account_is_locked_after_failures_from_many_addresses(app, make_user):
    user = make_user(Role.RESPONDER)
    for number in range(8):  # 4 x LOGIN_MAX_FAILURES, each address staying under its own limit
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{number + 1}"
        assert log_in(client, user.email, WRONG).status_code == 401
    late = app.test_client()
    late.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.9"
    assert log_in(late, user.email).status_code == 429


@pytest.mark.config(LOGIN_MAX_FAILURES=2)
def test_one_address_trying_many_accounts_is_throttled(app, client, make_user):
    users = [make_user(Role.RESPONDER) for _n in range(9)]
    statuses = [log_in(client, user.email, WRONG).status_code for user in users]
    assert statuses == [401] * 8 + [429]


def test_a_copied_session_cookie_stops_working_after_sign_out(app, login_as):
    browser = login_as(Role.RESPONDER)
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    assert thief.get("/").status_code == 200

    assert form_post(browser, "/logout", {}, page_url="/account").status_code == 302

    assert thief.get("/").status_code == 302 and "/login" in thief.get("/").headers["Location"]


def test_a_copied_session_cookie_stops_working_after_a_password_change(app, login_as):
    browser = login_as(Role.RESPONDER)
    copy = app.test_client()
    copy.set_cookie("session", browser.get_cookie("session").value)
    changed = form_post(browser, "/account/password", {"pw-current_password": PASSWORD,
                                                        "pw-new_password": "a brand new secret"}, page_url="/account")
    assert changed.status_code == 302
    assert browser.get("/").status_code == 200
    assert copy.get("/").status_code == 302


def test_sign_out_everywhere_ends_every_session_and_keeps_tokens(app, login_as):
    laptop = login_as(Role.RESPONDER)
    phone = app.test_client()
    assert log_in(phone, laptop.user.email).status_code == 302
    _token, raw = auth.create_token(laptop.user, name="monitoring")

    response = form_post(laptop, "/account/sign-out-everywhere", {}, page_url="/account")

    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert laptop.get("/").status_code == 302 and phone.get("/").status_code == 302
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_the_account_page_lists_live_tokens_and_offers_sign_out_everywhere(app, login_as):
    client = login_as(Role.EXECUTIVE)
    live, _raw = auth.create_token(client.user, name="grafana panel")
    revoked, _raw = auth.create_token(client.user, name="old script")
    auth.revoke_token(client.user, revoked.id)

    page = client.get("/account").get_data(as_text=True)

    assert "grafana panel" in page and f"qd_{live.prefix}_" in page
    assert "old script" not in page
    assert 'action="/account/sign-out-everywhere"' in page


# --- configuration of the shared storage ----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["memcached://127.0.0.1", "redis://:port", "redis://", "127.0.0.1:6379"])
def test_a_malformed_ratelimit_storage_stops_start_up_naming_the_variable(value):
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        load_config({**support.TEST_ENV, "RATELIMIT_STORAGE_URI": value})


def test_a_redis_ratelimit_storage_is_accepted():
    config = load_config({**support.TEST_ENV, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"})
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True


@pytest.mark.parametrize("env, workers", [({}, 1), ({"WEB_CONCURRENCY": "4"}, 4),
                                          ({"GUNICORN_CMD_ARGS": "--bind :8000 --workers 3"}, 3),
                                          ({"GUNICORN_CMD_ARGS": "-w2"}, 2)])
def test_the_worker_count_is_read_from_gunicorns_settings(env, workers):
    assert load_config({**support.TEST_ENV, **env})["WEB_WORKERS"] == workers


def test_several_workers_on_memory_storage_log_a_warning_at_start(caplog):
    with caplog.at_level(logging.WARNING, logger="quarterdeck"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, env={**support.TEST_ENV, "WEB_CONCURRENCY": "4"})
    assert any("memory://" in r.getMessage() and "4 web workers" in r.getMessage() for r in caplog.records)


def test_one_worker_on_memory_storage_starts_quietly(caplog):
    with caplog.at_level(logging.WARNING, logger="quarterdeck"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, env=support.TEST_ENV)
    assert not [r for r in caplog.records if "RATELIMIT_STORAGE_URI" in r.getMessage()]
