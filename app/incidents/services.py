"""Incidents: declare one, attach alerts, change its severity, hand roles over, correct its instants, add notes.

Every function here checks everything before it writes, then commits once, so a refusal leaves nothing half
written. Other domains call `record_event` (put something on an incident's timeline), `link_runbook` and
`record_runbook_use` (a runbook in use, by its catalog slug, and the outcome of a run); those three join the
caller's transaction and leave the commit to it.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.alerting import services as alerting
from app.alerting.models import Alert, AlertStatus
from app.auth.models import User
from app.auth.roles import Role
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.incidents import links, paging, review_due, subscriptions
from app.incidents.links import link_runbook, record_runbook_use
from app.incidents.models import INSTANTS, OPEN_STATUS_VALUES, ROLES, Incident, IncidentAlert, Status
from app.incidents.severities import severity_for
from app.incidents.timeline import record_event, storable_id
from app.timeutil import as_utc, utcnow

__all__ = ["WORKERS", "record_event", "link_runbook", "record_runbook_use", "get_incident", "declare",
           "attach_alert", "change_severity", "hand_over", "edit_instant", "add_note", "locked"]

# Who declares and works incidents; executives read, subscribe and receive updates.
WORKERS = frozenset({Role.ADMIN, Role.CRISIS_TEAM, Role.RESPONDER})
TITLE_MAX, SUMMARY_MAX, NOTE_MAX, REASON_MAX = 200, 10_000, 4000, 500


def get_incident(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id) if storable_id(incident_id) else None
    if incident is None:
        raise NotFound("No such incident.")
    return incident


def open_incidents_for(person: User, limit: int = 10) -> list[Incident]:
    """Open incidents in which the person holds a role (commander, communications, scribe, operations)."""
    return list(db.session.scalars(select(Incident).where(
        Incident.status.in_(OPEN_STATUS_VALUES),
        or_(Incident.commander_id == person.id, Incident.communications_id == person.id,
            Incident.scribe_id == person.id, Incident.operations_id == person.id))
        .order_by(Incident.declared_at.desc(), Incident.id.desc()).limit(limit)))


def locked(incident_id: int) -> Incident:
    """The incident, its row locked until commit on PostgreSQL: two people writing at once take turns, so both
    writes land, in order, each judged on what the other wrote (SQLite has one writer anyway)."""
    # The lock is taken on the bare row: PostgreSQL refuses FOR UPDATE across the eager outer joins.
    if not storable_id(incident_id) or db.session.scalar(
            select(Incident.id).where(Incident.id == incident_id).with_for_update()) is None:
        raise NotFound("No such incident.")
    return db.session.get(Incident, incident_id, populate_existing=True)


class AlertMoved(Conflict):
    """An alert taken into the incident was changed by the paging engine at the same moment: nothing was saved."""


@contextmanager
def committing_alert_changes() -> Iterator[None]:
    """Run the block and commit: a block that acknowledges an alert may find its compare-and-set version moved
    on by the paging engine (at a flush or at the commit); then nothing is saved and AlertMoved says so."""
    try:
        yield
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise AlertMoved("The alert changed at that very moment (the paging engine moved it on): try again.",
                         "alert_id") from None


# --- checking input -------------------------------------------------------------------------------------------

def clean_text(value: object, field: str, limit: int, *, required: str | None = None) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise Invalid(required, field)
    if len(text) > limit:
        raise Invalid(f"At most {limit} characters.", field)
    if "\x00" in text:
        raise Invalid("Remove the NUL character.", field)
    return text


def worker(user_id: object, field: str, what: str = "commander") -> User:
    """An active person who may work incidents (responder, crisis team, admin)."""
    person = db.session.get(User, user_id) if storable_id(user_id) else None
    if person is None or not person.active:
        raise Invalid(f"Choose an active person as {what}.", field)
    if person.role not in WORKERS:
        raise Invalid(f"The {what} must be a responder, on the crisis team or an administrator.", field)
    return person


def active_person(user_id: object, field: str) -> User:
    person = db.session.get(User, user_id) if storable_id(user_id) else None
    if person is None or not person.active:
        raise Invalid("Choose an active person.", field)
    return person


def past_instant(value: datetime | None, field: str) -> datetime | None:
    """An aware instant not in the future (None passes)."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid("Give the time with its offset (e.g. 2026-11-23T15:00+00:00).", field)
    if as_utc(value) > utcnow():
        raise Invalid("That time is in the future.", field)
    return as_utc(value)


ORDER = (("started_at", "detected_at"), ("detected_at", "declared_at"), ("detected_at", "acknowledged_at"),
         ("detected_at", "mitigated_at"), ("mitigated_at", "resolved_at"), ("detected_at", "resolved_at"),
         ("resolved_at", "closed_at"))


def check_order(values: dict[str, datetime | None], blame: str) -> None:
    """Instants happen in order (started <= detected <= declared, ...); Invalid naming `blame` otherwise."""
    for earlier, later in ORDER:
        first, second = values.get(earlier), values.get(later)
        if first is not None and second is not None and first > second:
            raise Invalid(f"{INSTANTS[earlier]} cannot come after {INSTANTS[later].lower()} "
                          f"({first:%Y-%m-%d %H:%M} UTC > {second:%Y-%m-%d %H:%M} UTC).", blame)


def open_alert_for_incident(alert_id: object, field: str = "alert_id") -> Alert:
    """An alert that exists and is not part of an incident yet."""
    alert = db.session.get(Alert, alert_id) if storable_id(alert_id) else None
    if alert is None:
        raise Invalid("No such alert.", field)
    taken = db.session.scalar(select(IncidentAlert.incident_id).where(IncidentAlert.alert_id == alert.id))
    if taken is not None:
        raise Conflict(f"Alert #{alert.id} is already part of INC-{taken}.", field)
    return alert


def _attach(incident: Incident, alert: Alert, role: str, actor: str) -> None:
    """Attach in a savepoint: an alert attached by someone else meanwhile is a conflict, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.add(IncidentAlert(incident_id=incident.id, alert_id=alert.id, role=role, attached_by=actor,
                                         attached_at=utcnow()))
    except IntegrityError:
        raise Conflict(f"Alert #{alert.id} was just attached to another incident.", "alert_id") from None


def _acknowledge_for(incident: Incident, alert: Alert, person: User) -> None:
    """An alert taken into an incident is being worked: it stops paging (acknowledged by whoever took it in),
    and does not page again when its acknowledgement times out: the incident's update cadence takes over."""
    if alert.status == AlertStatus.TRIGGERED.value:
        alerting.acknowledge(alert, actor=person.name, via=f"{incident.code}")
    alerting.hold(alert, actor=person.name, reason=f"part of {incident.code}, followed up there.")


# --- declaring --------------------------------------------------------------------------------------------------

def declare(*, title: str, severity: str, declared_by: User, summary: str = "", commander_id: int | None = None,
            alert_id: int | None = None, job_id: int | None = None, risk_id: int | None = None,
            started_at: datetime | None = None, detected_at: datetime | None = None) -> Incident:
    """Open an incident and commit once: its alert attached (and acknowledged), what it touches linked, the
    executives subscribed (SEV1/SEV2), the commander paged unless they declared it, the severity's policy paged.

    Detected defaults to the alert's creation (or now); acknowledged is now when the commander declares it.
    """
    title = clean_text(title, "title", TITLE_MAX, required="Say in a few words what is wrong.")
    summary = clean_text(summary, "summary", SUMMARY_MAX)
    sev = severity_for(severity)
    commander = worker(declared_by.id if commander_id is None else commander_id, "commander_id")
    alert = open_alert_for_incident(alert_id) if alert_id is not None else None
    now = utcnow()
    started = past_instant(started_at, "started_at")
    detected = past_instant(detected_at, "detected_at") or (alert.created_at if alert else now)
    check_order({"started_at": started, "detected_at": detected, "declared_at": now}, "started_at")
    job_link = links.checked_target("job", job_id) if job_id is not None else None
    risk_link = links.checked_target("risk", risk_id) if risk_id is not None else None

    with committing_alert_changes():
        incident = Incident(title=title, summary=summary, severity=sev, status=Status.INVESTIGATING.value,
                            started_at=started, detected_at=detected, declared_at=now, declared_by_id=declared_by.id,
                            commander_id=commander.id, created_at=now,
                            acknowledged_at=now if commander.id == declared_by.id else None)
        db.session.add(incident)
        db.session.flush()
        record_event(incident, kind="declared", actor=declared_by.name, at=now,
                     text=f"Declared {sev.code} by {declared_by.name}; commander {commander.name}."
                     + (f" From alert #{alert.id}: {alert.summary}" if alert else ""))
        if alert is not None:
            _attach(incident, alert, "declared_from", declared_by.name)
            _acknowledge_for(incident, alert, declared_by)
            job_link = job_link or links.job_of_alert(alert)
        for target in (job_link, risk_link):
            if target is not None:
                links.add_link_unchecked(incident, target, actor=declared_by)
        subscriptions.subscribe_executives(incident)
        if commander.id != declared_by.id:
            paging.page_commander(incident, commander, by=declared_by)
        paging.page_severity_policy(incident, by=declared_by)
    return incident


def attach_alert(incident: Incident, *, alert_id: object, actor: User) -> Incident:
    """Attach another alert (it then shows as part of the incident everywhere, and while the incident is open it
    is acknowledged and stops paging, like the one it was declared from); commits."""
    if incident.state is Status.CLOSED:
        raise Conflict(f"{incident.code} is closed.", "alert_id")
    alert = open_alert_for_incident(alert_id)
    with committing_alert_changes():
        _attach(incident, alert, "attached", actor.name)
        if incident.is_open:
            _acknowledge_for(incident, alert, actor)
        record_event(incident, kind="alert", actor=actor.name,
                     text=f"Alert #{alert.id} attached by {actor.name}: {alert.summary} ({alert.status}).")
    return incident


# --- changing it ------------------------------------------------------------------------------------------------

def change_severity(incident: Incident, *, severity: str, actor: User, reason: str = "") -> Incident:
    """Re-grade the incident; raising it to SEV1/SEV2 subscribes the executives and pages that severity's policy."""
    sev = severity_for(severity)
    reason = clean_text(reason, "reason", REASON_MAX)
    if incident.state is Status.CLOSED:
        raise Conflict(f"{incident.code} is closed.", "severity")
    if sev.id == incident.severity_id:
        raise Invalid(f"{incident.code} is already {sev.code}.", "severity")
    before = incident.severity.code
    incident.severity = sev
    record_event(incident, kind="severity", actor=actor.name,
                 text=f"Severity {before} -> {sev.code} by {actor.name}." + (f" {reason}" if reason else ""))
    subscriptions.subscribe_executives(incident)
    if incident.is_open:
        paging.page_severity_policy(incident, by=actor)
    db.session.commit()
    return incident


def hand_over(incident: Incident, *, role: str, user_id: int | None, actor: User) -> Incident:
    """Give a role to someone else (or nobody, except the commander); the new commander is paged, unless they
    took it themselves; the hand-over goes on the timeline."""
    if role not in ROLES:
        raise Invalid(f"Choose one of: {', '.join(ROLES)}.", "role")
    if incident.state is Status.CLOSED:
        raise Conflict(f"{incident.code} is closed.", "role")
    if role == "commander":
        person = worker(user_id, "user_id")
    else:
        person = active_person(user_id, "user_id") if user_id is not None else None
    before: User | None = getattr(incident, role)
    if (before.id if before else None) == (person.id if person else None):
        raise Invalid(f"{person.name if person else 'Nobody'} already holds that role.", "user_id")
    setattr(incident, f"{role}_id", person.id if person else None)
    label = ROLES[role]
    record_event(incident, kind="role", actor=actor.name,
                 text=f"{label}: {before.name if before else 'nobody'} -> {person.name if person else 'nobody'} "
                      f"(by {actor.name}).")
    if person is not None and person.id != actor.id:
        if role == "commander" and incident.is_open:
            paging.page_commander(incident, person, by=actor)
        else:
            subscriptions.tell_role(incident, person, label, by=actor)
    db.session.commit()
    return incident


def _shown_instant(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "empty"


def edit_instant(incident: Incident, *, name: str, value: datetime | None, reason: str, actor: User) -> Incident:
    """Correct one of the instants with a reason (on the timeline); the order of instants must still hold."""
    if name not in INSTANTS:
        raise Invalid(f"Choose one of: {', '.join(INSTANTS)}.", "name")
    reason = clean_text(reason, "reason", REASON_MAX, required="Say why the time changes.")
    value = past_instant(value, "value")
    if value is None and name in ("detected_at", "declared_at", "resolved_at", "closed_at"):
        raise Invalid(f"{INSTANTS[name]} cannot be left empty.", "value")
    if name == "resolved_at" and incident.resolved_at is None:
        raise Invalid("The incident is not resolved: resolve it to set that time.", "name")
    if name == "closed_at" and incident.closed_at is None:
        raise Invalid("The incident is not closed.", "name")
    values = {field: getattr(incident, field) for field in INSTANTS}
    values[name] = value
    check_order(values, "value")
    before = getattr(incident, name)
    setattr(incident, name, value)
    record_event(incident, kind="instant", actor=actor.name,
                 text=f"{INSTANTS[name]} changed from {_shown_instant(before)} to {_shown_instant(value)} "
                      f"by {actor.name}: {reason}")
    if name == "resolved_at":
        review_due.reschedule(incident)
    db.session.commit()
    return incident


def add_note(incident: Incident, *, text: str, actor: User, happened_at: datetime | None = None) -> Incident:
    """A note by anyone working it, optionally for something that happened earlier (never in the future)."""
    text = clean_text(text, "text", NOTE_MAX, required="Write the note.")
    at = past_instant(happened_at, "happened_at")
    if incident.state is Status.CLOSED:
        raise Invalid(f"{incident.code} is closed: its timeline is the record now.", "text")
    record_event(incident, kind="note", actor=actor.name, at=at, text=text)
    db.session.commit()
    return incident
