"""What one domain offers another's pages and messages without either importing the other.

A domain that knows something about another's records (the runbooks that apply to an alert, the runbooks an
on-call person has not read) registers a provider under a topic in create_app(); the page or message asks the
topic and shows whatever comes back. With nothing registered a topic answers an empty list, so each domain
works alone. Topics and what their providers take and return:

- "alert_links" (alert) -> list[RelatedLink]: shown on the alert's page and in its email
- "job_links" (job) -> list[RelatedLink]: shown on a watched job's page
- "dr_template_links" (template) -> list[RelatedLink]: shown on a DR test template's page
- "rotation_unread" (rotation) -> list[UnreadReading]: members who have not read what their rotation must
- "shift_unread" (user, rotation_names) -> list[str]: titles the person must read before their shift
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("quarterdeck.providers")
_PROVIDERS: dict[str, dict[str, Callable[..., list]]] = {}


@dataclass(frozen=True)
class RelatedLink:
    label: str
    path: str  # a path under PUBLIC_BASE_URL, e.g. /runbooks/erp-failover-failback
    detail: str = ""
    kind: str = ""  # what it is, e.g. "runbook"
    action_label: str | None = None  # a second link: "Run this runbook"
    action_path: str | None = None


@dataclass(frozen=True)
class UnreadReading:
    user_id: int
    name: str
    titles: tuple[str, ...]


def register_provider(topic: str, name: str, provider: Callable[..., list]) -> None:
    """Add (or replace, by name) a provider for `topic`; call from create_app() or an init_app(app) it calls."""
    _PROVIDERS.setdefault(topic, {})[name] = provider


def provided(topic: str, *args: Any) -> list:
    """Everything the topic's providers return for `args`, in registration order.

    A provider that fails is logged and skipped: a page or a page's email must never break on an extra.
    """
    found: list = []
    for name, provider in list(_PROVIDERS.get(topic, {}).items()):
        try:
            found.extend(provider(*args))
        except Exception:  # noqa: BLE001  (an extra must not take the page down with it)
            log.exception("provider %s for %s failed", name, topic)
    return found
