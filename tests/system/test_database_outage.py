"""While the database refuses connections, the API and the pages answer 503 with Retry-After and a message,
never a 500 with a traceback; once it is back, a monitoring tool's retry lands its alert exactly once."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import func, select

from app import create_app
from app.alerting.models import Alert
from app.auth import services as auth
from app.auth.roles import Role
from app.extensions import db
from tests import support
from tests.conftest import require


@pytest.fixture
def outage_app():
    require(support.postgres_unavailable_reason())
    name, url = support.create_pg_database("qd_outage")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "PASSWORD_HASH_METHOD": support.FAST_HASH,
                      "WTF_CSRF_ENABLED": False}, env=support.TEST_ENV)
    with app.app_context():
        db.create_all()
        user = auth.create_user(role=Role.CRISIS_TEAM, email="mon@example.com", name="Monitoring",
                                password="correct horse battery")
        _token, raw = auth.create_token(user, name="monitoring")
        db.session.remove()

    def cut(refuse: bool) -> None:
        with psycopg.connect(support.PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
            if refuse:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

    try:
        yield app, raw, cut
    finally:
        cut(False)
        with app.app_context():
            db.engine.dispose()
        support.drop_pg_database(name)


def test_during_an_outage_everything_answers_503_and_a_retry_afterwards_raises_the_alert_once(outage_app):
    app, token, cut = outage_app
    api = app.test_client()
    page = app.test_client()
    assert page.post("/login", data={"email": "mon@example.com", "password": "correct horse battery"}) \
        .status_code == 302
    alert = {"summary": "Order import stalled", "dedup_key": "order-import", "severity": "critical"}
    headers = {"Authorization": f"Bearer {token}"}

    cut(True)
    refused = api.post("/api/v1/alerts", json=alert, headers=headers)
    home = page.get("/")
    health = api.get("/healthz")
    cut(False)

    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert refused.get_json() == {"error": "The database is not answering right now. Try again in a few seconds: "
                                           "nothing was saved."}
    assert home.status_code == 503 and "The database is not answering right now" in home.get_data(as_text=True)
    assert "Traceback" not in home.get_data(as_text=True)
    assert health.status_code == 503 and health.get_json()["database"]["ok"] is False

    first = api.post("/api/v1/alerts", json=alert, headers=headers)  # the monitoring tool retries ...
    again = api.post("/api/v1/alerts", json=alert, headers=headers)  # ... and its retry policy is eager
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["merged_count"] == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Alert)) == 1
        db.session.remove()
