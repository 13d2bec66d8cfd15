"""Logs: one JSON object per line for log shippers, with the request id, the user id and the alert id; a
scheduler that has nothing to do says nothing."""
from __future__ import annotations

import json
import logging

import pytest

from app import create_app
from app.access import allow
from app.auth.roles import Role
from app.logs import ContextFilter, JsonFormatter
from app.scheduler import PeriodicJob, run_job
from tests import support


def _json_line(record: logging.LogRecord) -> dict:
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


@pytest.mark.fresh_app  # adds a route
def test_a_json_line_carries_the_request_id_the_user_and_the_alert(app, login_as):
    seen = []

    def remember():
        record = logging.LogRecord("quarterdeck.test", logging.WARNING, __file__, 1, "paged %s", ("Alice",), None)
        record.alert_id = 12
        seen.append(_json_line(record))
        return "ok"

    app.add_url_rule("/log-something", "log_something", allow(Role.RESPONDER)(remember))
    client = login_as("responder")
    response = client.get("/log-something", headers={"X-Request-Id": "req-42"})

    assert response.headers["X-Request-Id"] == "req-42"
    [line] = seen
    assert (line["message"], line["level"], line["logger"]) == ("paged Alice", "WARNING", "quarterdeck.test")
    assert (line["request_id"], line["user_id"], line["alert_id"]) == ("req-42", client.user.id, 12)


def test_a_request_without_an_id_gets_one(client):
    first, second = client.get("/login"), client.get("/login")
    assert len(first.headers["X-Request-Id"]) == 32 and first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_a_forged_request_id_is_replaced(client):
    response = client.get("/login", headers={"X-Request-Id": "<script>alert(1)</script>"})
    assert len(response.headers["X-Request-Id"]) == 32 and "<" not in response.headers["X-Request-Id"]


def test_log_format_json_is_used_for_the_whole_process(tmp_path, capsys):
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, env={**support.TEST_ENV, "LOG_FORMAT": "json"})
    logging.getLogger("quarterdeck.test").warning("hello %s", "world")
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, env=support.TEST_ENV)  # back to text for the others

    lines = [line for line in capsys.readouterr().err.splitlines() if "hello" in line]
    assert json.loads(lines[-1])["message"] == "hello world"


@pytest.mark.parametrize("result, logged", [
    ({"queued": 0, "already": 3}, True),
    ({"queued": 0, "no_method": 0}, False),
    ({"ok": True}, False),
    (0, False),
    (None, False),
    (2, True),
])
def test_a_scheduled_job_logs_one_line_only_when_it_did_something(app, caplog, result, logged):
    with caplog.at_level(logging.INFO, logger="quarterdeck.scheduler"):
        run_job(app, PeriodicJob("example", lambda: result, 60))
    lines = [record.getMessage() for record in caplog.records if record.name == "quarterdeck.scheduler"]
    assert lines == ([f"job example: {', '.join(f'{k} {v}' for k, v in result.items() if v)}"]
                     if isinstance(result, dict) and logged else [f"job example: {result}"] if logged else [])
