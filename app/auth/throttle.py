"""The sign-in throttle: every failed attempt counts, however its body is encoded.

Three counters share the limiter's storage (RATELIMIT_STORAGE_URI: with several workers or nodes it must be a
shared one such as Redis, or each process counts on its own):
- per address and account: LOGIN_MAX_FAILURES per LOGIN_LOCKOUT_MINUTES;
- per account, from any address: ACCOUNT_FACTOR times that (guessing one password from many addresses);
- per address, over any accounts: ACCOUNT_FACTOR times that (one address trying many accounts).
Only failures count (a sign-in that succeeds answers 302).
"""
from __future__ import annotations

from flask import current_app, request

ACCOUNT_FACTOR = 4
EMAIL_MAX = 254


def attempted_email() -> str:
    """The email a sign-in attempt names, from a form or a JSON body, normalised as accounts are stored."""
    raw = None
    if request.is_json:
        payload = request.get_json(silent=True)
        raw = payload.get("email") if isinstance(payload, dict) else None
    else:
        raw = request.form.get("email")
    text = raw if isinstance(raw, str) else ""
    return text.strip().lower()[:EMAIL_MAX]


def _window() -> str:
    return f"per {current_app.config['LOGIN_LOCKOUT_MINUTES']} minutes"


def pair_limit() -> str:
    return f"{current_app.config['LOGIN_MAX_FAILURES']} {_window()}"


def wide_limit() -> str:
    return f"{current_app.config['LOGIN_MAX_FAILURES'] * ACCOUNT_FACTOR} {_window()}"


def pair_key() -> str:
    return f"login:pair:{request.remote_addr}|{attempted_email()}"


def account_key() -> str:
    return f"login:account:{attempted_email()}"


def address_key() -> str:
    return f"login:address:{request.remote_addr}"


def failed(response) -> bool:
    """Count an attempt unless it signed in (302)."""
    return response.status_code != 302
