"""A page or a verification code leaves within seconds, not at the next engine pass: the scheduler is woken by
the committing transaction (PostgreSQL LISTEN/NOTIFY) or finds it with a quick check (SQLite, four times a
second). The engine's periodic pass is set to a minute here, so only the wake can explain a fast send."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from app import create_app
from app.alerting.services import raise_alert
from app.auth import services as auth
from app.auth.roles import Role
from app.extensions import db
from app.oncall import policies
from app.oncall import services as contacts
from app.oncall.models import ContactKind, ContactMethod, NotificationRule
from app.timeutil import utcnow
from tests import support
from tests.alerting.conftest import twilio_settings
from tests.conftest import require
from tests.fakes.twilio_server import FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
# Seconds: the engine's own pass comes only every 60, so a page within this bound was woken, not ticked; it is
# sent in well under a second, and the margin is for a busy machine.
WAKE_BOUND = 30.0


@pytest.fixture(params=["sqlite", "postgresql"])
def running_engine(request, tmp_path):
    twilio = FakeTwilio().start()
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'qd.db'}"
    else:
        require(support.postgres_unavailable_reason())
        name, url = support.create_pg_database("qd_wake")
    settings = twilio_settings(twilio)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": support.FAST_HASH, **settings},
                     env=support.TEST_ENV)
    with app.app_context():
        db.create_all()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": url,
           "SECRET_KEY": support.TEST_ENV["SECRET_KEY"], "ENGINE_TICK_SECONDS": "60",
           **{key: str(value) for key, value in settings.items()}}
    log_path = tmp_path / "scheduler.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([str(PYTHON), "-m", "flask", "--app", "wsgi", "scheduler", "run"], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "Scheduler running" not in log_path.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        time.sleep(0.5)  # into its wait
        yield app, twilio
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=support.STOP_BOUND) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            twilio.stop()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            if name:
                support.drop_pg_database(name)


def test_a_new_alert_and_a_verification_code_leave_at_once(running_engine):
    app, twilio = running_engine
    with app.app_context():
        oncall = auth.create_user(role=Role.RESPONDER, email="on@example.com", name="On",
                                  password="correct horse battery")
        method = ContactMethod(user_id=oncall.id, kind=ContactKind.SMS, address="+14155550120", verified_at=utcnow())
        db.session.add(method)
        db.session.flush()
        db.session.add(NotificationRule(user_id=oncall.id, contact_method_id=method.id, delay_minutes=0))
        db.session.commit()
        policy = policies.save_policy(None, name="On", steps=[{"delay_minutes": 30, "targets": [{"user_id": oncall.id}]}])
        newcomer = auth.create_user(role=Role.RESPONDER, email="new@example.com", name="New",
                                    password="correct horse battery")
        unverified = contacts.add_method(newcomer, newcomer, kind="sms", address="+14155550121")

        started = time.monotonic()
        raise_alert(summary="Billing job failed", source="api", escalation_policy_id=policy.id)
        db.session.commit()
        [page] = twilio.wait_for(1, timeout=WAKE_BOUND)
        page_seconds = time.monotonic() - started

        started = time.monotonic()
        contacts.send_code(newcomer, unverified)
        code = twilio.wait_for(2, timeout=WAKE_BOUND)[1]
        code_seconds = time.monotonic() - started
        db.session.remove()

    assert page.to == "+14155550120" and page.body.startswith("QD alert 1:")
    assert code.to == "+14155550121" and "Quarterdeck code" in code.body
    print(f"\nraise -> SMS {page_seconds:.2f} s; code -> SMS {code_seconds:.2f} s")
