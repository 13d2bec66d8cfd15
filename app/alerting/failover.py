"""What follows a failed send: retry with back-off, or mark the method and move to the person's next one.

A retryable failure (timeout, 5xx, 429) is tried again after 10 s, 20 s, 40 s ... up to SEND_MAX_ATTEMPTS.
A permanent one (invalid number, unreachable handset, opted out) disables the contact method. Either way,
once a message has failed for good the person's next usable method is paged at once; when none is left
the alert's escalation goes to its next step at once.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.alerting import timeline
from app.alerting.channels.base import ChannelError
from app.alerting.escalation import UPDATE, queue_message
from app.alerting.models import Alert, AlertStatus, MessageStatus, OutboundMessage
from app.auth.models import User
from app.extensions import db
from app.oncall.models import ContactMethod
from app.oncall.services import notification_plan
from app.timeutil import utcnow

BACKOFF_FIRST, BACKOFF_MAX = timedelta(seconds=10), timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def after_failure(message: OutboundMessage, siblings: list[OutboundMessage], error: ChannelError,
                  now: datetime) -> None:
    """Record a failed send of `message` (and the messages bundled into it) and act on it."""
    message.last_error = str(error)[:500]
    max_attempts = int(current_app.config.get("SEND_MAX_ATTEMPTS", 5))
    alert_ids = sorted({m.alert_id for m in [message, *siblings] if m.alert_id})
    if not error.permanent and message.attempts < max_attempts:
        wait = backoff(message.attempts)
        for each in [message, *siblings]:
            each.status, each.claimed_by, each.due_at = MessageStatus.PENDING.value, None, now + wait
            each.bundled_into_id, each.lease_until = None, None
        for alert_id in alert_ids:
            timeline.note(alert_id, "retry", f"{message.kind.upper()} to {message.address} failed "
                          f"(attempt {message.attempts} of {max_attempts}): {message.last_error}; "
                          f"retrying in {int(wait.total_seconds())} s.", message=message)
        return
    for each in [message, *siblings]:
        each.status, each.permanent_failure = MessageStatus.FAILED.value, error.permanent
        each.last_error, each.lease_until = message.last_error, None
    why = "permanently" if error.permanent else f"after {message.attempts} attempts"
    if error.permanent and message.contact_method_id:
        disable_method(message.contact_method_id, f"{message.kind.upper()} failed permanently: {message.last_error}")
    for alert_id in alert_ids:
        timeline.note(alert_id, "failed", f"{message.kind.upper()} to {message.address} failed {why}: "
                      f"{message.last_error}", message=message)
        alert = db.session.get(Alert, alert_id)
        if alert is not None and alert.status == AlertStatus.TRIGGERED.value and message.user_id:
            fail_over(alert, message.user_id, now)


def disable_method(method_id: int, reason: str) -> None:
    method = db.session.get(ContactMethod, method_id)
    if method is not None and method.disabled_at is None:
        method.disabled_at, method.disabled_reason = utcnow(), reason[:200]


def fail_over(alert: Alert, user_id: int, now: datetime) -> None:
    """Page the person's next usable method now; if they have none left, escalate the alert now."""
    person = db.session.get(User, user_id)
    tried = set(db.session.scalars(select(OutboundMessage.contact_method_id).where(
        OutboundMessage.alert_id == alert.id, OutboundMessage.user_id == user_id,
        OutboundMessage.status.not_in([MessageStatus.PENDING.value, MessageStatus.DROPPED.value]))))
    for _delay, method in notification_plan(person):
        if method.id in tried:
            continue
        waiting = db.session.scalar(select(OutboundMessage).where(
            OutboundMessage.alert_id == alert.id, OutboundMessage.contact_method_id == method.id,
            OutboundMessage.status == MessageStatus.PENDING.value).order_by(OutboundMessage.due_at).limit(1))
        if waiting is not None:
            waiting.due_at = min(waiting.due_at, now)
        else:
            queue_message(alert, person, method, due_at=now, priority=UPDATE)
        timeline.note(alert, "failover", f"Moving to {person.name}'s {method.kind.value} {method.address} now.")
        return
    timeline.note(alert, "failover", f"None of {person.name}'s contact methods worked.")
    if not alert.escalation_exhausted:
        alert.next_escalation_at = now
        timeline.note(alert, "escalated", "Going on to the next escalation step at once.")
