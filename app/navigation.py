"""The main navigation: every place in the product, and the five each role goes to most.

On a phone the bar holds only those five and "More"; the rest of the places, the search, the account and
signing out sit behind "More". The same lists drive the laptop layout, so the two never disagree.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user

from app.auth.roles import ADMINS, Role


def _prefix(*prefixes: str) -> Callable[[str], bool]:
    return lambda endpoint: endpoint.startswith(prefixes)


@dataclass(frozen=True)
class Place:
    key: str
    label: str
    endpoint: str
    is_current: Callable[[str], bool]
    roles: frozenset[Role] | None = None  # None: every role


PLACES = [
    Place("home", "Home", "home.index", lambda e: e == "home.index"),
    Place("readiness", "Readiness", "readiness.index", _prefix("readiness.", "readiness_tracks.")),
    Place("alerts", "Alerts", "alerting.alerts",
          lambda e: e.startswith("alerting.") and e not in ("alerting.messages", "alerting.test_methods")),
    Place("incidents", "Incidents", "incidents.index", _prefix("incident")),
    Place("runbooks", "Runbooks", "runbooks.index", _prefix("runbook")),
    Place("schedules", "On call", "schedules.schedules", _prefix("schedules.")),
    Place("watchlist", "Watch list", "watchlist.index", _prefix("watchlist.")),
    Place("risks", "Risks", "risks.register_page", _prefix("risks.", "escalations.")),
    Place("reviews", "Reviews", "reviews.reviews", _prefix("reviews.")),
    Place("vendors", "Vendors", "vendors.vendors", lambda e: e.startswith("vendors.") and e != "vendors.search"),
    Place("drtests", "DR tests", "drtests.index", _prefix("drtests.")),
    Place("people", "People", "oncall.people", _prefix("oncall.")),
    Place("policies", "Policies", "policies.index", _prefix("policies.")),
    Place("calendar", "Calendar", "calendar.quarter", lambda e: e == "calendar.quarter"),
    Place("regions", "Regions", "calendar.regions", lambda e: e.endswith("region") or e == "calendar.regions"),
    Place("messages", "Messages", "alerting.messages", lambda e: e == "alerting.messages"),
    Place("users", "Users", "auth.users", lambda e: "user" in e, ADMINS),
    Place("audit", "Audit log", "audit.log", lambda e: e == "audit.log", ADMINS),
]

# What each role opens most: the responder at 3 a.m., the crisis team running the week, the executive on a phone.
PRIMARY = {
    Role.RESPONDER: ("home", "alerts", "incidents", "runbooks", "schedules"),
    Role.CRISIS_TEAM: ("readiness", "alerts", "risks", "reviews", "watchlist"),
    Role.EXECUTIVE: ("readiness", "risks", "incidents", "alerts", "vendors"),
    Role.ADMIN: ("home", "users", "people", "readiness", "audit"),
}


@dataclass(frozen=True)
class Link:
    key: str
    label: str
    url: str
    current: bool


def navigation() -> tuple[list[Link], list[Link]]:
    """(the role's five places, every other place it may open), each marked current or not."""
    endpoint = request.endpoint or ""
    role = current_user.role
    links = {place.key: Link(place.key, place.label, url_for(place.endpoint), place.is_current(endpoint))
             for place in PLACES if place.roles is None or role in place.roles}
    primary = [links[key] for key in PRIMARY[role] if key in links]
    return primary, [link for key, link in links.items() if key not in PRIMARY[role]]


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"navigation": navigation})
