"""The engine tick, run every few seconds by the scheduler: acknowledgement timeouts, escalation, sending.

Every step is safe with two scheduler processes on one PostgreSQL: alert changes are compare-and-set on
the alert's version (the loser rolls back), and messages are claimed before they are sent.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.alerting import timeline
from app.alerting.escalation import restart_escalation, run_step
from app.alerting.health import ENGINE_HEARTBEAT
from app.alerting.models import Alert, AlertStatus
from app.alerting.outbox import release_stale_claims, send_due_messages
from app.extensions import db
from app.system.services import record_heartbeat
from app.timeutil import utcnow

log = logging.getLogger("quarterdeck.engine")
BATCH = 200


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


def run_engine_tick() -> dict[str, int]:
    """One pass of the paging engine; returns what it did (the scheduler logs it)."""
    now = utcnow()
    result = {"reopened": reopen_unresolved_acknowledgements(now), "escalated": advance_escalations(now),
              "reclaimed": release_stale_claims(now), "sent": send_due_messages()}
    try:
        record_heartbeat(ENGINE_HEARTBEAT)
    except IntegrityError:
        db.session.rollback()  # two engines wrote their first beat at once; the other one's counts
    return result
