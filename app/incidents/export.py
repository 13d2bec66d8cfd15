"""The incident as a document: its facts and its timeline in Markdown (and the facts the printed page shows).

Times are UTC with their offset written out, so the document means the same wherever it is read.
"""
from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from app.extensions import db
from app.incidents.metrics import minutes
from app.incidents.models import INSTANTS, ROLES, Incident
from app.incidents.review_models import Review
from app.incidents.timeline import timeline_query


def _at(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def facts(incident: Incident) -> list[tuple[str, str]]:
    """(label, value) lines: severity, status, roles, the instants, durations."""
    rows = [("Severity", f"{incident.severity.code}: {incident.severity.description}"),
            ("Status", incident.status)]
    rows += [(label, person.name) for role, label in ROLES.items() if (person := getattr(incident, role))]
    rows += [(label, _at(getattr(incident, name))) for name, label in INSTANTS.items() if getattr(incident, name)]
    if incident.acknowledged_at:
        rows.append(("Time to acknowledge", minutes((incident.acknowledged_at - incident.detected_at).total_seconds())))
    if incident.resolved_at:
        rows.append(("Time to resolve", minutes((incident.resolved_at - incident.detected_at).total_seconds())))
    if incident.resolution:
        rows.append(("Resolution", incident.resolution))
    return rows


def _escape(text: str) -> str:
    """Keep people's words from turning into Markdown structure (tables, headings, links)."""
    out = (text or "").replace("\\", "\\\\")
    for char in "|*_`[]<#":
        out = out.replace(char, "\\" + char)
    return " ".join(out.split())


def markdown(incident: Incident) -> str:
    events = list(db.session.scalars(timeline_query(incident)))
    review = db.session.scalar(select(Review).where(Review.incident_id == incident.id))
    return render_template("incidents/timeline.md", incident=incident, facts=facts(incident), events=events,
                           review=review, esc=_escape, at=_at)
