"""Demo incidents: a resolved SEV2 from ten days ago whose completed review put a lesson into readiness and a
follow-up risk into the register, and an open SEV3 being worked now (two updates, a task, what it touches).

The records are written directly with their past times (the services stamp everything "now" and would send
updates about events that happened weeks ago); the review's hand-over goes through the review's own service, so
the lesson and the risk land exactly where a real review puts them. Safe to run twice: it does nothing once any
incident exists.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.services import find_user_by_email
from app.extensions import db
from app.incidents import links, review, review_due
from app.incidents.models import (Incident, IncidentEvent, IncidentLink, IncidentRunbook, IncidentSubscription,
                                  IncidentTask, IncidentUpdate)
from app.incidents.review_models import ReviewStatus
from app.incidents.severities import ensure_defaults, severity_for
from app.timeutil import utcnow

RESOLVED_TITLE = "Bookings load stalled: orders not reaching the ERP"
OPEN_TITLE = "EU order sync slow: orders arriving 20 minutes late"


def _minute(at):
    return at.replace(second=0, microsecond=0)


def _event(incident: Incident, at, kind: str, actor: str, text: str) -> None:
    db.session.add(IncidentEvent(incident_id=incident.id, at=at, recorded_at=at, kind=kind, actor=actor, text=text))


def _update(incident: Incident, at, status: str, message: str, author, recipients: int = 0) -> None:
    db.session.add(IncidentUpdate(incident_id=incident.id, at=at, status=status, message=message,
                                  author_id=author.id, author_name=author.name, recipients=recipients))
    _event(incident, at, "update", author.name, f"Update ({status}) sent to {recipients} subscriber(s): {message}")


def _link(incident: Incident, kind: str, label_part: str, at, actor) -> None:
    """Link the demo record whose name contains `label_part`, when the other domain's demo created it."""
    found = next(((ident, name) for ident, name in links.choices(kind) if label_part in name), None)
    if found is None:
        return
    db.session.add(IncidentLink(incident_id=incident.id, kind=kind, target_id=found[0], label=found[1][:200],
                                added_at=at, added_by=actor.name))
    _event(incident, at, "link", actor.name, f"{links.KIND_LABELS[kind]}: {found[1]}.")


def seed_demo_incidents() -> None:
    if db.session.scalar(select(Incident.id).limit(1)) is not None:
        return
    rowan, casey = find_user_by_email("oncall@acme.example"), find_user_by_email("crisis@acme.example")
    executive = find_user_by_email("exec@acme.example")
    if rowan is None or casey is None:
        return
    ensure_defaults()
    _resolved_sev2(rowan, casey, executive)
    _open_sev3(rowan, casey)


def _resolved_sev2(rowan, casey, executive) -> None:
    detected = _minute(utcnow() - timedelta(days=10, hours=3))
    declared, resolved = detected + timedelta(minutes=9), detected + timedelta(hours=2, minutes=10)
    incident = Incident(title=RESOLVED_TITLE, severity=severity_for("SEV2"), status="resolved",
                        summary="The two-hourly Bookings load has not finished since 06:00; EU orders are queued.",
                        detected_at=detected, declared_at=declared, acknowledged_at=declared,
                        mitigated_at=detected + timedelta(minutes=70), resolved_at=resolved,
                        resolution="Restarted the scheduler agent and reran the load; the queue drained by 08:10.",
                        last_update_at=resolved, declared_by_id=rowan.id, commander_id=rowan.id,
                        communications_id=casey.id, created_at=declared)
    db.session.add(incident)
    db.session.flush()
    _event(incident, declared, "declared", rowan.name, f"Declared SEV2 by {rowan.name}; commander {rowan.name}.")
    if executive is not None:
        db.session.add(IncidentSubscription(incident_id=incident.id, user_id=executive.id, source="auto",
                                            changed_at=declared))
    _link(incident, "job", "Bookings load", declared, rowan)
    _link(incident, "vendor", "BatchFlow", declared + timedelta(minutes=4), rowan)
    _event(incident, declared + timedelta(minutes=6), "role", rowan.name,
           f"Communications lead: nobody -> {casey.name} (by {rowan.name}).")
    _update(incident, declared + timedelta(minutes=15), "investigating",
            "Bookings load stuck since 06:00; EU orders queue in order management. Looking at the scheduler.",
            rowan, recipients=1)
    _update(incident, detected + timedelta(minutes=75), "monitoring",
            "Scheduler agent restarted, load rerunning; orders are flowing again. Watching the next run.",
            rowan, recipients=1)
    _event(incident, resolved, "resolved", rowan.name, f"Resolved by {rowan.name}: {incident.resolution}")
    db.session.add(IncidentUpdate(incident_id=incident.id, at=resolved, status="resolved",
                                  message=incident.resolution, author_id=rowan.id, author_name=rowan.name,
                                  recipients=1))
    pending = review_due.create_review(incident)
    pending.what_happened = ("The BatchFlow agent on the order host hung after a patch reboot; the Bookings load never "
                             "started and nothing alerted until the sales desk asked about missing orders.")
    pending.business_impact = ("412 EU orders booked about two hours late; no revenue lost; the daily flash report "
                               "ran late.")
    pending.root_cause = ("The agent does not restart itself after a reboot, and the load was not on the watch list's "
                          "paging.")
    pending.went_well = "Declared within 10 minutes; the vendor ladder got BatchFlow support on the phone at once."
    pending.went_badly = "We learned of it from the sales desk, not from monitoring."
    db.session.commit()
    review.add_lesson(pending, title="Page on a stalled bookings load before the sales desk notices",
                      recommendation="Give the Bookings load a 15-minute grace period and page the on-call.",
                      owner_id=casey.id)
    review.add_follow_up(pending, kind="risk", title="Scheduler agent does not restart after a reboot",
                         owner_id=casey.id, category="single_point_of_failure", likelihood=3, impact=4,
                         description="Until the agent restarts itself, every patch reboot can stop the order loads.")
    review.complete_review(incident, actor=rowan)
    done = review.review_of(incident)
    done.completed_at = resolved + timedelta(days=3)
    for event in db.session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                                IncidentEvent.kind == "review")):
        event.at = event.recorded_at = done.completed_at
    assert done.status == ReviewStatus.COMPLETED.value
    db.session.commit()


def _open_sev3(rowan, casey) -> None:
    now = _minute(utcnow())
    declared = now - timedelta(hours=3)
    incident = Incident(title=OPEN_TITLE, severity=severity_for("SEV3"), status="identified",
                        summary="EU orders reach the ERP about 20 minutes late; the close is not affected yet.",
                        detected_at=declared - timedelta(minutes=10), declared_at=declared, acknowledged_at=declared,
                        last_update_at=now - timedelta(hours=1), declared_by_id=casey.id, commander_id=rowan.id,
                        created_at=declared)
    db.session.add(incident)
    db.session.flush()
    _event(incident, declared, "declared", casey.name, f"Declared SEV3 by {casey.name}; commander {rowan.name}.")
    _link(incident, "job", "Order import", declared, casey)
    _link(incident, "vendor", "TransGlobe", declared + timedelta(minutes=20), rowan)
    _link(incident, "site", "Manila", declared + timedelta(minutes=25), rowan)
    db.session.add(IncidentRunbook(incident_id=incident.id, runbook_slug="vendor-escalation",
                                   title="Escalating to a vendor", added_at=declared + timedelta(minutes=12),
                                   added_by=rowan.name))
    _event(incident, declared + timedelta(minutes=12), "runbook", rowan.name,
           "Runbook in use: Escalating to a vendor.")
    _update(incident, declared + timedelta(minutes=30), "investigating",
            "EU orders arrive about 20 minutes late. Checking the WAN link to the Manila operations room.", rowan)
    _update(incident, now - timedelta(hours=1), "identified",
            "Packet loss on the TransGlobe link; traffic moved to the backup route. Orders are catching up.", rowan)
    db.session.add(IncidentTask(incident_id=incident.id, title="Rerun the EU order import once the queue drains",
                                owner_id=rowan.id, due_at=now + timedelta(hours=2), created_by=rowan.name,
                                created_at=now - timedelta(minutes=50)))
    _event(incident, now - timedelta(minutes=50), "task", rowan.name,
           "Task for Rowan Responder: Rerun the EU order import once the queue drains")
    db.session.commit()
