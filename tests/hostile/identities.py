"""Signed-in clients for the hostile walk, one per identity, made the way a person or a script signs in."""
from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask

from app.auth import services as auth
from app.auth.roles import Role
from tests.hostile.walk import ANONYMOUS, Identity

PASSWORD = "correct horse battery"


def _csrf_token(html: str) -> str | None:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    return match.group(1) if match else None


def user_factory() -> Callable:
    """make_user(role) outside pytest: a new active user per call."""
    counter = {"n": 0}

    def make(role: Role | str = Role.CRISIS_TEAM, **fields):
        counter["n"] += 1
        role = Role(role)
        fields.setdefault("email", f"hostile-{role.value}{counter['n']}@example.com")
        fields.setdefault("name", f"Hostile {role.value} {counter['n']}")
        fields.setdefault("password", PASSWORD)
        return auth.create_user(role=role, **fields)

    return make


def make_identity(app: Flask, make_user: Callable, name: str) -> Identity:
    """A page client signed in through the login form (CSRF on) and an API opener with a token of the same role."""
    page = app.test_client()
    login_page = page.get("/login")
    token = _csrf_token(login_page.get_data(as_text=True))
    if name == ANONYMOUS:
        return Identity(name, page.open, page.open, token)
    user = make_user(Role(name), password=PASSWORD)
    signed_in = page.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token or ""})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:500]
    token = _csrf_token(page.get("/account").get_data(as_text=True))
    _api_token, raw = auth.create_token(user, name="hostile walk")
    api_client = app.test_client()

    def api_open(url, **kw):
        headers = {"Authorization": f"Bearer {raw}", **kw.pop("headers", {})}
        return api_client.open(url, headers=headers, **kw)

    return Identity(name, page.open, api_open, token)
