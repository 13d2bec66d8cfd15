"""Scheduler jobs: remind the commander of an overdue status update (once per interval), and remind them of the
post-incident review on the day it is due and once it is overdue.

Each reminder is claimed by the unique key of its IncidentMessage row before it is queued, so a second scheduler
(or a second pass) sends nothing; its outcome is the linked outbox row's.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.incidents.metrics import minutes
from app.incidents.models import OPEN_STATUS_VALUES, Incident, IncidentMessage
from app.incidents.notify import URGENT_WRITTEN, WRITTEN, message_person
from app.incidents.review_due import commander_today
from app.incidents.review_models import Review, ReviewStatus
from app.incidents.updates import update_due_at
from app.timeutil import utcnow

log = logging.getLogger("quarterdeck.incidents")


def _claimed(incident: Incident, purpose: str, key: str) -> bool:
    """True when nobody has sent this reminder yet (and now nobody else will)."""
    exists = db.session.scalar(select(IncidentMessage.id).where(
        IncidentMessage.incident_id == incident.id, IncidentMessage.purpose == purpose, IncidentMessage.key == key,
        IncidentMessage.user_id == incident.commander_id))
    return exists is None


def _send(incident: Incident, purpose: str, key: str, **context) -> bool:
    """Queue the reminder for the commander and commit; False when another process had already sent it."""
    kinds = URGENT_WRITTEN if purpose == "update_overdue" else WRITTEN
    try:
        message_person(incident.commander, incident=incident, purpose=purpose, template=f"incident_{purpose}",
                       kinds=kinds, key=key, room_for="text", text=incident.title, **context)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def interval_key(incident: Incident, now: datetime) -> tuple[str, int] | None:
    """(key, minutes overdue) of the interval an overdue update is in: one reminder per interval without an
    update; None while the next update is not due."""
    due = update_due_at(incident)
    if due is None or now < due:
        return None
    interval = incident.severity.update_interval_minutes * 60
    elapsed = (now - due).total_seconds()
    return f"{due:%Y%m%dT%H%M%S}:{int(elapsed // interval)}", int(elapsed // 60)


def remind_overdue_updates() -> dict[str, int]:
    """Remind the commander of each open incident whose update is overdue, once per interval."""
    now = utcnow()
    summary = {"reminded": 0, "already": 0}
    for incident in db.session.scalars(select(Incident).where(Incident.status.in_(OPEN_STATUS_VALUES))
                                       .order_by(Incident.id)).all():
        found = interval_key(incident, now)
        if found is None:
            continue
        key, late = found
        if not _claimed(incident, "update_overdue", key) or not _send(
                incident, "update_overdue", key, late=minutes(late * 60),
                interval=incident.severity.update_interval_minutes):
            summary["already"] += 1
            continue
        summary["reminded"] += 1
        log.info("%s: update overdue by %d min, commander reminded", incident.code, late)
    return summary


def remind_reviews() -> dict[str, int]:
    """Remind the commander of a pending review on its due day (review_due) and once overdue (review_overdue)."""
    summary = {"due": 0, "overdue": 0}
    reviews = db.session.scalars(select(Review).where(Review.status == ReviewStatus.PENDING.value)
                                 .order_by(Review.due_on, Review.id)).all()
    for review in reviews:
        incident = db.session.get(Incident, review.incident_id)
        today = commander_today(incident)
        purpose = "review_overdue" if today > review.due_on else "review_due" if today == review.due_on else None
        key = f"{review.due_on:%Y-%m-%d}"
        if purpose is None or not _claimed(incident, purpose, key):
            continue
        if _send(incident, purpose, key, due=review.due_on.strftime("%a %d %b %Y")):
            summary["overdue" if purpose == "review_overdue" else "due"] += 1
    return summary


def run_incident_jobs() -> dict[str, dict[str, int]]:
    """The scheduler's incident job (every minute): overdue updates, then reviews."""
    return {"updates": remind_overdue_updates(), "reviews": remind_reviews()}
