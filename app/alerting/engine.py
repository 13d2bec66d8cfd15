"""The paging engine: acknowledgement timeouts, escalation and the outbox, run by the scheduler process.

A pass (`run_engine_tick`) is safe with several scheduler processes on one PostgreSQL: alert changes are
compare-and-set on the alert's version (the loser rolls back), and messages are claimed under a lease before
they are sent. `EngineLoop` runs passes back to back: at once when something becomes due (PostgreSQL:
LISTEN/NOTIFY from the transaction that queued it; SQLite: a cheap "anything due?" query four times a
second), and at least every ENGINE_TICK_SECONDS, with a little jitter so that two schedulers do not tick
in phase.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.alerting import timeline
from app.alerting.escalation import restart_escalation, run_step
from app.alerting.health import ENGINE_HEARTBEAT
from app.alerting.models import Alert, AlertStatus, MessageStatus, OutboundMessage
from app.alerting.notices import WAKE_CHANNEL
from app.alerting.outbox import recover_expired_leases
from app.alerting.send_pass import send_due_messages
from app.extensions import db
from app.metrics import ENGINE_TICK_SECONDS
from app.system.services import record_heartbeat
from app.timeutil import utcnow

log = logging.getLogger("quarterdeck.engine")
BATCH = 200
SQLITE_POLL_SECONDS = 0.25


def _each_alert(ids: list[int], change) -> int:
    """Apply `change(alert)` to each alert in its own transaction; an alert another process changed is skipped."""
    done = 0
    for alert_id in ids:
        try:
            alert = db.session.get(Alert, alert_id, populate_existing=True)
            if alert is not None and change(alert):
                db.session.commit()
                done += 1
            else:
                db.session.rollback()
        except StaleDataError:
            db.session.rollback()  # another engine (or a person) changed it first; theirs stands
    return done


def reopen_unresolved_acknowledgements(now: datetime) -> int:
    """Acknowledged alerts not resolved by their deadline go back to triggered and page from the first step."""
    ids = list(db.session.scalars(select(Alert.id).where(
        Alert.status == AlertStatus.ACKNOWLEDGED.value, Alert.ack_deadline <= now).limit(BATCH)))

    def reopen(alert: Alert) -> bool:
        if alert.status != AlertStatus.ACKNOWLEDGED.value or alert.ack_deadline is None or alert.ack_deadline > now:
            return False
        minutes = (alert.policy_snapshot or {}).get("ack_timeout_minutes")
        timeline.note(alert, "reopened", f"Acknowledged by {alert.acknowledged_by} but not resolved within "
                      f"{minutes} min: paging again.")
        restart_escalation(alert, now)
        run_step(alert, now)
        return True

    return _each_alert(ids, reopen)


def advance_escalations(now: datetime) -> int:
    """Run the next step of every triggered alert whose wait is over."""
    ids = list(db.session.scalars(select(Alert.id).where(
        Alert.status == AlertStatus.TRIGGERED.value, Alert.next_escalation_at <= now)
        .order_by(Alert.next_escalation_at).limit(BATCH)))

    def advance(alert: Alert) -> bool:
        if alert.status != AlertStatus.TRIGGERED.value or alert.next_escalation_at is None \
                or alert.next_escalation_at > now:
            return False
        run_step(alert, now)
        return True

    return _each_alert(ids, advance)


class Heartbeat:
    """Writes the engine's heartbeat at most every SCHEDULER_HEARTBEAT_SECONDS, also in the middle of a long
    drain: a busy engine is healthy, a stuck one is not."""

    def __init__(self) -> None:
        self.last = 0.0
        self.written = 0

    def __call__(self, *, force: bool = False) -> None:
        every = int(current_app.config["SCHEDULER_HEARTBEAT_SECONDS"])
        if not force and time.monotonic() - self.last < every:
            return
        try:
            record_heartbeat(ENGINE_HEARTBEAT)
        except IntegrityError:
            db.session.rollback()  # two engines wrote their first beat at once; the other one's counts
        self.last = time.monotonic()
        self.written += 1


def run_engine_tick(heartbeat: Heartbeat | None = None, should_stop=None) -> dict[str, int]:
    """One pass of the paging engine; returns what it did (the scheduler logs it when it did anything)."""
    beat = heartbeat or Heartbeat()
    now = utcnow()
    result = {"reopened": reopen_unresolved_acknowledgements(now), "escalated": advance_escalations(now),
              **recover_expired_leases(now)}
    result["sent"] = send_due_messages(on_progress=beat, should_stop=should_stop)
    beat(force=heartbeat is None)
    return result


def next_wake(now: datetime) -> datetime | None:
    """The soonest instant something will be due: a message, an escalation, an acknowledgement deadline, a lease."""
    candidates = [
        db.session.scalar(select(func.min(OutboundMessage.due_at)).where(
            OutboundMessage.status == MessageStatus.PENDING.value)),
        db.session.scalar(select(func.min(Alert.next_escalation_at)).where(
            Alert.status == AlertStatus.TRIGGERED.value)),
        db.session.scalar(select(func.min(Alert.ack_deadline)).where(
            Alert.status == AlertStatus.ACKNOWLEDGED.value)),
        db.session.scalar(select(func.min(OutboundMessage.lease_until)).where(
            OutboundMessage.status == MessageStatus.SENDING.value)),
    ]
    db.session.rollback()  # end the read: a pass must not keep a transaction (or a SQLite snapshot) open
    found = [at for at in candidates if at is not None]
    return min(found) if found else None


class EngineLoop:
    """Passes back to back until `stop` is set. Owns the heartbeat and, on PostgreSQL, a LISTEN connection."""

    def __init__(self, app: Flask, stop: threading.Event):
        self.app, self.stop = app, stop
        self.heartbeat = Heartbeat()
        self.listener = None

    def run_once(self) -> None:
        with self.app.app_context():
            self._pass()
            db.session.remove()

    def run(self) -> None:
        with self.app.app_context():
            tick = float(self.app.config["ENGINE_TICK_SECONDS"])
            while not self.stop.is_set():
                self._pass()
                self._wait(tick * random.uniform(0.8, 1.0))
            self._close_listener()
            db.session.remove()

    def _pass(self) -> None:
        started = time.perf_counter()
        try:
            result = run_engine_tick(self.heartbeat, should_stop=self.stop.is_set)
            ENGINE_TICK_SECONDS.observe(time.perf_counter() - started)
        except DBAPIError as error:
            db.session.rollback()
            log.warning("paging engine pass failed, the database is unreachable (%s); trying again",
                        error.__class__.__name__)
            self.stop.wait(1.0)
            return
        except Exception:  # a bug must not stop paging: log it and go on with the next pass
            db.session.rollback()
            log.exception("paging engine pass failed")
            self.stop.wait(1.0)
            return
        if any(result.values()):
            log.info("paging engine: %s", ", ".join(f"{k} {v}" for k, v in result.items() if v))

    def _wait(self, longest: float) -> None:
        """Sleep until something is due, a NOTIFY arrives, `stop` is set, or `longest` seconds have passed."""
        deadline = time.monotonic() + longest
        try:
            due = next_wake(utcnow())
        except DBAPIError:
            db.session.rollback()
            due = None
        if due is not None:
            deadline = min(deadline, time.monotonic() + max((due - utcnow()).total_seconds(), 0.0))
        if db.engine.dialect.name == "postgresql" and self._listen():
            self._wait_for_notify(deadline)
        else:
            self._poll_until(deadline)

    def _poll_until(self, deadline: float) -> None:
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self.stop.wait(min(SQLITE_POLL_SECONDS, left)):
                return
            try:
                if db.session.scalar(select(OutboundMessage.id).where(
                        OutboundMessage.status == MessageStatus.PENDING.value,
                        OutboundMessage.due_at <= utcnow()).limit(1)) is not None:
                    return
            except DBAPIError:
                pass
            finally:
                db.session.rollback()

    # --- PostgreSQL: LISTEN on a connection of its own ----------------------------------------------

    def _listen(self) -> bool:
        if self.listener is not None and not self.listener.closed:
            return True
        import psycopg

        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            self.listener = psycopg.connect(url, autocommit=True, connect_timeout=5)
            self.listener.execute(f"LISTEN {WAKE_CHANNEL}")
            return True
        except psycopg.Error as error:
            log.warning("cannot LISTEN for new pages (%s): polling instead", error.__class__.__name__)
            self._close_listener()
            return False

    def _wait_for_notify(self, deadline: float) -> None:
        import psycopg

        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                # Short slices, so that a stop request is seen within half a second.
                for _note in self.listener.notifies(timeout=min(left, 0.5), stop_after=1):
                    return
            except psycopg.Error:
                self._close_listener()
                self._poll_until(deadline)
                return

    def _close_listener(self) -> None:
        if self.listener is not None:
            try:
                self.listener.close()
            except Exception:  # closing a broken connection may raise; it is gone either way
                pass
            self.listener = None
