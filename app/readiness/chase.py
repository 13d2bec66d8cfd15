""""What to chase": the top items of every track, each with its owner and a link to where it is fixed.

Each track contributes its own items through a chase source: a function of the readiness Context returning
ChaseItems, most urgent first. Sources are registered on the app in create_app() (`init_app` below registers the
built-in tracks); another domain adds its own without touching this module:

    from app.readiness.chase import register_chase_source
    register_chase_source(app, "incidents", "Incident follow-ups", follow_ups_to_chase, order=70)

called from that domain's own `init_app(app)`, which create_app() calls. A source that fails is reported on the page
as unavailable instead of breaking it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from app.readiness.tracks import checklist, drtest, jobs, people, risks, vendors
from app.readiness.tracks.base import ChaseItem, Context

log = logging.getLogger("quarterdeck.readiness")

ChaseSource = Callable[[Context], list[ChaseItem]]
EXTENSION = "readiness_chase_sources"
PER_TRACK = 5


@dataclass(frozen=True)
class ChaseEntry:
    name: str
    label: str
    source: ChaseSource
    order: int


@dataclass(frozen=True)
class ChaseGroup:
    name: str
    label: str
    items: list[ChaseItem]  # the first PER_TRACK, most urgent first
    more: int  # how many more there are
    failed: bool = False  # the source could not be read


def register_chase_source(app: Flask, name: str, label: str, source: ChaseSource, order: int = 50) -> None:
    """Add (or replace, by name) a track's contribution to "what to chase"; `order` places it (lower first)."""
    app.extensions.setdefault(EXTENSION, {})[name] = ChaseEntry(name, label, source, order)


def chase_sources() -> list[ChaseEntry]:
    return sorted(current_app.extensions.get(EXTENSION, {}).values(), key=lambda entry: (entry.order, entry.name))


def what_to_chase(ctx: Context, per_track: int = PER_TRACK) -> list[ChaseGroup]:
    """Every registered track's items, urgent ones first; tracks with nothing to chase are left out."""
    groups = []
    for entry in chase_sources():
        try:
            items = list(entry.source(ctx))
        except Exception:  # one broken contribution must not take the executive page down
            log.exception("chase source %s failed", entry.name)
            groups.append(ChaseGroup(entry.name, entry.label, [], 0, failed=True))
            continue
        if items:
            ordered = sorted(items, key=lambda item: not item.urgent)  # stable: each source's own order within
            groups.append(ChaseGroup(entry.name, entry.label, ordered[:per_track], max(len(ordered) - per_track, 0)))
    return groups


def init_app(app: Flask) -> None:
    """Register the built-in tracks' contributions."""
    for order, (name, label, source) in enumerate((
            ("checklist", "Checklist", checklist.chase), ("risks", "Overdue mitigations", risks.chase),
            ("vendors", "Vendor contacts not confirmed", vendors.chase),
            ("people", "On-call contacts", people.chase), ("jobs", "Failing jobs", jobs.chase),
            ("drtest", "Open DR findings", drtest.chase), ("lessons", "Lessons learned", checklist.chase_lessons))):
        register_chase_source(app, name, label, source, order=10 * (order + 1))
