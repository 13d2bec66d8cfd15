"""A slow provider never blocks a web request: asking for a verification code sends nothing in the request,
and while the engine waits on Twilio for that code, a job ping elsewhere is answered.

Both need a database more than one connection can use at once, so the app here has its own: a SQLite file
(WAL, as production) or a fresh PostgreSQL database.
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from app import create_app
from app.alerting.models import OutboundMessage
from app.alerting.send_pass import send_due_messages
from app.auth import services as auth
from app.auth.roles import Role
from app.extensions import db
from app.oncall import services as contacts
from app.watchlist import services as watchlist
from tests import support
from tests.alerting.conftest import twilio_settings
from tests.conftest import require
from tests.fakes.twilio_server import FakeTwilio

PROVIDER_SECONDS = 3.0


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_app(request, tmp_path):
    twilio = FakeTwilio().start()
    twilio.answer_seconds = PROVIDER_SECONDS
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'qd.db'}"
    else:
        require(support.postgres_unavailable_reason())
        name, url = support.create_pg_database("qd_slow")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "PASSWORD_HASH_METHOD": support.FAST_HASH,
                      "WTF_CSRF_ENABLED": False, **twilio_settings(twilio, TWILIO_TIMEOUT_SECONDS=10)}, env=support.TEST_ENV)
    with app.app_context():
        db.create_all()
    try:
        yield app, twilio
    finally:
        twilio.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if name:
            support.drop_pg_database(name)


def test_a_ping_is_answered_while_the_engine_waits_on_a_slow_provider_for_a_verification_code(shared_app):
    app, twilio = shared_app
    with app.app_context():
        person = auth.create_user(role=Role.RESPONDER, email="slow@example.com", name="Slow",
                                  password="correct horse battery")
        method = contacts.add_method(person, person, kind="sms", address="+14155552671")
        job = watchlist.save_job(None, app_id=watchlist.save_app(None, name="ERP").id, name="Nightly billing",
                                 schedule_kind="interval", interval_minutes=60, grace_minutes=15,
                                 max_duration_minutes=30)
        method_id, ping_key = method.id, job.ping_key
        db.session.remove()
    client = app.test_client()
    signed_in = client.post("/login", data={"email": "slow@example.com", "password": "correct horse battery"})
    assert signed_in.status_code == 302

    started = time.monotonic()
    asked = client.post(f"/oncall/contact-methods/{method_id}/send-code")
    asked_in = time.monotonic() - started
    assert asked.status_code == 302 and twilio.in_flight == 0 and twilio.requests == []  # nothing sent in it
    assert asked_in < PROVIDER_SECONDS

    def engine():
        with app.app_context():
            send_due_messages()
            db.session.remove()

    sender = threading.Thread(target=engine)
    sender.start()
    try:
        twilio.wait_in_flight(1)  # the engine is waiting on Twilio for the code's SMS now
        started = time.monotonic()
        pinged = app.test_client().post(f"/ping/{ping_key}", data="ok")
        ping_seconds = time.monotonic() - started
        still_waiting = twilio.in_flight == 1
    finally:
        sender.join()

    assert pinged.status_code == 200, pinged.get_data(as_text=True)
    assert still_waiting, "the ping was answered only after the provider answered"
    assert ping_seconds < 1.0, f"the ping took {ping_seconds:.2f} s while the provider took {PROVIDER_SECONDS} s"
    with app.app_context():
        [message] = db.session.scalars(select(OutboundMessage)).all()
        assert message.status == "sent" and message.purpose == "verification"
        db.session.remove()
