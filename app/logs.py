"""Logging: plain lines for people, one JSON object per line for log shippers (LOG_FORMAT=json).

Every record carries the request id (taken from the proxy's X-Request-Id or made here, and returned in the
response's X-Request-Id), the signed-in user's id, and the alert id when the code logging it passes one
(`log.info("...", extra={"alert_id": 12})`). Set up once per process, from create_app().
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # what we accept from a proxy's X-Request-Id
_HANDLER_MARK = "_quarterdeck_handler"


class ContextFilter(logging.Filter):
    """Adds request_id, user_id (and a default alert_id) to every record, inside a request or not."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or (
            g.get("request_id") if has_request_context() else None)
        record.user_id = getattr(record, "user_id", None) or _user_id()
        record.alert_id = getattr(record, "alert_id", None)
        return True


def _user_id() -> int | None:
    if not has_request_context():
        return None
    user = g.get("_login_user")  # Flask-Login's cache: never load a user just to log a line
    return getattr(user, "id", None) if user is not None and getattr(user, "is_authenticated", False) else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                 "request_id": getattr(record, "request_id", None), "user_id": getattr(record, "user_id", None),
                 "alert_id": getattr(record, "alert_id", None)}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str, fmt: str) -> None:
    """Install (or replace) Quarterdeck's handler on the root logger: safe to call for every app built."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)


def _assign_request_id() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _echo_request_id(response):
    if g.get("request_id"):
        response.headers.setdefault("X-Request-Id", g.request_id)
    return response


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
