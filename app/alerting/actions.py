"""Services behind the alert pages and API: listing alerts, where escalation stands, paging someone now,
and test messages to a person's contact methods.

Paging goes through the outbox like every other page: these functions write rows and commit once; the
engine tick sends them. Nothing here sends inside a web request.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import Select, case, func, select

from app.alerting import services
from app.alerting.channels import fit_one_segment
from app.alerting.escalation import UPDATE
from app.alerting.models import SEVERITIES, Alert, AlertEvent, AlertStatus, MessageStatus, OutboundMessage
from app.alerting.notices import wake_engine
from app.auth.models import User
from app.auth.roles import EDITORS, Role
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.oncall.models import ContactMethod
from app.timeutil import utcnow

# Who may acknowledge, resolve and escalate alerts, and raise them through the API: executives only read.
ACTORS = frozenset({Role.ADMIN, Role.CRISIS_TEAM, Role.RESPONDER})
OPEN = "open"  # a list filter: triggered or acknowledged
STATUS_FILTERS = (OPEN, *(status.value for status in AlertStatus))
TEST_MESSAGE_PAUSE = timedelta(minutes=1)  # one batch of test messages per person per minute


# --- reading -----------------------------------------------------------------------------------------------

_OPEN_FIRST = case((Alert.status == AlertStatus.TRIGGERED.value, 0),
                   (Alert.status == AlertStatus.ACKNOWLEDGED.value, 1), else_=2)
ALERT_ORDER = [_OPEN_FIRST, Alert.created_at.desc(), Alert.id.desc()]


def alerts_matching(*, status: str | None = None, severity: str | None = None) -> Select:
    """Alerts to list, unordered; Invalid naming the filter that is not one of the offered values."""
    if status and status not in STATUS_FILTERS:
        raise Invalid(f"Use one of: {', '.join(STATUS_FILTERS)}.", "status")
    if severity and severity not in SEVERITIES:
        raise Invalid(f"Use one of: {', '.join(SEVERITIES)}.", "severity")
    query = select(Alert)
    if status == OPEN:
        query = query.where(Alert.status != AlertStatus.RESOLVED.value)
    elif status:
        query = query.where(Alert.status == status)
    if severity:
        query = query.where(Alert.severity == severity)
    return query


def alert_query(*, status: str | None = None, severity: str | None = None) -> Select:
    """Alerts to list: open first (triggered, then acknowledged), newest first, then resolved, newest first."""
    return alerts_matching(status=status, severity=severity).order_by(*ALERT_ORDER)


def alerts_page(*, status: str | None = None, severity: str | None = None, after: str | None = None,
                before: str | None = None, per_page: int = 50) -> KeysetPage:
    """One page of the alert list in alert_query's order, after or before a cursor (app/keyset.py)."""
    return keyset_page(alerts_matching(status=status, severity=severity), ALERT_ORDER, after=after, before=before,
                       per_page=per_page)


def open_alert_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Alert)
                             .where(Alert.status != AlertStatus.RESOLVED.value)) or 0


# The id breaks ties in each order, which keyset pages need; each has an index (alerting/models.py).
TIMELINE_ORDER = [AlertEvent.at, AlertEvent.id]
ALERT_MESSAGE_ORDER = [OutboundMessage.created_at, OutboundMessage.id]
INBOX_ORDER = [OutboundMessage.created_at.desc(), OutboundMessage.id.desc()]


def timeline_query(alert: Alert) -> Select:
    """The alert's timeline, oldest first."""
    return select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(*TIMELINE_ORDER)


def timeline_page(alert: Alert, *, after: str | None = None, before: str | None = None,
                  per_page: int = 50) -> KeysetPage:
    """One page of the alert's timeline, oldest first, after or before a cursor (app/keyset.py)."""
    return keyset_page(select(AlertEvent).where(AlertEvent.alert_id == alert.id), TIMELINE_ORDER, after=after,
                       before=before, per_page=per_page)


def messages_query(alert: Alert) -> Select:
    """Every message written for the alert, in the order they were queued."""
    return select(OutboundMessage).where(OutboundMessage.alert_id == alert.id).order_by(*ALERT_MESSAGE_ORDER)


def messages_page(alert: Alert, *, after: str | None = None, before: str | None = None,
                  per_page: int = 50) -> KeysetPage:
    """One page of the alert's messages in the order they were queued, after or before a cursor."""
    return keyset_page(select(OutboundMessage).where(OutboundMessage.alert_id == alert.id), ALERT_MESSAGE_ORDER,
                       after=after, before=before, per_page=per_page)


def messages_to_page(user_id: int, *, after: str | None = None, before: str | None = None,
                     per_page: int = 50) -> KeysetPage:
    """One page of everything sent to a person, newest first, after or before a cursor."""
    return keyset_page(select(OutboundMessage).where(OutboundMessage.user_id == user_id), INBOX_ORDER,
                       after=after, before=before, per_page=per_page)


@dataclass(frozen=True)
class EscalationPosition:
    """Where an alert's escalation stands, for people: step numbers and rounds count from 1."""

    policy_name: str | None
    steps: int
    rounds: int  # how many times the policy runs in all (1 + its repeats)
    last_paged_step: int | None  # the step paged most recently
    next_step: int | None  # the step paged next, when escalation goes on
    round: int  # the round the next step belongs to (or the last one, when exhausted)
    next_at: datetime | None
    exhausted: bool


def escalation_position(alert: Alert) -> EscalationPosition:
    """Read the alert's escalation pointer (the index of the next step to run) as step N of M, round R."""
    snapshot: dict[str, Any] = alert.policy_snapshot or {}
    steps = len(snapshot.get("steps", []))
    rounds = int(snapshot.get("repeat", 0) or 0) + 1
    pointer, current_round = alert.escalation_step, alert.escalation_round + 1
    if not steps:
        return EscalationPosition(None, 0, 1, None, None, 1, None, True)
    if alert.escalation_exhausted:
        last = min(pointer, steps - 1) + 1
        return EscalationPosition(snapshot.get("name"), steps, rounds, last, None, current_round, None, True)
    if pointer > 0:
        last = pointer
    else:
        last = steps if alert.escalation_round > 0 else None  # 0 in a later round: the previous round's last
    waiting = alert.status == AlertStatus.TRIGGERED.value
    return EscalationPosition(snapshot.get("name"), steps, rounds, last, pointer + 1, current_round,
                              alert.next_escalation_at if waiting else None, False)


# --- paging someone now ------------------------------------------------------------------------------------

def page_person_now(*, summary: str, details: str = "", severity: str = "critical", user_id: int,
                    created_by: User) -> Alert:
    """Raise a manual alert that pages one person through their notification rules; commits once.

    It escalates by an ad hoc one-step policy (services.direct_page_snapshot: no repeats; pages again 60 minutes
    after an acknowledgement unless resolved), so the person's SMS, voice and email rules apply as for any page.
    """
    alert, _created = services.raise_alert(summary=summary, details=details, source="manual", severity=severity,
                                           page_user_id=user_id, created_by=created_by)
    db.session.commit()
    return alert


def page_now(*, summary: str, details: str = "", severity: str = "critical", escalation_policy_id: int | None = None,
             user_id: int | None = None, created_by: User) -> Alert:
    """Raise a manual alert for exactly one of an escalation policy or a person; commits once."""
    if (escalation_policy_id is None) == (user_id is None):
        raise Invalid("Choose an escalation policy or a person (one of them).", "target")
    if user_id is not None:
        return page_person_now(summary=summary, details=details, severity=severity, user_id=user_id,
                               created_by=created_by)
    alert, _created = services.raise_alert(summary=summary, details=details, source="manual", severity=severity,
                                           escalation_policy_id=escalation_policy_id, created_by=created_by)
    db.session.commit()
    return alert


def raise_from_api(*, summary: str, details: str = "", severity: str = "critical", dedup_key: str | None = None,
                   escalation_policy_id: int | None = None, created_by: User) -> tuple[Alert, bool]:
    """Raise (or merge into the open alert with the same dedup key) and commit; (alert, created)."""
    alert, created = services.raise_alert(summary=summary, details=details, source="api", severity=severity,
                                          dedup_key=dedup_key, escalation_policy_id=escalation_policy_id,
                                          created_by=created_by)
    db.session.commit()
    return alert, created


# --- test messages -----------------------------------------------------------------------------------------

def can_test_methods(actor: User, person: User) -> bool:
    """A person tests their own methods; the crisis team and admins test anyone's."""
    return actor.id == person.id or actor.role in EDITORS


def ensure_can_test_methods(actor: User, person: User) -> None:
    if not can_test_methods(actor, person):
        raise Forbidden(f"Only {person.name} or the crisis team may send test messages to {person.name}.")


def usable_methods(person: User) -> list[ContactMethod]:
    return list(db.session.scalars(select(ContactMethod).where(
        ContactMethod.user_id == person.id, ContactMethod.verified_at.is_not(None),
        ContactMethod.disabled_at.is_(None)).order_by(ContactMethod.kind, ContactMethod.id)))


def _test_text(method: ContactMethod, person: User, actor: User) -> tuple[str, str]:
    """(subject, body) of a test message; email's first template line is its subject."""
    kind = method.kind.value
    text = render_template("messages/test_message.txt", kind=kind, name=person.name,
                           asked_by=None if actor.id == person.id else actor.name).strip()
    if kind == "email":
        subject, _, body = text.partition("\n")
        return subject.strip()[:200], body.strip()
    return "", fit_one_segment(text) if kind == "sms" else text  # one GSM-7 segment, however long the names


def queue_test_messages(*, actor: User, person: User) -> list[OutboundMessage]:
    """Queue one test message per verified, enabled method of `person` in the outbox; commits once.

    Refused for someone else's methods unless the actor is on the crisis team or an admin, when the person
    has no usable method, and within a minute of the last batch (a double click sends one batch).
    """
    ensure_can_test_methods(actor, person)
    methods = usable_methods(person)
    if not methods:
        raise Invalid(f"{person.name} has no verified, enabled contact method to test: add one and verify it "
                      "first.", "contact_method")
    now = utcnow()
    recent = db.session.scalar(select(func.max(OutboundMessage.created_at)).where(
        OutboundMessage.user_id == person.id, OutboundMessage.purpose == "test"))
    if recent is not None and recent > now - TEST_MESSAGE_PAUSE:
        raise Conflict("Test messages were queued less than a minute ago: wait for them (see Messages) "
                       "before sending more.")
    queued = []
    for method in methods:
        subject, body = _test_text(method, person, actor)
        message = OutboundMessage(user_id=person.id, contact_method_id=method.id, alert_id=None, channel="",
                                  kind=method.kind.value, address=method.address, purpose="test", subject=subject,
                                  body=body, status=MessageStatus.PENDING.value, priority=UPDATE, due_at=now,
                                  created_at=now, attempts=0)
        db.session.add(message)
        queued.append(message)
    wake_engine()
    db.session.commit()
    return queued


def get_person(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFound("No such person.")
    return person
