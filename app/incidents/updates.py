"""Status updates and their cadence: an update goes on the timeline and to every subscriber through the outbox;
the next one is due the severity's interval after the last one (or after the declaration)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.auth.models import User
from app.errors import Invalid
from app.extensions import db
from app.incidents.models import OPEN_STATUS_VALUES, Incident, IncidentMessage, IncidentUpdate, Status
from app.incidents.notify import message_person
from app.incidents.services import clean_text, locked
from app.incidents.subscriptions import subscribers, update_kinds
from app.incidents.timeline import record_event
from app.timeutil import utcnow

MESSAGE_MAX = 4000


def update_due_at(incident: Incident) -> datetime | None:
    """When the next status update is due: the severity's interval after the last update (or the declaration);
    None for a severity without a cadence or an incident that is no longer open."""
    minutes = incident.severity.update_interval_minutes
    if not incident.is_open or not minutes:
        return None
    return (incident.last_update_at or incident.declared_at) + timedelta(minutes=minutes)


def overdue_minutes(incident: Incident, now: datetime | None = None) -> int | None:
    """Whole minutes the next update is overdue by; None when it is not overdue."""
    due = update_due_at(incident)
    now = now or utcnow()
    if due is None or now <= due:
        return None
    return int((now - due).total_seconds() // 60)


def deliver(incident: Incident, update: IncidentUpdate, *, author: User | None) -> int:
    """Queue the update for every subscriber but its author, each by their channel; returns how many."""
    people = [person for person in subscribers(incident) if author is None or person.id != author.id]
    for person in people:
        message_person(person, incident=incident, purpose="update", template="incident_update",
                       kinds=update_kinds(incident, person), key=f"update:{update.id}", update_id=update.id,
                       room_for="text", status=Status(update.status).label, update=update,
                       text=f"{incident.title} - {update.message}", author=update.author_name)
    update.recipients = len(people)
    return len(people)


def post_update(incident_id: int, *, status: str, message: str, author: User) -> IncidentUpdate:
    """Post a status update (investigating, identified or monitoring) and send it to the subscribers; commits.

    The incident's row is locked first, so two updates posted at the same moment both land, one after the other.
    """
    if status not in OPEN_STATUS_VALUES:
        raise Invalid(f"Choose one of: {', '.join(OPEN_STATUS_VALUES)} (resolving has its own form).", "status")
    message = clean_text(message, "message", MESSAGE_MAX, required="Write the update.")
    incident = locked(incident_id)
    if not incident.is_open:
        raise Invalid(f"{incident.code} is {incident.status}: it takes no more updates.", "status")
    now = utcnow()
    update = IncidentUpdate(incident_id=incident.id, at=now, status=status, message=message, author_id=author.id,
                            author_name=author.name)
    db.session.add(update)
    db.session.flush()
    if status != incident.status:
        record_event(incident, kind="status", actor=author.name, at=now,
                     text=f"Status {incident.status} -> {status}.")
        incident.status = status
    incident.last_update_at = now
    sent = deliver(incident, update, author=author)
    record_event(incident, kind="update", actor=author.name, at=now,
                 text=f"Update ({status}) sent to {sent} subscriber(s): {message}")
    db.session.commit()
    return update


def updates_of(incident: Incident, limit: int = 200) -> list[IncidentUpdate]:
    """The incident's updates, newest first."""
    return list(db.session.scalars(select(IncidentUpdate).where(IncidentUpdate.incident_id == incident.id)
                                   .order_by(IncidentUpdate.at.desc(), IncidentUpdate.id.desc()).limit(limit)))


def delivery_counts(updates: list[IncidentUpdate]) -> dict[int, dict[str, int]]:
    """For each update, how many of its messages are in each outbox state (pending, sent, failed ...)."""
    ids = [update.id for update in updates]
    found: dict[int, dict[str, int]] = {update_id: {} for update_id in ids}
    if not ids:
        return found
    rows = db.session.execute(select(IncidentMessage.update_id, OutboundMessage.status)
                              .outerjoin(OutboundMessage, OutboundMessage.id == IncidentMessage.message_id)
                              .where(IncidentMessage.update_id.in_(ids))).all()
    for update_id, state in rows:
        state = state or "unknown"
        found[update_id][state] = found[update_id].get(state, 0) + 1
    return found


def messages_of(incident: Incident, limit: int = 200) -> list[IncidentMessage]:
    """Every message written about the incident, newest first, with its outbox row (its outcome)."""
    return list(db.session.scalars(select(IncidentMessage).where(IncidentMessage.incident_id == incident.id)
                                   .order_by(IncidentMessage.created_at.desc(), IncidentMessage.id.desc())
                                   .limit(limit)))


