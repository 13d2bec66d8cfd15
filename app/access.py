"""Who may call which endpoint.

Every view and API handler declares its audience with `@allow(...)` or
`@public`. One before_request hook enforces it, and create_app() refuses to
start when an endpoint declares nothing, so a forgotten check fails closed at
start-up instead of leaking data.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from flask import Flask, abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from app.auth.roles import Role

F = TypeVar("F", bound=Callable)

PUBLIC = "public"


def allow(*roles: Role | Iterable[Role]) -> Callable[[F], F]:
    """Declare the roles that may call the decorated endpoint."""
    allowed: set[Role] = set()
    for item in roles:
        allowed.update([item] if isinstance(item, Role) else item)

    def mark(view: F) -> F:
        view.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Declare an endpoint that needs no login (login page, health check, webhooks)."""
    view.allowed_roles = PUBLIC  # type: ignore[attr-defined]
    return view


def declared_access(app: Flask, endpoint: str) -> frozenset[Role] | str | None:
    if endpoint == "static":
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, "allowed_roles", None)


def check_every_endpoint_declares_access(app: Flask) -> None:
    missing = sorted(ep for ep in app.view_functions if declared_access(app, ep) is None)
    if missing:
        raise RuntimeError(f"endpoints without an access declaration: {', '.join(missing)}")


def is_api_request() -> bool:
    return request.blueprint is not None and request.blueprint.startswith("api")


def enforce_access():
    """before_request: answer 401/403 or redirect to login unless the caller's role is allowed."""
    if request.endpoint is None:
        return None  # 404/405 handled by Flask
    allowed = declared_access(current_app, request.endpoint)
    if allowed == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            response = jsonify(error="Authentication required: send 'Authorization: Bearer <token>'.")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="quarterdeck"'
            return response
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.role not in allowed:
        abort(403)
    return None


def can(*roles: Role | Iterable[Role]) -> bool:
    """For templates and views: does the current user hold one of these roles?"""
    allowed: set[Role] = set()
    for item in roles:
        allowed.update([item] if isinstance(item, Role) else item)
    return current_user.is_authenticated and current_user.role in allowed
