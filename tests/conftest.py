"""Fixtures: an empty app per test on SQLite and on PostgreSQL, users per role, logged-in clients, API clients.

Only the network boundary is ever replaced; everything else is the real code.
Under CI=true PostgreSQL and Chromium are mandatory: their absence fails the run.
"""
from __future__ import annotations

import gc
import re
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import event

from app import create_app
from app.auth import services as auth
from app.auth.roles import Role
from app.extensions import db, limiter
from tests import support

BACKENDS = ["sqlite", "postgresql"]


# Each worker's heap is large and lives to the end (the apps it keeps, their URL maps, SQLAlchemy's caches: 600,000
# objects), and every test leaves objects that lived just long enough to reach the oldest generation, so CPython ran
# a full collection every 50 tests or so, 130 ms each: about 7 % of a worker's CPU (measured with gc.callbacks).
# At a tenth of the rate the run holds more garbage for a while, which it has the memory for.
SUITE_GC_THRESHOLDS = (7000, 10, 100)


def pytest_configure(config):
    gc.set_threshold(*SUITE_GC_THRESHOLDS)
    config.addinivalue_line("markers", "config(**overrides): Flask config overrides for the app fixture")
    config.addinivalue_line("markers", "fresh_app: the test changes the app itself (routes), so it gets its own")


def pytest_report_header(config):
    lines = []
    for what, reason in (("PostgreSQL", support.postgres_unavailable_reason()),
                         ("Chromium", support.chromium_unavailable_reason())):
        if reason:
            lines.append(f"{what}: {'MISSING (mandatory under CI)' if support.IN_CI else 'skipped'}: {reason}")
        else:
            lines.append(f"{what}: available")
    return lines


def require(reason: str | None) -> None:
    """Skip (locally) or fail (CI) when a real part the test needs is missing."""
    if reason is None:
        return
    if support.IN_CI:
        pytest.fail(f"{reason}; it is mandatory when CI=true", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """One PostgreSQL database per test process (per xdist worker), dropped at the end."""
    require(support.postgres_unavailable_reason())
    name, url = support.create_pg_database()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env=support.TEST_ENV)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    support.drop_pg_database(name)


_DELETE_EVERY_ROW: list[str] = []
# Every table is emptied, so no foreign key can be left dangling: the replica role skips their checks (a trigger per
# deleted row and referencing table), which halved the script's cost after a test that signed in. Only a superuser
# may take it (the suite's own PostgreSQL is used as one); without it the checks run.
_SKIP_FOREIGN_KEY_CHECKS = ["SET LOCAL session_replication_role = replica; "]


def _empty_all_tables() -> None:
    """Delete every row, children first, in ONE round trip to the database.

    DELETE is far cheaper than TRUNCATE for the handful of rows a test writes, but one statement per table (70-odd)
    through the session cost a sixth of the suite's time. The script goes straight to the driver: psycopg sends
    statements without parameters by the simple protocol, which takes several at once; sqlite3's executescript
    runs them all in C."""
    if not _DELETE_EVERY_ROW:
        _DELETE_EVERY_ROW.append("; ".join(f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)))
    driver = db.session.connection().connection.driver_connection
    if db.engine.dialect.name != "postgresql":
        driver.executescript(_DELETE_EVERY_ROW[0])
    else:
        try:
            driver.execute("".join(_SKIP_FOREIGN_KEY_CHECKS) + _DELETE_EVERY_ROW[0])
        except psycopg.errors.InsufficientPrivilege:
            db.session.rollback()
            _SKIP_FOREIGN_KEY_CHECKS.clear()
            db.session.connection().connection.driver_connection.execute(_DELETE_EVERY_ROW[0])
    db.session.commit()


class FreshContextClient(FlaskClient):
    """Serve each request in its own app context, as production does.

    The `app` fixture keeps an app context open for the test body; without this,
    every request would share its `g`, where Flask-Login caches the signed-in user
    and Flask-WTF the CSRF token, and one client's identity would leak into the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        # The request wrote through its own session: make the test's session read afresh.
        db.session.expire_all()
        return response


# Building the app (300-odd URL rules to compile) costs more than most tests: each worker keeps one app per
# backend and hands it to every test without config overrides, emptied and with its config put back. Apps built with
# overrides are kept too, by backend and overrides (the tests of a module marked with the same overrides share one),
# the few most recently used: each holds a database connection. Only a test that changes the app itself
# (fresh_app) gets an app of its own.
_SHARED_APPS: dict[tuple, Flask] = {}
KEPT_OVERRIDDEN_APPS = 4


def _kept_app(backend: str, url: str, overrides: dict) -> Flask:
    key = (backend, repr(sorted(overrides.items())))
    application = _SHARED_APPS.pop(key, None)
    if application is None:
        application = _build_app(url, overrides)
        overridden = [other for other in _SHARED_APPS if other[1] != "[]"]
        if len(overridden) >= KEPT_OVERRIDDEN_APPS:
            with _SHARED_APPS.pop(overridden[0]).app_context():  # the least recently used
                db.engine.dispose()
    _SHARED_APPS[key] = application  # last: the most recently used
    return application


def _build_app(url: str, overrides: dict) -> Flask:
    application = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                              "PASSWORD_HASH_METHOD": support.FAST_HASH, **overrides}, env=support.TEST_ENV)
    application.test_client_class = FreshContextClient
    with application.app_context():
        if url == "sqlite://":
            db.create_all()  # in memory: the database lives and dies with this app's engine
    return application


@pytest.fixture(params=BACKENDS)
def app(request):
    """An empty Quarterdeck on each backend, inside an app context."""
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    marker = request.node.get_closest_marker("config")
    overrides = dict(marker.kwargs) if marker else {}
    private = request.node.get_closest_marker("fresh_app") is not None
    application = _build_app(url, overrides) if private else _kept_app(request.param, url, overrides)
    config = dict(application.config)
    limiter.reset()  # throttle counts (sign-ins, pings) start at zero for every test
    with application.app_context():
        try:
            yield application
        finally:
            db.session.rollback()
            _empty_all_tables()
            db.session.remove()
            if private:
                db.engine.dispose()
            application.config.clear()
            application.config.update(config)


@pytest.fixture
def backend(app) -> str:
    return db.engine.dialect.name


@pytest.fixture
def client(app):
    return app.test_client()


PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(app):
    """Create a user with a role; emails are unique per call."""
    counter = {"n": 0}

    def make(role: Role | str = Role.CRISIS_TEAM, **fields):
        counter["n"] += 1
        role = Role(role)
        fields.setdefault("email", f"{role.value}{counter['n']}@example.com")
        fields.setdefault("name", f"{role.value.replace('_', ' ').title()} {counter['n']}")
        fields.setdefault("password", PASSWORD)
        return auth.create_user(role=role, **fields)

    return make


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def log_in(client, email: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def sign_in(client, user, password: str = PASSWORD) -> None:
    """Sign a test client in as the sign-in page does once its form is valid: the password is checked (which records
    the sign-in) and Flask-Login writes the session, which reaches the client as its cookie.

    The page's own two requests (its form, then the POST with throttles and CSRF) cost more than most tests that
    only need someone signed in; tests/auth and tests/test_security sign in through the page itself (`log_in`)."""
    application = client.application
    assert auth.authenticate(user.email, password) is not None, f"{user.email} cannot sign in"
    # A context of its own, with the client's address and agent (the session's identifier is made of them), so the
    # user Flask-Login keeps on `g` does not leak into the test's app context.
    with application.app_context(), application.test_request_context(environ_base=client.environ_base):
        login_user(db.session.get(type(user), user.id))
        signed_in = dict(session)
    with client.session_transaction() as cookie:
        cookie.update(signed_in)


@pytest.fixture
def login_as(app, make_user):
    """A test client signed in as a new user of `role`; the user is on `client.user`."""

    def login(role: Role | str, **fields):
        user = make_user(role, **fields)
        client = app.test_client()
        sign_in(client, user, fields.get("password", PASSWORD))
        client.user = user
        return client

    return login


def drain_outbox() -> int:
    """Run the paging engine's sender once, as the scheduler would: every due outbox message is sent (through
    the configured channels) and its outcome recorded. Returns how many were sent."""
    from app.alerting.send_pass import send_due_messages

    return send_due_messages()


def count_queries(client, url: str) -> int:
    """SQL statements one GET of `url` runs (it must answer 200)."""
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def form_post(client, url: str, data: dict, page_url: str | None = None):
    """POST a form the way a browser does: read the CSRF token from the page first."""
    page = client.get(page_url or url)
    return client.post(url, data={**data, "csrf_token": csrf_token_from(page.get_data(as_text=True))})


class ApiClient:
    """A test client that sends a bearer token and JSON."""

    def __init__(self, client, token: str, user):
        self.client, self.token, self.user = client, token, user

    def _headers(self, headers=None):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, **kw):
        return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url, json=None, **kw):
        return self.client.post(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, url, json=None, **kw):
        return self.client.patch(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def api_as(app, make_user):
    """An API client with a fresh token for a new user of `role`."""

    def make(role: Role | str, **fields):
        user = make_user(role, **fields)
        _token, raw = auth.create_token(user, name="tests")
        return ApiClient(app.test_client(), raw, user)

    return make


@pytest.fixture
def clock(clock_start) -> Iterator[support.Clock]:
    """Time stands still at `clock_start` (each test folder or module says when) until the test moves it."""
    frozen = support.Clock(clock_start)
    yield frozen
    frozen.stop()


@pytest.fixture
def at():
    """Run a block at an instant: `with at(moment): ...` (the clock stands still inside)."""
    return support.frozen_at
