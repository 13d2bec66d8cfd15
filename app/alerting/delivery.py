"""Sending one message to one contact method now, and recording what happened.

Used for messages a person is waiting for or that are due now (verification codes, reminders). Paging
goes through the alert engine instead.
"""
from __future__ import annotations

import logging

from flask import current_app, render_template

from app.alerting.channels import channel_for as select_channel
from app.alerting.channels.base import ChannelError, Message
from app.alerting.models import REDACTED, OutboundMessage
from app.extensions import db
from app.timeutil import utcnow

log = logging.getLogger("quarterdeck.delivery")


def channel_for(kind: str):
    """The channel that carries `kind` (sms, voice, email). Without provider credentials: the console."""
    return select_channel(kind, current_app.config)


def deliver_now(*, user_id: int, method, purpose: str, template: str, sensitive: bool = False,
                **context) -> OutboundMessage:
    """Render `messages/<template>.txt`, send it through `method`'s channel and record the attempt and outcome.

    Never raises for a failed send: the failure is on the returned row. The caller's service commits.
    """
    channel = channel_for(method.kind.value)
    body = render_template(f"messages/{template}.txt", **context).strip()
    subject, _, rest = body.partition("\n") if method.kind.value == "email" else ("", "", body)
    body = rest.strip() if subject else body
    record = OutboundMessage(user_id=user_id, contact_method_id=method.id, channel=channel.name,
                             kind=method.kind.value, address=method.address, purpose=purpose,
                             subject=subject[:200], status="pending", attempts=0,
                             body=body if (channel.keeps_body or not sensitive) else REDACTED)
    db.session.add(record)
    db.session.flush()  # the id travels with the message (delivery reports name it)
    record.attempts = 1
    try:
        reference = channel.send(Message(to=method.address, body=body, kind=method.kind.value, subject=subject,
                                         message_id=record.id, sensitive=sensitive))
    except ChannelError as error:
        record.status, record.last_error, record.permanent_failure = "failed", str(error)[:500], error.permanent
        log.warning("message %s to %s via %s failed: %s", record.id, method.kind.value, channel.name, error)
    else:
        record.status, record.sent_at, record.provider_ref = "sent", utcnow(), reference
    return record
