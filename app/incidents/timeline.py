"""Writing and reading an incident's timeline. `record_event` is the door other domains use too (re-exported by
services): a runbook run, a DR step, anything that happened to the incident goes on its timeline through it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.incidents.models import Incident, IncidentEvent
from app.timeutil import as_utc, utcnow

KINDS = ("declared", "severity", "status", "role", "alert", "page", "acknowledged", "update", "note", "runbook",
         "task", "link", "instant", "resolved", "review", "closed", "reminder", "subscription")
TEXT_MAX = 4000


def storable_id(value: object) -> bool:
    """An id the database's integer column can hold: anything else names no record (a 404 or a field error,
    never the database's out-of-range error)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def record_event(incident: Incident | int, *, kind: str, text: str, actor: str = "",
                 at: datetime | None = None) -> IncidentEvent:
    """Add one line to the incident's timeline in the caller's transaction (the caller commits).

    `at` is when it happened (default: now; aware); `kind` is a short word such as "runbook" or "note" (any word
    of at most 24 characters, so other domains may add their own).
    """
    incident_id = incident if isinstance(incident, int) else incident.id
    now = utcnow()
    event = IncidentEvent(incident_id=incident_id, at=as_utc(at) if at is not None else now, recorded_at=now,
                          kind=(kind or "note")[:24], actor=(actor or "")[:120], text=(text or "")[:TEXT_MAX])
    db.session.add(event)
    return event


# By when it happened, then by when it was written (ix_incident_events_incident_at serves it).
TIMELINE_ORDER = [IncidentEvent.at, IncidentEvent.id]


def timeline_query(incident: Incident) -> Select:
    """The incident's timeline, oldest first (by when it happened, then by when it was written)."""
    return select(IncidentEvent).where(IncidentEvent.incident_id == incident.id).order_by(*TIMELINE_ORDER)


def timeline_page(incident: Incident, *, after: str | None = None, before: str | None = None,
                  per_page: int = 50) -> KeysetPage:
    """One page of the incident's timeline, oldest first, after or before a cursor (app/keyset.py)."""
    return keyset_page(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id), TIMELINE_ORDER,
                       after=after, before=before, per_page=per_page)
