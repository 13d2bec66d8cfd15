"""The suite's own shortcuts do what the real thing does: a signed-in client is signed in as the sign-in page would
leave it, and only the suite's throwaway PostgreSQL databases skip waiting for the disk on commit."""
from __future__ import annotations

import gc

import psycopg
from flask import g

from app.auth.roles import Role
from tests import support
from tests.conftest import SUITE_GC_THRESHOLDS, require, sign_in


def test_a_signed_in_client_is_who_it_was_signed_in_as_and_the_sign_in_is_recorded(app, make_user):
    user = make_user(Role.RESPONDER)
    client = app.test_client()
    assert client.get("/account").status_code == 302  # not signed in yet: to the sign-in page

    sign_in(client, user)

    page = client.get("/account")
    assert page.status_code == 200 and user.email in page.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 403  # a responder, not an administrator
    assert user.last_login_at is not None
    assert g.get("_login_user") is None  # Flask-Login's user stayed in the sign-in's own context


def test_a_wrong_password_does_not_sign_in(app, make_user):
    client = app.test_client()
    try:
        sign_in(client, make_user(Role.ADMIN), "not the password")
    except AssertionError as refused:
        assert "cannot sign in" in str(refused)
    else:
        raise AssertionError("signed in with a wrong password")
    assert client.get("/account").status_code == 302


def _synchronous_commit(url: str) -> str:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as connection:
        return connection.execute("SHOW synchronous_commit").fetchone()[0]


def test_only_the_suites_databases_skip_waiting_for_the_disk():
    require(support.postgres_unavailable_reason())
    created = [support.create_pg_database("qd_harness"), support.create_pg_database("qd_harness", wait_for_disk=True)]
    try:
        assert [_synchronous_commit(url) for _name, url in created] == ["off", "on"]
    finally:
        for name, _url in created:
            support.drop_pg_database(name)


def test_the_suite_collects_its_oldest_garbage_at_a_tenth_of_the_default_rate():
    assert gc.get_threshold() == SUITE_GC_THRESHOLDS  # set in every worker, not only the one that starts them
