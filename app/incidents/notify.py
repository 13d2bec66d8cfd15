"""Writing to one person about an incident through the outbox, never silently.

The message goes to the person's first usable method among the kinds asked for, in that order; the engine
sends it and records the outcome on the outbox row. A person with no usable method (or a deactivated account)
still gets a row, "failed" with the reason, so the incident page shows who was not told. SMS text is fitted
to one GSM-7 segment before it is queued.
"""
from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, render_template
from sqlalchemy import select

from app.alerting.channels.gsm import fit_one_segment, gsm7_length, to_gsm7
from app.alerting.models import MessageStatus, OutboundMessage
from app.alerting.notices import queue_notice
from app.auth.models import User
from app.extensions import db
from app.incidents.models import Incident, IncidentMessage
from app.oncall.models import ContactKind, ContactMethod
from app.timeutil import utcnow

WRITTEN = (ContactKind.EMAIL, ContactKind.SMS)  # updates and reviews: read, not rung
URGENT_WRITTEN = (ContactKind.SMS, ContactKind.EMAIL)  # an overdue update: the commander is on their phone
NO_METHOD = "No verified, enabled {kinds} method: the person must add and verify one on their People page."
INACTIVE = "The account is deactivated."


def incident_url(incident: Incident) -> str:
    """The incident's page for a message (no request to build URLs from in the scheduler)."""
    return f"{str(current_app.config['PUBLIC_BASE_URL']).rstrip('/')}/incidents/{incident.id}"


def short_url(incident: Incident) -> str:
    """The short link SMS carry: every character counts in one segment."""
    return f"{str(current_app.config['PUBLIC_BASE_URL']).rstrip('/')}/i/{incident.id}"


def usable_method(person: User, kinds: Sequence[ContactKind]) -> ContactMethod | None:
    """The person's first verified, enabled method of the first kind in `kinds` they have."""
    methods = list(db.session.scalars(select(ContactMethod).where(
        ContactMethod.user_id == person.id, ContactMethod.kind.in_(list(kinds)),
        ContactMethod.verified_at.is_not(None), ContactMethod.disabled_at.is_(None)).order_by(ContactMethod.id)))
    return next((method for kind in kinds for method in methods if method.kind == kind), None)


def fit_sms(template: str, room_for: str, **context) -> dict:
    """The context with `context[room_for]` cut so that the rendered SMS stays within one GSM-7 segment."""
    frame = to_gsm7(render_template(f"messages/{template}.txt", **{**context, room_for: ""}).strip())
    room = max(160 - gsm7_length(frame), 3)
    text = to_gsm7(" ".join(str(context.get(room_for, "")).split()))
    return {**context, room_for: fit_one_segment(text, limit=room)}


def message_person(person: User, *, incident: Incident, purpose: str, template: str, kinds: Sequence[ContactKind],
                   key: str, update_id: int | None = None, room_for: str | None = None,
                   **context) -> IncidentMessage:
    """Queue `messages/<template>_<kind>.txt` for the person and record it on the incident; the caller commits.

    `room_for` names the context value an SMS may shorten to stay in one segment. The outbox row is pending (the
    engine sends it) or failed with the reason nobody could send it.
    """
    method = usable_method(person, kinds) if person.active else None
    context = {"name": person.name, "incident": incident, "url": incident_url(incident),
               "short_url": short_url(incident), **context}
    if method is not None:
        if method.kind == ContactKind.SMS and room_for:
            context = fit_sms(f"{template}_sms", room_for, **context)
        outbox = queue_notice(user_id=person.id, method=method, purpose=f"incident_{purpose}"[:32],
                              template=f"{template}_{method.kind.value}", **context)
    else:
        outbox = _failed_row(person, purpose=purpose, template=template, kinds=kinds, **context)
    record = IncidentMessage(incident_id=incident.id, update_id=update_id, user_id=person.id, purpose=purpose,
                             key=key[:80], message_id=outbox.id, created_at=utcnow())
    db.session.add(record)
    return record


def _failed_row(person: User, *, purpose: str, template: str, kinds: Sequence[ContactKind],
                **context) -> OutboundMessage:
    kind = kinds[0].value
    body = render_template(f"messages/{template}_{kind}.txt", **context).strip()
    subject, rest = ("", body)
    if kind == "email":
        subject, _, rest = body.partition("\n")
    reason = INACTIVE if not person.active else NO_METHOD.format(kinds=" or ".join(k.value for k in kinds))
    row = OutboundMessage(user_id=person.id, contact_method_id=None, channel="none", kind=kind,
                          address="(no usable method)", purpose=f"incident_{purpose}"[:32], subject=subject[:200],
                          body=rest.strip(), status=MessageStatus.FAILED.value, attempts=0, permanent_failure=True,
                          last_error=reason, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row
