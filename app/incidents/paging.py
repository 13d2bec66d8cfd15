"""Paging for an incident goes through the one door, `alerting.services.raise_alert`: the commander by the
direct-page policy (their own notification rules), and for SEV1/SEV2 the escalation policy set on the
severity. Each page is an alert attached to the incident as a "page", so its acknowledgement lands on the
incident's timeline (the listener below) and the alert shows which incident it belongs to.
"""
from __future__ import annotations

from sqlalchemy import select

from app.alerting import services as alerting
from app.alerting.models import Alert
from app.auth.models import User
from app.extensions import db
from app.incidents.models import Incident, IncidentAlert
from app.incidents.timeline import record_event
from app.timeutil import utcnow

ALERT_SEVERITY = {1: "critical", 2: "critical", 3: "high", 4: "medium"}  # an incident's page, by SEV rank


def _attach_page(incident: Incident, alert: Alert, actor: str) -> None:
    exists = db.session.scalar(select(IncidentAlert.id).where(IncidentAlert.alert_id == alert.id))
    if exists is None:
        db.session.add(IncidentAlert(incident_id=incident.id, alert_id=alert.id, role="page", attached_by=actor,
                                     attached_at=utcnow()))


def page_commander(incident: Incident, commander: User, *, by: User | None) -> Alert:
    """Page the commander through their notification rules (in the caller's transaction)."""
    summary = f"{incident.code} {incident.severity.code}: you are incident commander. {incident.title}"
    alert, created = alerting.raise_alert(
        summary=summary[:200], details=incident.summary, source="incident",
        severity=ALERT_SEVERITY[incident.severity.rank], dedup_key=f"incident:{incident.id}:commander:{commander.id}",
        page_user_id=commander.id, created_by=by)
    _attach_page(incident, alert, by.name if by else "Quarterdeck")
    record_event(incident, kind="page", actor=by.name if by else "",
                 text=f"Paged {commander.name} (commander) through alert #{alert.id}."
                 + ("" if created else " The page was already open: it goes on."))
    return alert


def page_severity_policy(incident: Incident, *, by: User | None) -> Alert | None:
    """For a SEV1/SEV2 incident whose severity names a policy, page that policy; None when there is none."""
    severity = incident.severity
    if not severity.pages_policy or severity.escalation_policy_id is None:
        return None
    summary = f"{incident.code} {severity.code} declared: {incident.title}"
    alert, created = alerting.raise_alert(
        summary=summary[:200], details=incident.summary, source="incident", severity="critical",
        dedup_key=f"incident:{incident.id}:{severity.code}", escalation_policy_id=severity.escalation_policy_id,
        created_by=by)
    _attach_page(incident, alert, by.name if by else "Quarterdeck")
    policy = severity.escalation_policy.name if severity.escalation_policy else "its policy"
    record_event(incident, kind="page", actor=by.name if by else "",
                 text=f"{severity.code}: paging {policy} through alert #{alert.id}."
                 + ("" if created else " The page was already open: it goes on."))
    return alert


def resolve_open_pages(incident: Incident, *, actor: str) -> int:
    """Resolve the incident's own pages still open (the incident is resolved: nobody needs paging any more)."""
    ids = list(db.session.scalars(select(IncidentAlert.alert_id).where(
        IncidentAlert.incident_id == incident.id, IncidentAlert.role == "page")))
    resolved = 0
    for alert in db.session.scalars(select(Alert).where(Alert.id.in_(ids))) if ids else []:
        if alert.is_open:
            resolved += alerting.resolve(alert, actor=actor, via=f"{incident.code} resolved")
    return resolved


def on_alert_changed(alert: Alert, change: str, actor: str) -> None:
    """Listener (registered on alerting): an incident's page acknowledged goes on its timeline, and the first
    acknowledgement of any of its pages is the incident's acknowledged instant (someone has taken it on)."""
    if change != "acknowledged":
        return
    link = db.session.scalar(select(IncidentAlert).where(IncidentAlert.alert_id == alert.id,
                                                         IncidentAlert.role == "page"))
    if link is None:
        return
    incident = db.session.get(Incident, link.incident_id)
    record_event(incident, kind="acknowledged", actor=actor, at=alert.acknowledged_at,
                 text=f"{actor} acknowledged the page (alert #{alert.id}).")
    if incident.acknowledged_at is None:
        incident.acknowledged_at = alert.acknowledged_at or utcnow()
