"""Cross-cutting web behaviour: access checks, security headers, error pages, template helpers."""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, current_app, make_response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.access import can, enforce_access
from app.api.support import error_response
from app.auth.roles import ADMINS, EDITORS, EVERYONE, Role
from app.errors import DomainError
from app.extensions import db
from app.forms_common import viewer_zone, zone_names
from app.links import is_safe_link
from app.request_guard import refuse_hostile_text
from app.timeutil import format_in_zone, quarter_code, quarter_label, zone_label

log = logging.getLogger("quarterdeck.web")

# No inline script anywhere: every script is a file under /static, so a
# template injection cannot run code.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def wants_json() -> bool:
    """API clients and job pings read errors as JSON; people read pages."""
    return request.path.startswith(("/api/", "/ping/"))


def _anonymous_if_unloadable() -> None:
    """When the signed-in user cannot be loaded (database down), treat the rest of the request as anonymous.

    Otherwise the layout and the headers would try to load the user again and fail again, and the visitor
    would get the server's bare 500 instead of /healthz's JSON or our error page.
    """
    try:
        current_user.is_authenticated  # noqa: B018  (loads the user)
    except SQLAlchemyError:
        db.session.rollback()
        current_app.login_manager._update_request_context_with_user()  # anonymous, for this request only


def _security_headers(response):
    _anonymous_if_unloadable()
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user and current_user.is_authenticated:
        response.headers.setdefault("Cache-Control", "no-store")  # pages hold private data; shared machines exist
    return response


MESSAGES = {
    400: "The request could not be understood.",
    401: "Please sign in.",
    403: "Your role does not allow this.",
    404: "Nothing here.",
    405: "That method is not allowed here.",
    409: "That conflicts with the current state.",
    413: "That request is too large.",
    422: "Some input is invalid.",
    429: "Too many requests. Wait a little and try again.",
    500: "Something broke on our side. It has been logged.",
    503: "The database is not answering right now. Try again in a few seconds: nothing was saved.",
}
UNAVAILABLE_RETRY_SECONDS = 5


def error_answer(status: int, message: str | None = None, fields: dict[str, str] | None = None):
    """An error in the format the client reads: JSON {"error", "fields"} or the error page."""
    message = message or MESSAGES.get(status, "Error.")
    _anonymous_if_unloadable()
    if wants_json():
        return error_response(status, message, fields)
    return render_template("errors/error.html", status=status, message=message), status



def _handle_http(error: HTTPException):
    status = error.code or 500
    message = None
    if status == 429:
        message = str(error.description) if error.description else None
    elif status in (400, 404) and error.description and not str(error.description).startswith(("The ", "Not ")):
        message = str(error.description)
    response = make_response(error_answer(status, message))
    # Keep what the exception says about itself, e.g. the Allow header a 405 must carry (RFC 9110).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _handle_domain(error: DomainError):
    return error_answer(error.status, error.message)


def _handle_csrf(error: CSRFError):
    return error_answer(400, "The form expired or was sent from elsewhere. Reload the page and try again.")


SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error", "database is busy")


def _database_unavailable(error: Exception) -> bool:
    """The database refused or dropped the connection (an outage, a restart, a failover), or is too busy.

    A query that is wrong (a missing table) is a bug, not an outage: SQLite reports both as OperationalError,
    so there its message decides.
    """
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    if type(error.orig).__module__.startswith("sqlite3"):
        return any(words in str(error.orig).lower() for words in SQLITE_UNAVAILABLE)
    return True


def _handle_database_error(error: DBAPIError):
    if not _database_unavailable(error):
        return _handle_unexpected(error)
    log.warning("database unavailable on %s %s: %s", request.method, request.path, error.__class__.__name__)
    try:
        db.session.rollback()
    except SQLAlchemyError:
        # The connection is gone: let the session go with it, so the next request checks out a fresh one.
        db.session.remove()
    # A client (a monitoring tool, a browser) is told to come back; its retry lands once (dedup keys).
    response = make_response(error_answer(503))
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
    return response


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException) and not isinstance(error, InternalServerError):
        return _handle_http(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return error_answer(500)


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """Show an aware timestamp in the viewer's time zone."""
    if value is None:
        return "—"
    return format_in_zone(value, viewer_zone(), fmt)


def zone_label_filter(zone: str | None, at: datetime | None = None) -> str:
    """A zone as people read it: "UTC−8, Los Angeles" (its offset at `at`, default now); "—" for none."""
    if not zone:
        return "—"
    try:
        return zone_label(zone, at)
    except ValueError:  # a zone name the database still holds but this Python no longer knows
        return zone


def init_app(app: Flask) -> None:
    app.before_request(enforce_access)
    app.before_request(refuse_hostile_text)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(DomainError, _handle_domain)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(DBAPIError, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected)
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(zone_label_filter, "zone_label")
    app.add_template_filter(format_in_zone, "in_zone")
    app.jinja_env.tests["safe_link"] = is_safe_link
    app.jinja_env.globals.update(can=can, Role=Role, EVERYONE=EVERYONE, EDITORS=EDITORS, ADMINS=ADMINS,
                                 zone_names=zone_names, viewer_zone=viewer_zone, quarter_label=quarter_label,
                                 quarter_code=quarter_code)
