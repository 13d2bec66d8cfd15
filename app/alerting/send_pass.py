"""The send pass: send what the outbox claimed and decided, and record the outcome of every send.

- Up to ENGINE_SEND_CONCURRENCY sends are in flight at once on one bounded pool per process; no database
  work happens on the sending threads.
- Each outcome is recorded the moment its send returns. The sends that returned together are recorded
  together: the successes share one commit (on PostgreSQL each commit waits for its WAL flush, and one flush
  for all of them is what lets the drain keep up).
- If the database is away then, the outcomes are kept in memory and written when it is back (sending stops
  meanwhile: nothing more is claimed). If it stays away too long, the leases bring those messages back to the
  outbox, to be sent again: maybe twice, never lost.
- A send whose outcome is unknown (the provider may have taken it) is "maybe sent": it stays claimed until a
  delivery report settles it or its lease runs out. Never a quick retry, which would page twice.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import case, func
from sqlalchemy.exc import DBAPIError

from app.alerting import timeline
from app.alerting.channels import channel_for
from app.alerting.channels.base import ChannelError
from app.alerting.failover import after_failure
from app.alerting.models import REDACTED, MessageStatus, OutboundMessage
from app.alerting.outbox import (PENDING, SENDING, SENT_STATES, Outgoing, claim_due, claim_token, lease, prepare,
                                 renew_lease)
from app.extensions import db
from app.metrics import MESSAGES
from app.timeutil import utcnow

log = logging.getLogger("quarterdeck.outbox")  # sending is the outbox's work: its log keeps one name
RECORD_RETRY_SECONDS = 0.5  # while the database is away, how often an unrecorded outcome is tried again


@dataclass
class Outcome:
    reference: str | None = None
    error: ChannelError | None = None
    channel: str = ""


def send_one(item: Outgoing, config) -> Outcome:
    """Send through the item's channel; no database work happens here (it runs on a worker thread)."""
    channel = channel_for(item.kind, config)
    try:
        return Outcome(reference=channel.send(item.payload), channel=channel.name)
    except ChannelError as error:
        return Outcome(error=error, channel=channel.name)
    except Exception as error:  # a bug in a channel must not lose the outcome of the others
        log.exception("channel %s raised", item.kind)
        return Outcome(error=ChannelError(f"unexpected error: {error}"), channel=channel.name)


def record(item: Outgoing, outcome: Outcome, now: datetime) -> None:
    """Write the outcome of one send and what follows from it (retry, fail-over, "maybe sent"); commits."""
    if outcome.error is None:
        _record_sent(item, outcome, now)
        return
    message = db.session.get(OutboundMessage, item.message_id, populate_existing=True)
    message.channel = outcome.channel or message.channel
    message.attempts += 1
    siblings = [db.session.get(OutboundMessage, mid, populate_existing=True) for mid in item.bundled_ids]
    if outcome.error.uncertain:
        _maybe_sent(message, item, outcome.error, now)
    else:
        after_failure(message, siblings, outcome.error, now)
        message.lease_until = None
        if message.status == MessageStatus.FAILED.value and item.sensitive \
                and not channel_for(item.kind, current_app.config).keeps_body:
            message.body = REDACTED  # failed for good: a code it held is of no use to anyone now
    db.session.commit()


def _record_sent(item: Outgoing, outcome: Outcome, now: datetime, *, commit: bool = True) -> None:
    """The common case, in three plain statements and a commit (the engine records hundreds a second: the
    table, not the ORM, keeps each one cheap). Without `commit` the caller commits several together."""
    table = OutboundMessage.__table__
    values = {"status": case((table.c.status.in_(SENT_STATES), table.c.status), else_=MessageStatus.SENT.value),
              "sent_at": func.coalesce(table.c.sent_at, now),
              "provider_ref": func.coalesce(table.c.provider_ref, outcome.reference),
              "channel": outcome.channel, "attempts": table.c.attempts + 1, "last_error": None,
              "lease_until": None}
    if item.sensitive and not channel_for(item.kind, current_app.config).keeps_body:
        values["body"] = REDACTED  # a code is readable only until it has gone (the console keeps it to be read)
    connection = db.session.connection()
    connection.execute(table.update().where(table.c.id == item.message_id).values(**values))
    if item.bundled_ids:
        connection.execute(table.update().where(table.c.id.in_(item.bundled_ids),
                                                table.c.status.in_((SENDING, PENDING)))
                           .values(status=MessageStatus.BUNDLED.value, lease_until=None,
                                   bundled_into_id=item.message_id))
    if item.alert_ids:
        text = (f"{item.kind.upper()} to {item.payload.to} sent ({outcome.channel}"
                f"{', ' + outcome.reference if outcome.reference else ''}).")
        timeline.note_many(item.alert_ids, "notified", text, message_id=item.message_id)
    if commit:
        db.session.commit()


def _maybe_sent(message: OutboundMessage, item: Outgoing, error: ChannelError, now: datetime) -> None:
    """The provider may have taken it: keep it claimed until a delivery report settles it, or the lease
    runs out and it is sent again. Never a quick retry, which would page twice."""
    message.last_error = f"{error} - it may have been sent; waiting for a delivery report before sending again."[:500]
    message.lease_until = now + lease()
    for alert_id in item.alert_ids:
        timeline.note(alert_id, "uncertain", f"{item.kind.upper()} to {message.address}: {error}. It may have gone "
                      f"out: sent again at {message.lease_until:%H:%M:%S} UTC unless a delivery report comes first.",
                      message=message)


@dataclass
class SendPass:
    """One engine pass over the outbox: what it sent, and outcomes it could not write yet."""
    token: str = field(default_factory=claim_token)
    sent: int = 0
    unrecorded: list[tuple[Outgoing, Outcome, datetime]] = field(default_factory=list)
    renewed: float = field(default_factory=time.monotonic)


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """One bounded pool per process, reused by every pass (threads are cheap to keep, slow to start)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers != workers:  # noqa: SLF001  (configuration changed: tests)
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox-send")
        return _POOL


def _record_or_keep(state: SendPass, item: Outgoing, outcome: Outcome, now: datetime) -> None:
    MESSAGES.labels(outcome.channel or item.kind, _outcome_label(outcome)).inc()
    try:
        record(item, outcome, now)
        state.sent += outcome.error is None
    except DBAPIError:
        db.session.rollback()
        log.warning("message %s: the database is unreachable; its outcome is kept and written when it is back",
                    item.message_id)
        state.unrecorded.append((item, outcome, now))


def _record_returned(state: SendPass, returned: list[tuple[Outgoing, Outcome]], now: datetime) -> None:
    """Record the sends that returned together. The successes share one commit: on PostgreSQL each commit waits
    for its WAL flush, and with a fast provider dozens of sends return while one is being recorded, so one flush
    for all of them is what lets the drain keep up. Each is still recorded the moment it is known; if the
    database is away, all of them are kept to be written when it is back, as a single one would be."""
    sent = [(item, outcome) for item, outcome in returned if outcome.error is None]
    for item, outcome in returned:
        if outcome.error is not None:
            _record_or_keep(state, item, outcome, now)
    if not sent:
        return
    for item, outcome in sent:
        MESSAGES.labels(outcome.channel or item.kind, "sent").inc()
    try:
        for item, outcome in sent:
            _record_sent(item, outcome, now, commit=False)
        db.session.commit()
        state.sent += len(sent)
    except DBAPIError:
        db.session.rollback()
        log.warning("%d sent messages: the database is unreachable; their outcomes are kept and written when it "
                    "is back", len(sent))
        state.unrecorded.extend((item, outcome, now) for item, outcome in sent)


def _outcome_label(outcome: Outcome) -> str:
    if outcome.error is None:
        return "sent"
    if outcome.error.uncertain:
        return "maybe_sent"
    return "failed_permanently" if outcome.error.permanent else "failed_retryable"


def flush_unrecorded(state: SendPass, *, give_up_after: float = 600.0, sleep=time.sleep) -> bool:
    """Write the outcomes kept while the database was away, retrying until it answers; True when all are in."""
    deadline = time.monotonic() + give_up_after
    while state.unrecorded:
        item, outcome, at = state.unrecorded[0]
        try:
            record(item, outcome, at)
        except DBAPIError:
            db.session.rollback()
            if time.monotonic() > deadline:
                return False
            sleep(RECORD_RETRY_SECONDS)
            continue
        state.unrecorded.pop(0)
        state.sent += outcome.error is None
    return True


def send_due_messages(*, batch: int | None = None, max_batches: int = 200,
                      on_progress: Callable[[], None] | None = None,
                      should_stop: Callable[[], bool] | None = None) -> int:
    """Claim, send and record due messages until none are due (bounded); returns how many were sent.

    Up to ENGINE_SEND_CONCURRENCY sends are in flight at once, and the pool is kept full: as sends return,
    their outcomes are recorded (the moment they return; sends that returned together share a commit) and
    more messages are claimed. `on_progress` is
    called between records (the engine writes its heartbeat there). When `should_stop()` turns true nothing
    more is claimed: the sends in flight finish and are recorded.
    """
    config = current_app.config
    workers = int(config["ENGINE_SEND_CONCURRENCY"])
    pool = _pool(workers)
    state = SendPass()
    in_flight: dict[Future, Outgoing] = {}
    claims, exhausted = 0, False
    while True:
        if not flush_unrecorded(state):
            break  # the database has been away for too long: the leases will bring these back
        room = workers - len(in_flight)
        # Refill when a quarter of the pool is free (or it is empty): one claim serves several sends, and
        # the pool stays mostly full while a slow provider answers.
        if not exhausted and (room >= max(workers // 4, 1) or not in_flight):
            if (should_stop is not None and should_stop()) or claims >= max_batches:
                exhausted = True
            else:
                now = utcnow()
                try:
                    ids = claim_due(now, state.token, batch or max(room, 1))
                    outgoing = prepare(ids, now) if ids else []
                except DBAPIError:
                    if not in_flight:
                        raise  # nothing of this pass is at the provider: the engine's pass fails and retries
                    # The sends in flight have reached the provider: abandoning them to their leases would page
                    # again any whose delivery report cannot reach the database either. Claim nothing more;
                    # their outcomes are recorded, or kept until the database is back.
                    db.session.rollback()
                    log.warning("the database is unreachable while %d sends are in flight: claiming nothing "
                                "more, keeping their outcomes", len(in_flight))
                    ids, outgoing = [], []
                claims += 1
                if not ids:
                    exhausted = True
                for item in outgoing:
                    in_flight[pool.submit(send_one, item, config)] = item
        if not in_flight:
            if exhausted:
                break
            continue
        done, _running = wait(in_flight, return_when=FIRST_COMPLETED)
        _record_returned(state, [(in_flight.pop(future), future.result()) for future in done], utcnow())
        _between_records(state, on_progress)
    flush_unrecorded(state)
    return state.sent


def _between_records(state: SendPass, on_progress: Callable[[], None] | None) -> None:
    if state.unrecorded:
        return  # the database is away: nothing else to write now
    try:
        # A third of the lease gone: take it again for what this pass still holds (a slow provider).
        if time.monotonic() - state.renewed > lease().total_seconds() / 3:
            renew_lease(state.token, utcnow())
            state.renewed = time.monotonic()
        if on_progress is not None:
            on_progress()
    except DBAPIError:
        db.session.rollback()
