"""Who hears about an incident: its subscribers (executives automatically for SEV1 and SEV2, anyone who asks),
and by which channel (email; SMS for a SEV1 when the person opted in)."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.roles import Role
from app.errors import Conflict
from app.extensions import db
from app.incidents.models import Incident, IncidentPreference, IncidentSubscription, Status
from app.incidents.notify import WRITTEN, message_person
from app.incidents.timeline import record_event
from app.oncall.models import ContactKind
from app.timeutil import utcnow


def subscription_of(incident: Incident, person: User) -> IncidentSubscription | None:
    return db.session.scalar(select(IncidentSubscription).where(IncidentSubscription.incident_id == incident.id,
                                                                IncidentSubscription.user_id == person.id))


def is_subscribed(incident: Incident, person: User) -> bool:
    row = subscription_of(incident, person)
    return row is not None and row.subscribed


def subscribers(incident: Incident) -> list[User]:
    """The active people subscribed now, by name."""
    return list(db.session.scalars(select(User).join(IncidentSubscription, IncidentSubscription.user_id == User.id)
                                   .where(IncidentSubscription.incident_id == incident.id,
                                          IncidentSubscription.subscribed.is_(True), User.active.is_(True))
                                   .order_by(User.name, User.id)))


def subscriber_count(incident: Incident) -> int:
    return db.session.scalar(select(func.count()).select_from(IncidentSubscription).join(
        User, User.id == IncidentSubscription.user_id).where(
        IncidentSubscription.incident_id == incident.id, IncidentSubscription.subscribed.is_(True),
        User.active.is_(True))) or 0


def subscribe_executives(incident: Incident) -> int:
    """For a SEV1/SEV2 incident, subscribe every active executive who has no subscription row yet (someone who
    unsubscribed stays unsubscribed); in the caller's transaction. Returns how many were added."""
    if incident.severity.rank > 2:
        return 0
    known = select(IncidentSubscription.user_id).where(IncidentSubscription.incident_id == incident.id)
    executives = list(db.session.scalars(select(User).where(User.role == Role.EXECUTIVE, User.active.is_(True),
                                                            User.id.not_in(known)).order_by(User.id)))
    now = utcnow()
    for person in executives:
        db.session.add(IncidentSubscription(incident_id=incident.id, user_id=person.id, subscribed=True,
                                            source="auto", changed_at=now))
    if executives:
        record_event(incident, kind="subscription",
                     text=f"{len(executives)} executive(s) subscribed to updates ({incident.severity.code}).")
    return len(executives)


def set_subscribed(incident: Incident, person: User, subscribed: bool) -> IncidentSubscription:
    """Subscribe or unsubscribe `person` (anyone may, for themselves); commits."""
    if incident.state is Status.CLOSED and subscribed:
        raise Conflict(f"{incident.code} is closed: there will be no more updates.")
    row = subscription_of(incident, person)
    if row is None:
        row = IncidentSubscription(incident_id=incident.id, user_id=person.id, source="self")
        db.session.add(row)
    row.subscribed, row.changed_at = subscribed, utcnow()
    db.session.commit()
    return row


def preference_of(person: User) -> IncidentPreference:
    return db.session.get(IncidentPreference, person.id) or IncidentPreference(user_id=person.id, sms_for_sev1=False)


def set_sms_for_sev1(person: User, wanted: bool) -> IncidentPreference:
    """Opt in (or out) of SEV1 updates by SMS instead of email; commits."""
    preference = db.session.get(IncidentPreference, person.id)
    if preference is None:
        preference = IncidentPreference(user_id=person.id)
        db.session.add(preference)
    preference.sms_for_sev1 = bool(wanted)
    db.session.commit()
    return preference


def update_kinds(incident: Incident, person: User) -> tuple[ContactKind, ...]:
    """Email by default; for a SEV1, SMS first (then email) for someone who opted in."""
    if incident.severity.rank == 1 and preference_of(person).sms_for_sev1:
        return ContactKind.SMS, ContactKind.EMAIL
    return (ContactKind.EMAIL,)


def tell_role(incident: Incident, person: User, role_label: str, *, by: User) -> None:
    """Tell someone they now hold a role on the incident (written: email, else SMS)."""
    message_person(person, incident=incident, purpose="role", template="incident_role", kinds=WRITTEN,
                   key=f"{role_label}:{uuid.uuid4().hex}", room_for="text", role=role_label, by=by.name,
                   text=incident.title)
