"""Hooks through which higher domains take part in alerting without alerting importing them.

- Badges: a domain that attaches alerts to its own records (an incident) registers a provider; the alert page,
  the alert list and the API's alert JSON show what each alert is part of.
- Listeners: a domain that needs to know when an alert is acknowledged or resolved (an incident's page of its
  commander) registers a listener; it runs in the transaction of the change.

Providers and listeners are registered on the app by create_app() (through the domain's init_app), never at
import time; an app without them shows and does nothing more.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context

BADGES_KEY = "quarterdeck.alert_badges"
LISTENERS_KEY = "quarterdeck.alert_listeners"


@dataclass(frozen=True)
class AlertBadge:
    """A record an alert is part of, e.g. kind "incident", id 5, text "INC-5 SEV2: Billing down"."""

    kind: str
    id: int
    text: str
    url: str | None = None

    def as_json(self) -> dict:
        return {"kind": self.kind, "id": self.id, "text": self.text, "url": self.url}


BadgeProvider = Callable[[list[int]], dict[int, list[AlertBadge]]]
AlertListener = Callable[[object, str, str], None]  # (alert, change: "acknowledged" | "resolved", actor)


def register_badge_provider(app: Flask, provider: BadgeProvider) -> None:
    """Add a provider answering {alert_id: [badges]} for a list of alert ids (in one query, please)."""
    providers = app.extensions.setdefault(BADGES_KEY, [])
    if provider not in providers:
        providers.append(provider)


def register_alert_listener(app: Flask, listener: AlertListener) -> None:
    """Add a listener called with (alert, change, actor) when a person acknowledges or resolves an alert."""
    listeners = app.extensions.setdefault(LISTENERS_KEY, [])
    if listener not in listeners:
        listeners.append(listener)


def alert_badges(alert_ids: Iterable[int]) -> dict[int, list[AlertBadge]]:
    """Every registered provider's badges for these alerts; alerts without any are left out."""
    ids = sorted({int(alert_id) for alert_id in alert_ids})
    found: dict[int, list[AlertBadge]] = {}
    if not ids or not has_app_context():
        return found
    for provider in current_app.extensions.get(BADGES_KEY, []):
        for alert_id, badges in provider(ids).items():
            found.setdefault(alert_id, []).extend(badges)
    return found


def alert_changed(alert, change: str, actor: str) -> None:
    """Tell the listeners about a change a person made (in the caller's transaction)."""
    if not has_app_context():
        return
    for listener in current_app.extensions.get(LISTENERS_KEY, []):
        listener(alert, change, actor)
