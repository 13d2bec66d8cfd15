"""The outbox: claim due messages under a short lease, decide what goes out (drop, throttle, bundle), and
settle or free the claims whose outcome was never recorded. `send_pass` sends what is decided here and records
each outcome.

The rules that keep a page from being lost or sent twice:
- A claim is a conditional UPDATE (pending -> sending, this pass's token, a lease) over rows picked with
  FOR UPDATE SKIP LOCKED on PostgreSQL, committed before anything is sent: two engines never claim one row.
- A page folded into a bundle stays `sending` until the bundle's own message is recorded as sent; if the
  bundle is lost, every page in it goes back to the outbox.
- A message whose outcome is unknown (the process died, the database went away and the process with it, or
  the provider timed out after it may have taken the message) is "maybe sent": it is sent again only after
  its lease has run out and no delivery report has arrived for it (a report settles it as sent).
"""
from __future__ import annotations

import os
import socket
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from app.alerting import timeline
from app.alerting.channels.base import Message
from app.alerting.models import Alert, AlertStatus, MessageStatus, OutboundMessage
from app.alerting.render import email_parts, sms_text, voice_text
from app.alerting.replies import allocate_codes, code_for
from app.extensions import db

PENDING, SENDING = MessageStatus.PENDING.value, MessageStatus.SENDING.value
SENT_STATES = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value)


def claim_token() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def lease() -> timedelta:
    return timedelta(seconds=int(current_app.config["ENGINE_LEASE_SECONDS"]))


def _due_order(query):
    return query.order_by(OutboundMessage.priority, OutboundMessage.due_at, OutboundMessage.id)


def claim_due(now: datetime, token: str, limit: int) -> list[int]:
    """Claim up to `limit` due messages for `token` under a lease and commit; their ids, first pages first.

    The other due pages for the same contact methods are claimed with them, so that everything one phone is
    due to get travels together (and can be bundled into one message).
    """
    postgres = db.engine.dialect.name == "postgresql"
    due = _due_order(select(OutboundMessage.id).where(OutboundMessage.status == PENDING,
                                                      OutboundMessage.due_at <= now)).limit(limit)
    if postgres:
        due = due.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(due))
    if not ids:
        db.session.commit()
        return []
    values = {"status": SENDING, "claimed_at": now, "claimed_by": token, "lease_until": now + lease()}
    db.session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(ids), OutboundMessage.status == PENDING)
                       .values(**values).execution_options(synchronize_session=False))
    methods = select(OutboundMessage.contact_method_id).where(
        OutboundMessage.id.in_(ids), OutboundMessage.claimed_by == token, OutboundMessage.purpose == "alert",
        OutboundMessage.contact_method_id.is_not(None)).scalar_subquery()
    companions = select(OutboundMessage.id).where(
        OutboundMessage.status == PENDING, OutboundMessage.due_at <= now, OutboundMessage.purpose == "alert",
        OutboundMessage.contact_method_id.in_(methods))
    if postgres:
        companions = companions.with_for_update(skip_locked=True)
    more = list(db.session.scalars(companions))
    if more:
        db.session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(more),
                                                         OutboundMessage.status == PENDING)
                           .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    # Only what this call claimed: the pass's earlier claims may still be in flight under the same token.
    return list(db.session.scalars(_due_order(select(OutboundMessage.id).where(
        OutboundMessage.id.in_(ids + more), OutboundMessage.claimed_by == token,
        OutboundMessage.status == SENDING))))


def renew_lease(token: str, now: datetime) -> None:
    """Keep this pass's claims while it is still sending them; commits."""
    db.session.execute(update(OutboundMessage).where(OutboundMessage.claimed_by == token,
                                                     OutboundMessage.status == SENDING)
                       .values(lease_until=now + lease()).execution_options(synchronize_session=False))
    db.session.commit()


def recover_expired_leases(now: datetime) -> dict[str, int]:
    """Settle or free the messages whose lease ran out with no recorded outcome; commits.

    A message a delivery report has spoken for left the provider: it is sent (and its bundled pages with it).
    Any other goes back to the outbox with the pages bundled into it, to be sent again: maybe twice, never lost.
    """
    counts = {"settled": 0, "released": 0}
    expired = list(db.session.scalars(select(OutboundMessage).where(
        OutboundMessage.status == SENDING, OutboundMessage.lease_until < now,
        OutboundMessage.bundled_into_id.is_(None)).order_by(OutboundMessage.id).limit(500)))
    for message in expired:
        if message.delivery_status:
            counts["settled"] += settle_as_sent(message, now, why=f"delivery report '{message.delivery_status}'")
            continue
        released = db.session.execute(
            update(OutboundMessage).where(OutboundMessage.id == message.id, OutboundMessage.status == SENDING,
                                          OutboundMessage.lease_until < now)
            .values(status=PENDING, claimed_by=None, lease_until=None, due_at=now,
                    last_error="Its sending process stopped before recording an outcome and no delivery report "
                               "came: sending again.")
            .execution_options(synchronize_session=False)).rowcount
        if not released:
            continue
        counts["released"] += 1
        _release_bundled(message.id, now)
        if message.alert_id:
            timeline.note(message.alert_id, "retry", f"{message.kind.upper()} to {message.address}: its sender "
                          "stopped before recording an outcome and no delivery report came; sending again.")
    # Pages whose bundle was settled or freed above, or whose bundle was recorded without them (a crash
    # between two writes of an older version), never stay claimed past their lease.
    orphans = list(db.session.scalars(select(OutboundMessage.id).where(
        OutboundMessage.status == SENDING, OutboundMessage.lease_until < now,
        OutboundMessage.bundled_into_id.is_not(None))))
    if orphans:
        db.session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(orphans),
                                                         OutboundMessage.status == SENDING)
                           .values(status=PENDING, claimed_by=None, lease_until=None, bundled_into_id=None,
                                   due_at=now).execution_options(synchronize_session=False))
        counts["released"] += len(orphans)
    db.session.commit()
    return counts


def _release_bundled(primary_id: int, now: datetime) -> None:
    db.session.execute(update(OutboundMessage).where(OutboundMessage.bundled_into_id == primary_id,
                                                     OutboundMessage.status == SENDING)
                       .values(status=PENDING, claimed_by=None, lease_until=None, bundled_into_id=None, due_at=now)
                       .execution_options(synchronize_session=False))


def settle_as_sent(message: OutboundMessage, now: datetime, *, why: str, reference: str | None = None) -> int:
    """Mark a claimed message as sent (and the pages bundled into it as bundled); 1 when it changed. No commit."""
    changed = db.session.execute(
        update(OutboundMessage).where(OutboundMessage.id == message.id, OutboundMessage.status.in_((SENDING, PENDING)))
        .values(status=MessageStatus.SENT.value, sent_at=func.coalesce(OutboundMessage.sent_at, now),
                provider_ref=func.coalesce(OutboundMessage.provider_ref, reference), lease_until=None,
                last_error=None)
        .execution_options(synchronize_session=False)).rowcount
    if changed:
        db.session.execute(update(OutboundMessage).where(OutboundMessage.bundled_into_id == message.id,
                                                         OutboundMessage.status.in_((SENDING, PENDING)))
                           .values(status=MessageStatus.BUNDLED.value, lease_until=None, body="")
                           .execution_options(synchronize_session=False))
        for alert_id in _alert_ids_of(message.id):
            timeline.note(alert_id, "notified", f"{message.kind.upper()} to {message.address} confirmed sent by "
                          f"its {why}.", message=message)
    return changed


def _alert_ids_of(message_id: int) -> list[int]:
    rows = db.session.scalars(select(OutboundMessage.alert_id).where(
        or_(OutboundMessage.id == message_id, OutboundMessage.bundled_into_id == message_id),
        OutboundMessage.alert_id.is_not(None)))
    return sorted(set(rows))


# --- deciding ---------------------------------------------------------------------------------------

def _throttle_limit(kind: str) -> tuple[int, int] | None:
    return current_app.config.get(f"THROTTLE_{kind.upper()}")


def _sent_in_window(method_id: int, since: datetime, deciding: set[int]) -> tuple[int, datetime | None]:
    """Messages to the method sent since `since`, plus those on their way now (claimed and being sent by any
    pass, other than the ones being decided): a busy engine must not slip past the limit."""
    sent, oldest = db.session.execute(select(func.count(), func.min(OutboundMessage.sent_at)).where(
        OutboundMessage.contact_method_id == method_id, OutboundMessage.sent_at > since,
        OutboundMessage.status.in_(SENT_STATES))).one()
    on_the_way = db.session.scalar(select(func.count()).select_from(OutboundMessage).where(
        OutboundMessage.contact_method_id == method_id, OutboundMessage.status == SENDING,
        OutboundMessage.bundled_into_id.is_(None), OutboundMessage.id.not_in(deciding)))
    return sent + on_the_way, oldest


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
    deciding = {message.id for group in groups for message in group}
    for group in groups:
        primary = group[0]
        limit = _throttle_limit(primary.kind)
        if limit is None or primary.contact_method_id is None:
            ready.append(group)
            continue
        count, window_minutes = limit
        window = timedelta(minutes=window_minutes)
        already, oldest = _sent_in_window(primary.contact_method_id, now - window, deciding)
        if already + sent_now[primary.contact_method_id] < count:
            sent_now[primary.contact_method_id] += 1
            ready.append(group)
            continue
        due_at = (oldest + window) if oldest is not None and already >= count else now + timedelta(seconds=30)
        for message in group:
            message.status, message.claimed_by, message.lease_until, message.due_at = PENDING, None, None, due_at
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
    sensitive: bool = False


def _bundle_groups(messages: list[OutboundMessage]) -> list[list[OutboundMessage]]:
    """Alert pages due together for one contact method become one message (after downtime, say)."""
    groups: dict[object, list[OutboundMessage]] = {}
    for message in messages:
        key = ("method", message.contact_method_id) if message.purpose == "alert" and message.contact_method_id \
            else ("single", message.id)
        groups.setdefault(key, []).append(message)
    return list(groups.values())


def _compose(group: list[OutboundMessage], codes: dict[tuple[str, int], int]) -> Outgoing:
    primary = group[0]
    if primary.purpose != "alert":
        return Outgoing(primary.id, primary.kind, Message(to=primary.address, body=primary.body, kind=primary.kind,
                                                          subject=primary.subject, message_id=primary.id,
                                                          sensitive=primary.sensitive),
                        [], [primary.alert_id] if primary.alert_id else [], sensitive=primary.sensitive)
    alerts: list[Alert] = []
    for message in group:
        if message.alert not in alerts:
            alerts.append(message.alert)
    alerts.sort(key=lambda alert: (alert.created_at, alert.id), reverse=True)  # newest first
    subject = ""
    if primary.kind == "sms":
        body = sms_text([(codes.get((primary.address, alert.id)) or code_for(primary.address, alert), alert)
                         for alert in alerts])
    elif primary.kind == "voice":
        body = voice_text(alerts)
    else:
        subject, body = email_parts(alerts)
    primary.body, primary.subject = body, subject
    for other in group[1:]:
        # Still `sending`: it is done only when the bundle is recorded as sent (see settle_as_sent).
        other.bundled_into_id, other.body = primary.id, ""
    return Outgoing(primary.id, primary.kind, Message(to=primary.address, body=body, kind=primary.kind,
                                                      subject=subject, message_id=primary.id),
                    [other.id for other in group[1:]], [alert.id for alert in alerts])


def prepare(ids: list[int], now: datetime) -> list[Outgoing]:
    """Drop what is no longer needed, hold back what is throttled, bundle the rest; commit the decisions."""
    messages = list(db.session.scalars(_due_order(
        select(OutboundMessage).where(OutboundMessage.id.in_(ids)).options(selectinload(OutboundMessage.alert)))))
    live = []
    for message in messages:
        reason = _closed_reason(message)
        if reason:
            message.status, message.last_error = MessageStatus.DROPPED.value, f"Not sent: {reason}."
            message.lease_until = None
            timeline.note(message.alert_id, "dropped", message.last_error, message=message)
        else:
            live.append(message)
    groups = _over_limit(_bundle_groups(live), now)
    # Reply codes are allocated in address order: two engines then take the same phones' codes in the same
    # order and cannot deadlock on each other's uncommitted codes. Sending keeps the priority order.
    codes = allocate_codes([(message.address, message.alert) for group in groups for message in group
                            if message.purpose == "alert" and message.kind == "sms" and message.alert is not None])
    composed = {id(group): _compose(group, codes) for group in sorted(groups, key=lambda group: group[0].address)}
    outgoing = [composed[id(group)] for group in groups]
    for item in outgoing:
        if item.bundled_ids:
            for alert_id in item.alert_ids:
                timeline.note(alert_id, "bundled", f"Pages for {len(item.alert_ids)} open alerts to "
                              f"{item.payload.to} go out as one {item.kind.upper()} (message {item.message_id}).")
    db.session.commit()
    return outgoing
