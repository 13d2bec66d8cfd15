"""The outbox: claim due messages race-safely, decide (drop, throttle, bundle), send, record each outcome.

Claiming is a conditional UPDATE (status pending -> sending, tagged with this pass's token) over rows
picked with FOR UPDATE SKIP LOCKED on PostgreSQL: two engine processes never claim the same row. The
claim is committed before anything is sent, and each outcome is committed as soon as it is known.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.alerting import timeline
from app.alerting.channels import channel_for
from app.alerting.channels.base import ChannelError, Message
from app.alerting.failover import after_failure
from app.alerting.models import Alert, AlertStatus, MessageStatus, OutboundMessage
from app.alerting.render import email_parts, sms_text, voice_text
from app.alerting.replies import code_for
from app.extensions import db
from app.timeutil import utcnow

log = logging.getLogger("quarterdeck.outbox")
STALE_CLAIM = timedelta(minutes=10)
PENDING, SENDING = MessageStatus.PENDING.value, MessageStatus.SENDING.value
SENT_STATES = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value)


def claim_token() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def claim_due(now: datetime, token: str, limit: int) -> list[int]:
    """Mark up to `limit` due messages as being sent by `token` and commit; their ids, first pages first."""
    due = (select(OutboundMessage.id)
           .where(OutboundMessage.status == PENDING, OutboundMessage.due_at <= now)
           .order_by(OutboundMessage.priority, OutboundMessage.due_at, OutboundMessage.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(update(OutboundMessage)
                           .where(OutboundMessage.id.in_(ids), OutboundMessage.status == PENDING)
                           .values(status=SENDING, claimed_at=now, claimed_by=token)
                           .execution_options(synchronize_session=False))
    db.session.commit()
    if not ids:
        return []
    return list(db.session.scalars(select(OutboundMessage.id).where(
        OutboundMessage.id.in_(ids), OutboundMessage.claimed_by == token, OutboundMessage.status == SENDING)
        .order_by(OutboundMessage.priority, OutboundMessage.due_at, OutboundMessage.id)))


def release_stale_claims(now: datetime) -> int:
    """Messages claimed by a process that died mid-send go back to the outbox (better twice than never)."""
    stale = list(db.session.scalars(select(OutboundMessage).where(
        OutboundMessage.status == SENDING, OutboundMessage.claimed_at < now - STALE_CLAIM)))
    for message in stale:
        message.status, message.claimed_by = PENDING, None
        message.last_error = "The sending process stopped before recording an outcome; sending again."
        if message.alert_id:
            timeline.note(message.alert_id, "retry", message.last_error, message=message)
    db.session.commit()
    return len(stale)


# --- deciding ---------------------------------------------------------------------------------------

def _throttle_limit(kind: str) -> tuple[int, int] | None:
    return current_app.config.get(f"THROTTLE_{kind.upper()}")


def _sent_in_window(method_id: int, since: datetime) -> tuple[int, datetime | None]:
    row = db.session.execute(select(func.count(), func.min(OutboundMessage.sent_at)).where(
        OutboundMessage.contact_method_id == method_id, OutboundMessage.sent_at > since,
        OutboundMessage.status.in_(SENT_STATES))).one()
    return row[0], row[1]


def _closed_reason(message: OutboundMessage) -> str | None:
    alert = message.alert
    if message.purpose != "alert" or alert is None or alert.status == AlertStatus.TRIGGERED.value:
        return None
    return f"the alert was {alert.status} before it was sent"


def _over_limit(groups: list[list[OutboundMessage]], now: datetime) -> list[list[OutboundMessage]]:
    """Outgoing messages (bundles count as one) over their method's limit wait until the window has room.

    Throttling counts what will actually be sent, so it runs after bundling: seven pages due together for
    one phone are one SMS, not five SMS now and two later. Held-back messages go back to pending; never dropped.
    """
    ready: list[list[OutboundMessage]] = []
    sent_now: dict[int, int] = defaultdict(int)
    for group in groups:
        primary = group[0]
        limit = _throttle_limit(primary.kind)
        if limit is None or primary.contact_method_id is None:
            ready.append(group)
            continue
        count, window_minutes = limit
        window = timedelta(minutes=window_minutes)
        already, oldest = _sent_in_window(primary.contact_method_id, now - window)
        if already + sent_now[primary.contact_method_id] < count:
            sent_now[primary.contact_method_id] += 1
            ready.append(group)
            continue
        due_at = (oldest + window) if oldest is not None and already >= count else now + timedelta(seconds=30)
        for message in group:
            message.status, message.claimed_by, message.due_at = PENDING, None, due_at
            if message.alert_id:
                timeline.note(message.alert_id, "throttled",
                              f"{message.kind.upper()} to {message.address} waits until {due_at:%H:%M:%S} UTC: "
                              f"at most {count} per {window_minutes} min to one {message.kind} method.",
                              message=message)
    return ready


@dataclass
class Outgoing:
    message_id: int
    kind: str
    payload: Message
    bundled_ids: list[int]
    alert_ids: list[int]


def _bundle_groups(messages: list[OutboundMessage]) -> list[list[OutboundMessage]]:
    """Alert pages due together for one contact method become one message (after downtime, say)."""
    groups: dict[object, list[OutboundMessage]] = {}
    for message in messages:
        key = ("method", message.contact_method_id) if message.purpose == "alert" and message.contact_method_id \
            else ("single", message.id)
        groups.setdefault(key, []).append(message)
    return list(groups.values())


def _compose(group: list[OutboundMessage]) -> Outgoing:
    primary = group[0]
    if primary.purpose != "alert":
        return Outgoing(primary.id, primary.kind, Message(to=primary.address, body=primary.body, kind=primary.kind,
                                                          subject=primary.subject, message_id=primary.id),
                        [], [primary.alert_id] if primary.alert_id else [])
    alerts: list[Alert] = []
    for message in group:
        if message.alert not in alerts:
            alerts.append(message.alert)
    alerts.sort(key=lambda alert: (alert.created_at, alert.id), reverse=True)  # newest first
    subject = ""
    if primary.kind == "sms":
        body = sms_text([(code_for(primary.address, alert), alert) for alert in alerts])
    elif primary.kind == "voice":
        body = voice_text(alerts)
    else:
        subject, body = email_parts(alerts)
    primary.body, primary.subject = body, subject
    for other in group[1:]:
        other.status, other.bundled_into_id, other.body = MessageStatus.BUNDLED.value, primary.id, ""
    return Outgoing(primary.id, primary.kind, Message(to=primary.address, body=body, kind=primary.kind,
                                                      subject=subject, message_id=primary.id),
                    [other.id for other in group[1:]], [alert.id for alert in alerts])


def prepare(ids: list[int], now: datetime) -> list[Outgoing]:
    """Drop what is no longer needed, hold back what is throttled, bundle the rest; commit the decisions."""
    messages = list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(ids))
                                       .options(selectinload(OutboundMessage.alert))
                                       .order_by(OutboundMessage.priority, OutboundMessage.due_at,
                                                 OutboundMessage.id)))
    live = []
    for message in messages:
        reason = _closed_reason(message)
        if reason:
            message.status, message.last_error = MessageStatus.DROPPED.value, f"Not sent: {reason}."
            timeline.note(message.alert_id, "dropped", message.last_error, message=message)
        else:
            live.append(message)
    groups = _over_limit(_bundle_groups(live), now)
    # Reply codes are allocated in address order: two engines then take the same phones' codes in the same
    # order and cannot deadlock on each other's uncommitted codes. Sending keeps the priority order.
    composed = {id(group): _compose(group) for group in sorted(groups, key=lambda group: group[0].address)}
    outgoing = [composed[id(group)] for group in groups]
    for item in outgoing:
        if item.bundled_ids:
            for alert_id in item.alert_ids:
                timeline.note(alert_id, "bundled", f"Pages for {len(item.alert_ids)} open alerts to "
                              f"{item.payload.to} go out as one {item.kind.upper()} (message {item.message_id}).")
    db.session.commit()
    return outgoing


# --- sending and recording --------------------------------------------------------------------------

@dataclass
class Outcome:
    reference: str | None = None
    error: ChannelError | None = None


def send_all(outgoing: list[Outgoing]) -> list[Outcome]:
    """Send through the channels, a few at a time; no database work happens here."""
    config = current_app.config

    def send(item: Outgoing) -> Outcome:
        try:
            return Outcome(reference=channel_for(item.kind, config).send(item.payload))
        except ChannelError as error:
            return Outcome(error=error)
        except Exception as error:  # a bug in a channel must not lose the outcome of the others
            log.exception("channel %s raised", item.kind)
            return Outcome(error=ChannelError(f"unexpected error: {error}"))

    workers = int(config.get("ENGINE_SEND_CONCURRENCY", 4))
    if workers <= 1 or len(outgoing) <= 1:
        return [send(item) for item in outgoing]
    with ThreadPoolExecutor(max_workers=min(workers, len(outgoing))) as pool:
        return list(pool.map(send, outgoing))


def record(item: Outgoing, outcome: Outcome, now: datetime) -> None:
    """Write the outcome of one send and what follows from it (retry, fail-over); commits."""
    message = db.session.get(OutboundMessage, item.message_id)
    message.channel = channel_for(item.kind, current_app.config).name
    message.attempts += 1
    siblings = [db.session.get(OutboundMessage, mid) for mid in item.bundled_ids]
    if outcome.error is None:
        message.status, message.sent_at, message.provider_ref = MessageStatus.SENT.value, now, outcome.reference
        message.last_error = None
        for alert_id in item.alert_ids:
            timeline.note(alert_id, "notified", f"{item.kind.upper()} to {message.address} sent"
                          f" ({message.channel}{', ' + outcome.reference if outcome.reference else ''}).",
                          message=message)
    else:
        after_failure(message, siblings, outcome.error, now)
    db.session.commit()


def send_due_messages(*, batch: int = 100, max_batches: int = 50) -> int:
    """Claim, send and record due messages until none are due (bounded); returns how many were sent."""
    sent = 0
    for _ in range(max_batches):
        now = utcnow()
        ids = claim_due(now, claim_token(), batch)
        if not ids:
            break
        outgoing = prepare(ids, now)
        for item, outcome in zip(outgoing, send_all(outgoing)):
            record(item, outcome, now)
            sent += outcome.error is None
    return sent
