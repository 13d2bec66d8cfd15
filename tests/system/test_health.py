"""/healthz: what a load balancer or monitor polls; 200 only when the database answers and the scheduler is alive."""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import time_machine
from sqlalchemy import func, select

from app import create_app
from app.alerting.health import ENGINE_HEARTBEAT
from app.extensions import db
from app.system.models import SchedulerHeartbeat
from app.system.services import record_heartbeat
from tests import support

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


# These tests are about the scheduler's heartbeat; the paging engine's own checks are in tests/alerting.
pytestmark = pytest.mark.config(ENGINE_MAX_TICK_AGE=3600)


def beat():
    """What a running scheduler process records: its heartbeat and the paging engine's tick."""
    record_heartbeat()
    record_heartbeat(ENGINE_HEARTBEAT)


def health(client):
    response = client.get("/healthz")
    assert response.is_json, response.get_data(as_text=True)
    return response.status_code, response.get_json()


def test_it_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code in (200, 503)
    assert response.is_json
    assert "location" not in response.headers


def test_it_is_unhealthy_when_the_scheduler_never_beat(client):
    status, body = health(client)
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["database"]["ok"] is True
    assert body["scheduler"]["ok"] is False
    assert body["scheduler"]["last_heartbeat_age_seconds"] is None


def test_it_is_healthy_right_after_a_heartbeat(client):
    beat()
    status, body = health(client)
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "error": None}
    assert body["scheduler"]["ok"] is True
    assert 0 <= body["scheduler"]["last_heartbeat_age_seconds"] < 5


def test_a_heartbeat_exactly_at_the_limit_still_counts(app, client):
    max_age = app.config["HEALTH_MAX_HEARTBEAT_AGE"]
    with time_machine.travel(NOON, tick=False):
        beat()
    with time_machine.travel(NOON + timedelta(seconds=max_age), tick=False):
        status, body = health(client)
    assert status == 200
    assert body["scheduler"]["last_heartbeat_age_seconds"] == max_age


def test_it_is_unhealthy_again_when_the_heartbeat_is_too_old(app, client):
    max_age = app.config["HEALTH_MAX_HEARTBEAT_AGE"]
    with time_machine.travel(NOON, tick=False):
        beat()
    with time_machine.travel(NOON + timedelta(seconds=max_age + 1), tick=False):
        status, body = health(client)
    assert status == 503
    assert body["database"]["ok"] is True
    assert body["scheduler"]["ok"] is False
    assert body["scheduler"]["last_heartbeat_age_seconds"] == max_age + 1
    assert body["scheduler"]["max_age_seconds"] == max_age


@pytest.mark.config(HEALTH_MAX_HEARTBEAT_AGE=10)
def test_the_allowed_age_comes_from_the_configuration(client):
    with time_machine.travel(NOON, tick=False):
        beat()
    with time_machine.travel(NOON + timedelta(seconds=11), tick=False):
        status, _body = health(client)
    assert status == 503


def test_a_new_heartbeat_replaces_the_old_one(client):
    with time_machine.travel(NOON, tick=False):
        beat()
    with time_machine.travel(NOON + timedelta(hours=1), tick=False):
        beat()
        status, body = health(client)
    assert status == 200
    assert body["scheduler"]["last_heartbeat_age_seconds"] == 0


@pytest.fixture(params=["postgresql", "sqlite"])
def unreachable_app(request, tmp_path):
    """An app whose database cannot be opened: nothing listens on port 1, and SQLite cannot open a folder."""
    if request.param == "postgresql":
        url = "postgresql+psycopg://nobody@127.0.0.1:1/x?connect_timeout=3"
    else:
        url = f"sqlite:///{tmp_path}"
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True}, env=support.TEST_ENV)


def test_an_unreachable_database_answers_503_not_500(unreachable_app):
    status, body = health(unreachable_app.test_client())
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["database"]["ok"] is False
    assert body["database"]["error"]
    assert body["scheduler"]["ok"] is False


def test_an_unreachable_database_answers_503_even_to_a_signed_in_browser(unreachable_app):
    # An operator with Quarterdeck open in a tab checks /healthz while the database is down.
    client = unreachable_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"
        session["_fresh"] = True
    status, body = health(client)
    assert status == 503
    assert body["database"]["ok"] is False


def test_a_second_heartbeat_moves_the_same_row_on(app):
    first = record_heartbeat()
    first_at = first.beat_at
    with time_machine.travel(first_at + timedelta(seconds=30), tick=False):
        second = record_heartbeat()

    assert db.session.scalar(select(func.count()).select_from(SchedulerHeartbeat)) == 1
    assert second.beat_at == first_at + timedelta(seconds=30) and second.pid == os.getpid()


def test_two_schedulers_starting_together_both_record_their_first_heartbeat(app, backend):
    # The other scheduler has inserted the row and not committed yet when this one beats: this one's insert waits on
    # the key, then must update the row, not fail on it (a traceback in the scheduler's log, the pass lost).
    if backend != "postgresql":
        pytest.skip("SQLite takes one writer at a time: the two inserts cannot overlap")
    other = psycopg.connect(db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        other.execute("INSERT INTO scheduler_heartbeats (name, beat_at, host, pid) VALUES ('scheduler', now(), 'b', 1)")
        outcome: dict = {}
        beating = threading.Thread(target=_beat_in_own_context, args=(app, outcome))
        beating.start()
        waiting = _wait_until(lambda: outcome or _sessions_waiting_on_a_lock(other) == 1)
        other.commit()
        beating.join(timeout=support.STOP_BOUND)
    finally:
        other.close()

    assert waiting and not beating.is_alive()
    assert outcome == {"pid": os.getpid()}, outcome
    assert db.session.get(SchedulerHeartbeat, "scheduler", populate_existing=True).pid == os.getpid()


def _sessions_waiting_on_a_lock(connection) -> int:
    return connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND wait_event_type = 'Lock'").fetchone()[0]


def _wait_until(condition, bound: float = 60) -> bool:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _beat_in_own_context(app, outcome: dict) -> None:
    with app.app_context():
        try:
            outcome["pid"] = record_heartbeat().pid
        except Exception as error:  # reported to the test thread
            outcome["error"] = repr(error)
        finally:
            db.session.remove()
