"""Messages that are not pages (verification codes, reminders, notices, updates) go through the outbox too.

`queue_notice` renders the words now and writes one outbox row in the caller's transaction; the paging engine
sends it like a page and records its outcome on that row. Nothing here talks to a provider, so a slow provider
never holds a web request or a write transaction open. On PostgreSQL the commit wakes the engine at once
(LISTEN/NOTIFY); on SQLite the engine looks for due messages four times a second.
"""
from __future__ import annotations

from datetime import datetime

from flask import render_template
from sqlalchemy import text

from app.alerting.models import MessageStatus, OutboundMessage
from app.extensions import db
from app.timeutil import utcnow

WAKE_CHANNEL = "quarterdeck_outbox"
URGENT, NORMAL = 0, 1  # outbox priorities: someone waiting for it (a code, a first page) goes first


def wake_engine() -> None:
    """Ask the engine to look at the outbox as soon as the caller's transaction commits (PostgreSQL only).

    NOTIFY is transactional: a rolled-back transaction wakes nobody, and a committed one wakes every
    listening scheduler. On SQLite the engine's quick "anything due?" check finds the row instead.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WAKE_CHANNEL})


def render_message(template: str, message_kind: str, context: dict) -> tuple[str, str]:
    """(subject, body) of `messages/<template>.txt`; for email the template's first line is the subject."""
    body = render_template(f"messages/{template}.txt", **context).strip()
    if message_kind != "email":
        return "", body
    subject, _, rest = body.partition("\n")
    return subject.strip()[:200], rest.strip()


def queue_notice(*, user_id: int | None, method, purpose: str, template: str, sensitive: bool = False,
                 alert_id: int | None = None, due_at: datetime | None = None, priority: int = NORMAL,
                 **context) -> OutboundMessage:
    """Put `messages/<template>.txt` for `method` (a ContactMethod) in the outbox; the caller commits.

    A `sensitive` message (a verification code) keeps its text only until it is sent: the engine replaces
    it then with a note, unless the channel is the console (whose Messages page is how the code is read).
    """
    kind = method.kind.value
    subject, body = render_message(template, kind, context)
    message = OutboundMessage(user_id=user_id, contact_method_id=method.id, alert_id=alert_id, channel="",
                              kind=kind, address=method.address, purpose=purpose[:32], subject=subject, body=body,
                              sensitive=sensitive, status=MessageStatus.PENDING.value, priority=priority,
                              due_at=due_at or utcnow(), attempts=0)
    db.session.add(message)
    db.session.flush()  # the id travels with the message (delivery reports and call webhooks name it)
    wake_engine()
    return message
