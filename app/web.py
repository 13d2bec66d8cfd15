"""Cross-cutting web behaviour: access checks, security headers, error pages, template helpers."""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, current_app, make_response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.access import can, enforce_access
from app.api.support import error_response
from app.auth.roles import ADMINS, EDITORS, EVERYONE, Role
from app.errors import DomainError
from app.extensions import db
from app.forms_common import zone_names
from app.links import is_safe_link
from app.request_guard import refuse_hostile_text
from app.timeutil import to_zone

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
}


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
    signed_in = current_user and current_user.is_authenticated
    zone = current_user.time_zone if signed_in else current_app.config["DEFAULT_TIME_ZONE"]
    return to_zone(value, zone).strftime(fmt)


def combine_page(args: dict, page: int) -> dict:
    """Query-string arguments of a list with another page number (for pagers)."""
    return {**args, "page": page}


def init_app(app: Flask) -> None:
    app.before_request(enforce_access)
    app.before_request(refuse_hostile_text)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(DomainError, _handle_domain)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(combine_page, "combine_page")
    app.jinja_env.tests["safe_link"] = is_safe_link
    app.jinja_env.globals.update(can=can, Role=Role, EVERYONE=EVERYONE, EDITORS=EDITORS, ADMINS=ADMINS,
                                 zone_names=zone_names)
