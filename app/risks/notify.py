"""Emailing one person about the register (an expired acceptance, a pre-read, a reminder), never silently.

The message is queued in the outbox for the person's first usable email method (the console stands in when no
SMTP server is configured); the engine sends it and records the outcome on the row. A person with no usable email still gets a message row, with status "failed" and the reason, so
the pages that list these messages show who was not told.
"""
from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from app.alerting.notices import queue_notice
from app.alerting.models import MessageStatus, OutboundMessage
from app.auth.models import User
from app.extensions import db
from app.oncall.models import ContactKind, ContactMethod
from app.timeutil import utcnow

NO_EMAIL = "No verified email address: the person must add and verify one on their People page."
INACTIVE = "The account is deactivated."


def email_method(person: User) -> ContactMethod | None:
    """The person's first usable email method (oldest first), if any."""
    methods = db.session.scalars(select(ContactMethod).where(
        ContactMethod.user_id == person.id, ContactMethod.kind == ContactKind.EMAIL,
        ContactMethod.verified_at.is_not(None), ContactMethod.disabled_at.is_(None)).order_by(ContactMethod.id))
    return next(iter(methods), None)


def email_person(person: User, *, purpose: str, template: str, **context) -> OutboundMessage:
    """Send `messages/<template>.txt` (first line: the subject) to `person`, or record why it could not go.

    The caller commits. The returned row is "pending" (the engine sends it) or "failed" (with last_error).
    """
    method = email_method(person) if person.active else None
    if method is not None:
        return queue_notice(user_id=person.id, method=method, purpose=purpose, template=template, **context)
    body = render_template(f"messages/{template}.txt", **context).strip()
    subject, _, rest = body.partition("\n")
    record = OutboundMessage(user_id=person.id, contact_method_id=None, channel="none", kind="email",
                             address="(no usable email)",
                             purpose=purpose[:32], subject=subject[:200], body=rest.strip(),
                             status=MessageStatus.FAILED.value, attempts=0, permanent_failure=True,
                             last_error=INACTIVE if not person.active else NO_EMAIL, created_at=utcnow())
    db.session.add(record)
    db.session.flush()
    return record
