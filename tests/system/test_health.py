"""/healthz: what a load balancer or monitor polls; 200 only when the database answers and the scheduler is alive."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from app import create_app
from app.alerting.health import ENGINE_HEARTBEAT
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
