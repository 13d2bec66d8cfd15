"""Reading incidents: the list with its filters (open first), open incidents for the executive page, the alerts
of an incident, and the badges alerting shows on an alert that is part of one."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import url_for
from sqlalchemy import Select, case, func, select
from werkzeug.routing import BuildError

from app.alerting.hooks import AlertBadge
from app.alerting.models import Alert
from app.calendar.services import close_region
from app.errors import Invalid
from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.incidents.models import (OPEN_STATUS_VALUES, STATUS_VALUES, Incident, IncidentAlert, IncidentUpdate,
                                  Severity)
from app.incidents.severities import CODES
from app.timeutil import FiscalQuarter, start_of_day

OPEN = "open"  # a list filter: investigating, identified or monitoring
STATUS_FILTERS = (OPEN, *STATUS_VALUES)


def quarter_bounds(quarter: FiscalQuarter) -> tuple[datetime, datetime]:
    """[start, end) of a quarter's days in the close region, as UTC instants: an incident belongs to the quarter
    the close region's date was in when it was detected (the same dates that decide the current quarter)."""
    zone = close_region().zone
    return start_of_day(quarter.first_day, zone), start_of_day(quarter.last_day + timedelta(days=1), zone)


def open_rank():
    return case((Incident.status.in_(OPEN_STATUS_VALUES), 0), (Incident.status == "resolved", 1), else_=2)


# Open first (worst severity first), then resolved, then closed, newest first in each; the id breaks ties,
# which keyset pages need.
INCIDENT_ORDER = [open_rank(), Severity.rank, Incident.declared_at.desc(), Incident.id.desc()]


def incident_query(*, status: str | None = None, severity: str | None = None,
                   quarter: FiscalQuarter | None = None) -> Select:
    """Incidents to list: open first (worst severity first), then resolved, then closed, newest first in each."""
    return incidents_matching(status=status, severity=severity, quarter=quarter).order_by(*INCIDENT_ORDER)


def incidents_page(*, status: str | None = None, severity: str | None = None, quarter: FiscalQuarter | None = None,
                   after: str | None = None, before: str | None = None, per_page: int = 50) -> KeysetPage:
    """One page of the incident list in incident_query's order, after or before a cursor (app/keyset.py)."""
    return keyset_page(incidents_matching(status=status, severity=severity, quarter=quarter), INCIDENT_ORDER,
                       after=after, before=before, per_page=per_page)


def incidents_matching(*, status: str | None = None, severity: str | None = None,
                       quarter: FiscalQuarter | None = None) -> Select:
    """Incidents narrowed by status (or "open"), severity code and the quarter they were detected in; unordered."""
    if status and status not in STATUS_FILTERS:
        raise Invalid(f"Use one of: {', '.join(STATUS_FILTERS)}.", "status")
    if severity and severity not in CODES:
        raise Invalid(f"Use one of: {', '.join(CODES)}.", "severity")
    query = select(Incident).join(Severity, Severity.id == Incident.severity_id)
    if status == OPEN:
        query = query.where(Incident.status.in_(OPEN_STATUS_VALUES))
    elif status:
        query = query.where(Incident.status == status)
    if severity:
        query = query.where(Severity.code == severity)
    if quarter is not None:
        start, end = quarter_bounds(quarter)
        query = query.where(Incident.detected_at >= start, Incident.detected_at < end)
    return query


def open_incidents(limit: int = 50) -> list[Incident]:
    """Incidents still being worked, worst severity first, then the oldest first."""
    return list(db.session.scalars(select(Incident).join(Severity, Severity.id == Incident.severity_id)
                                   .where(Incident.status.in_(OPEN_STATUS_VALUES))
                                   .order_by(Severity.rank, Incident.declared_at, Incident.id).limit(limit)))


def open_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Incident)
                             .where(Incident.status.in_(OPEN_STATUS_VALUES))) or 0


def last_updates(incidents: list[Incident]) -> dict[int, IncidentUpdate]:
    """The latest update of each incident, in one query."""
    ids = [incident.id for incident in incidents]
    if not ids:
        return {}
    latest = (select(IncidentUpdate.incident_id, func.max(IncidentUpdate.id).label("last_id"))
              .where(IncidentUpdate.incident_id.in_(ids)).group_by(IncidentUpdate.incident_id).subquery())
    rows = db.session.scalars(select(IncidentUpdate).join(latest, IncidentUpdate.id == latest.c.last_id))
    return {update.incident_id: update for update in rows}


def alerts_of(incident: Incident) -> list[tuple[IncidentAlert, Alert]]:
    """The incident's alerts (declared from, attached, its pages), oldest first."""
    return list(db.session.execute(select(IncidentAlert, Alert).join(Alert, Alert.id == IncidentAlert.alert_id)
                                   .where(IncidentAlert.incident_id == incident.id)
                                   .order_by(IncidentAlert.attached_at, IncidentAlert.id)).tuples())


def incident_url(incident_id: int) -> str | None:
    try:
        return url_for("incidents.incident", incident_id=incident_id)
    except BuildError:  # pragma: no cover  (the pages are always registered with the domain)
        return None


def badges_for_alerts(alert_ids: list[int]) -> dict[int, list[AlertBadge]]:
    """Alerting's badge provider: "INC-5 SEV2 (identified)" on each alert that is part of an incident."""
    rows = db.session.execute(select(IncidentAlert.alert_id, Incident.id, Incident.status, Severity.code)
                              .join(Incident, Incident.id == IncidentAlert.incident_id)
                              .join(Severity, Severity.id == Incident.severity_id)
                              .where(IncidentAlert.alert_id.in_(alert_ids))).all()
    return {alert_id: [AlertBadge("incident", incident_id, f"INC-{incident_id} {code} ({status})",
                                  incident_url(incident_id))]
            for alert_id, incident_id, status, code in rows}
