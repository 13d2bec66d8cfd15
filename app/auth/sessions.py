"""How a request is tied to a user: session cookie for pages, bearer token for the API."""
from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface

from app.auth import services
from app.auth.models import User
from app.extensions import db, login_manager

API_PREFIX = "/api/"


class BrowserOnlySessionInterface(SecureCookieSessionInterface):
    """The API ignores the session cookie: it is CSRF-exempt, so only a bearer token may authenticate it."""

    def open_session(self, app: Flask, request: Request):
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


@login_manager.user_loader
def load_user_from_session(user_id: str) -> User | None:
    raw_id, _, version = user_id.partition(".")
    user = db.session.get(User, int(raw_id)) if raw_id.isdigit() else None
    if user is None or not user.active or version != str(user.session_version):
        return None  # deactivated, or the password changed since this session signed in
    return user


@login_manager.request_loader
def load_user_from_bearer(request: Request) -> User | None:
    if not request.path.startswith(API_PREFIX):
        return None
    scheme, _, raw = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return services.user_for_token(raw.strip())
