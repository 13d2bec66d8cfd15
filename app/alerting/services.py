"""Alerts: raise (with de-duplication), acknowledge, resolve, escalate. The one door into paging.

`raise_alert` and `resolve_by_dedup_key` join the caller's transaction (the outbox pattern: an alert and
its first messages commit together with the change that caused them). The other actions are called by
people (web, API, SMS, voice) and commit; they retry when an engine process changed the alert meanwhile.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.alerting import timeline
from app.alerting.escalation import run_step
from app.alerting.hooks import alert_changed
from app.alerting.models import SEVERITIES, SOURCES, Alert, AlertStatus, MessageStatus, OutboundMessage
from app.alerting.notices import NORMAL, URGENT, queue_notice, wake_engine
from app.auth.models import User
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.oncall.close_mode import SNAPSHOT_VERSION, snapshot_policy
from app.oncall.models import EscalationPolicy
from app.timeutil import utcnow

SUMMARY_MAX, DETAILS_MAX, DEDUP_MAX = 200, 10_000, 200
DIRECT_PAGE_DELAY, DIRECT_PAGE_ACK_TIMEOUT = 5, 60
T = TypeVar("T")
__all__ = ["NORMAL", "URGENT", "queue_notice", "raise_alert", "resolve_by_dedup_key", "acknowledge", "resolve",
           "escalate", "hold", "act_and_commit", "get_alert", "open_alert_with_key", "clean_alert_fields",
           "wake_engine", "direct_page_snapshot"]


def clean_alert_fields(*, summary: object, details: object, source: object, severity: object,
                       dedup_key: object) -> tuple[str, str, str | None]:
    """(summary, details, dedup_key) tidied, or Invalid naming the field at fault."""
    if not isinstance(summary, str) or not summary.strip():
        raise Invalid("Say in a few words what is wrong.", "summary")
    summary = " ".join(summary.split())
    if len(summary) > SUMMARY_MAX:
        raise Invalid(f"Use at most {SUMMARY_MAX} characters.", "summary")
    details = "" if details is None else details
    if not isinstance(details, str) or len(details) > DETAILS_MAX:
        raise Invalid(f"Use at most {DETAILS_MAX} characters.", "details")
    if source not in SOURCES:
        raise Invalid(f"Use one of: {', '.join(SOURCES)}.", "source")
    if severity not in SEVERITIES:
        raise Invalid(f"Use one of: {', '.join(SEVERITIES)}.", "severity")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key.strip()) > DEDUP_MAX):
        raise Invalid(f"Use text of at most {DEDUP_MAX} characters.", "dedup_key")
    return summary, details.strip(), (dedup_key.strip() or None) if dedup_key else None


def open_alert_with_key(dedup_key: str) -> Alert | None:
    return db.session.scalar(select(Alert).where(Alert.dedup_key == dedup_key,
                                                 Alert.status != AlertStatus.RESOLVED.value))


def _merge(alert: Alert, summary: str, actor: str) -> Alert:
    alert.merged_count += 1
    alert.last_merged_at = utcnow()
    timeline.note(alert, "merged", f"Raised again: {summary}", actor=actor)
    return alert


def direct_page_snapshot(person: User) -> dict[str, Any]:
    """A one-step policy that pages only `person`, in the shape of a saved policy's snapshot."""
    return {"version": SNAPSHOT_VERSION, "policy_id": None, "name": f"Direct page to {person.name}",
            "repeat": 0, "close_mode": False, "close_mode_max_delay": 5,
            "ack_timeout_minutes": DIRECT_PAGE_ACK_TIMEOUT,
            "steps": [{"delay_minutes": DIRECT_PAGE_DELAY,
                       "targets": [{"user_id": person.id, "email": person.email, "name": person.name}]}]}


def _active_person(user_id: object) -> User:
    person = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if person is None or not person.active:
        raise Invalid("Choose an active person.", "user_id")
    return person


def raise_alert(*, summary: str, details: str = "", source: str, severity: str = "critical",
                dedup_key: str | None = None, escalation_policy_id: int | None = None,
                page_user_id: int | None = None, created_by: User | None = None) -> tuple[Alert, bool]:
    """Write an alert and its first messages in the caller's transaction; (alert, False) when it merged.

    It escalates by the policy given (the caller passes its source's: a job's, a monitoring mapping's), or pages
    one person (`page_user_id`: an ad hoc one-step policy through their own notification rules, paging again
    60 minutes after an acknowledgement unless resolved), else by the organisation's fallback policy; with
    none, nobody can be paged and /healthz says so.
    A second alert whose dedup key matches an open one adds to it instead of paging again, also when
    both arrive at the same moment (a unique index on open keys decides). Does not commit.
    """
    summary, details, dedup_key = clean_alert_fields(summary=summary, details=details, source=source,
                                                     severity=severity, dedup_key=dedup_key)
    if escalation_policy_id is not None and page_user_id is not None:
        raise Invalid("Choose an escalation policy or a person (one of them).", "target")
    person = _active_person(page_user_id) if page_user_id is not None else None
    actor = created_by.name if created_by is not None else source
    if dedup_key is not None and (existing := open_alert_with_key(dedup_key)) is not None:
        return _merge(existing, summary, actor), False
    policy = None
    if escalation_policy_id is not None:
        policy = db.session.get(EscalationPolicy, escalation_policy_id)
        if policy is None:
            raise Invalid("No such escalation policy.", "escalation_policy_id")
    snapshot = snapshot_policy(policy) if policy else direct_page_snapshot(person) if person else None
    now = utcnow()
    alert = Alert(summary=summary, details=details, source=source, severity=severity, dedup_key=dedup_key,
                  status=AlertStatus.TRIGGERED.value, created_at=now, created_by_id=created_by.id if created_by else None,
                  policy_id=policy.id if policy else None, policy_snapshot=snapshot,
                  escalation_started_at=now, next_escalation_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(alert)
            db.session.flush()
    except IntegrityError:
        # Another request opened an alert with this key between our check and our insert.
        existing = open_alert_with_key(dedup_key) if dedup_key else None
        if existing is None:
            raise
        return _merge(existing, summary, actor), False
    how = (f"; escalates by {policy.name}." if policy else f"; pages {person.name} directly." if person else ".")
    timeline.note(alert, "triggered", f"Raised by {actor}" + (f" ({source})" if created_by else "") + how,
                  actor=actor)
    run_step(alert, now)
    wake_engine()  # the first pages leave as soon as this commits, not at the next tick
    return alert, True


def get_alert(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("No such alert.")
    return alert


def _drop_pending(alert: Alert, reason: str) -> int:
    """Cancel the alert's messages still in the outbox; each keeps the reason as its outcome."""
    result = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.alert_id == alert.id, OutboundMessage.status == MessageStatus.PENDING.value)
        .values(status=MessageStatus.DROPPED.value, last_error=reason)
        .execution_options(synchronize_session=False))
    if result.rowcount:
        timeline.note(alert, "dropped", f"{result.rowcount} queued message(s) not sent: {reason}.")
    return result.rowcount


def acknowledge(alert: Alert, *, actor: str, via: str) -> bool:
    """Stop escalation; False (and nothing changes) when it was already acknowledged or is resolved."""
    if alert.status != AlertStatus.TRIGGERED.value:
        return False
    now = utcnow()
    timeout = int((alert.policy_snapshot or {}).get("ack_timeout_minutes", 0) or 0)
    alert.status, alert.acknowledged_at, alert.acknowledged_by = AlertStatus.ACKNOWLEDGED.value, now, actor
    alert.next_escalation_at = None
    alert.ack_deadline = now + timedelta(minutes=timeout) if timeout else None
    timeline.note(alert, "acknowledged", f"Acknowledged by {actor} via {via}."
                  + (f" Pages again unless resolved within {timeout} min." if timeout else ""), actor=actor)
    _drop_pending(alert, "the alert was acknowledged")
    alert_changed(alert, "acknowledged", actor)
    return True


def hold(alert: Alert, *, actor: str, reason: str) -> bool:
    """An acknowledged alert stops counting down to paging again (someone else now follows it up, e.g. an
    incident with its own update cadence); False when it had no acknowledgement timeout running."""
    if alert.status != AlertStatus.ACKNOWLEDGED.value or alert.ack_deadline is None:
        return False
    alert.ack_deadline = None
    timeline.note(alert, "held", f"No page when the acknowledgement times out: {reason}", actor=actor)
    return True


def resolve(alert: Alert, *, actor: str, via: str, note: str = "") -> bool:
    """Close the alert for good; False when it was already resolved."""
    if alert.status == AlertStatus.RESOLVED.value:
        return False
    alert.status, alert.resolved_at, alert.resolved_by = AlertStatus.RESOLVED.value, utcnow(), actor
    alert.next_escalation_at = alert.ack_deadline = None
    timeline.note(alert, "resolved", f"Resolved by {actor} via {via}." + (f" {note}" if note else ""), actor=actor)
    _drop_pending(alert, "the alert was resolved")
    alert_changed(alert, "resolved", actor)
    return True


def escalate(alert: Alert, *, actor: str, via: str) -> bool:
    """Page the next step now (also from acknowledged: the pointer still names the step after the last one
    paged); when the policy was exhausted its last step pages again. False when the alert is resolved."""
    if alert.status == AlertStatus.RESOLVED.value:
        return False
    timeline.note(alert, "escalate", f"{actor} asked to escalate now via {via}.", actor=actor)
    if alert.escalation_exhausted and alert.policy_snapshot:
        alert.escalation_exhausted = False
        alert.escalation_step = max(len(alert.policy_snapshot["steps"]) - 1, 0)
    alert.status, alert.ack_deadline = AlertStatus.TRIGGERED.value, None
    run_step(alert, utcnow())
    return True


def resolve_by_dedup_key(dedup_key: str, *, note: str, resolved_by: User | None = None) -> Alert | None:
    """Resolve the open alert with this key in the caller's transaction; None when none is open."""
    alert = open_alert_with_key(dedup_key)
    if alert is None:
        return None
    resolve(alert, actor=resolved_by.name if resolved_by else "monitoring", via="its source", note=note)
    return alert


def act_and_commit(alert_id: int, action: Callable[[Alert], T], attempts: int = 3) -> tuple[Alert, T]:
    """Run a person's action on the freshest copy of the alert and commit; retried if an engine got there first."""
    for attempt in range(attempts):
        alert = db.session.get(Alert, alert_id, populate_existing=True)
        if alert is None:
            raise NotFound("No such alert.")
        try:
            result = action(alert)
            db.session.commit()
            return alert, result
        except StaleDataError:
            db.session.rollback()
            if attempt == attempts - 1:
                raise Conflict("The alert changed while you acted on it; look again and retry.") from None
    raise AssertionError("unreachable")  # pragma: no cover


def open_alerts_paging(user_id: int, limit: int = 10) -> list[Alert]:
    """Open alerts that have paged this person (any message about them was addressed to them), newest first."""
    paged = select(OutboundMessage.alert_id).where(OutboundMessage.user_id == user_id,
                                                   OutboundMessage.alert_id.is_not(None))
    return list(db.session.scalars(select(Alert).where(Alert.id.in_(paged),
                                                       Alert.status != AlertStatus.RESOLVED.value)
                                   .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)))


def alert_counts_by_state() -> dict[str, int]:
    """Alerts per state (every state listed), and how many triggered ones are unanswered, for metrics."""
    counts = dict(db.session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all())
    return {state.value: int(counts.get(state.value, 0)) for state in AlertStatus}


def outbox_backlog() -> tuple[int, float | None]:
    """(messages due now and not yet sent, seconds the oldest of them has waited): the engine's lag."""
    now = utcnow()
    count, oldest = db.session.execute(select(func.count(), func.min(OutboundMessage.due_at)).where(
        OutboundMessage.status == MessageStatus.PENDING.value, OutboundMessage.due_at <= now)).one()
    return int(count), (now - oldest).total_seconds() if oldest is not None else None


def dedup_keys_seen(since, until) -> list[str]:
    """The distinct dedup keys of alerts raised in [since, until), sorted (read-only, for coverage reports)."""
    return list(db.session.scalars(select(Alert.dedup_key).where(
        Alert.dedup_key.is_not(None), Alert.created_at >= since, Alert.created_at < until)
        .distinct().order_by(Alert.dedup_key)))
