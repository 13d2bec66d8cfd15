"""The incidents track of the readiness score and the incidents section of the executive page (both registered
on readiness by hooks.init_app, so readiness never imports this domain).

Track: overdue post-incident reviews cost 6 points each (at most 30), open follow-ups 3 each (at most 24).
For the current quarter every overdue review and open follow-up counts; for a past quarter, those of its
incidents. Gate: a SEV1 or SEV2 incident open during the quarter-close window makes the quarter red.
"""
from __future__ import annotations

from flask import render_template, url_for
from sqlalchemy import select

from app.calendar.services import quarter_for
from app.extensions import db
from app.incidents import metrics
from app.incidents.models import Incident
from app.incidents.queries import last_updates, open_incidents
from app.incidents.updates import overdue_minutes
from app.oncall.close_mode import window_containing
from app.readiness.tracks.base import ChaseItem, Context, Finding, Gate, TrackResult, not_tracked, scored
from app.timeutil import utcnow

TRACK = "incidents"


def _incident_link(incident_id: int) -> str:
    return url_for("incidents.incident", incident_id=incident_id)


def close_window_gates(ctx: Context) -> list[Gate]:
    """A red gate per SEV1/SEV2 incident open now, when now is inside a quarter-close window."""
    if not ctx.is_current or window_containing(ctx.now) is None:
        return []
    return [Gate("red", f"{incident.code} {incident.severity.code} open during the close window: {incident.title}",
                 _incident_link(incident.id))
            for incident in open_incidents() if incident.severity.rank <= 2]


def assess(ctx: Context) -> TrackResult:
    """Score the incidents track of `ctx.quarter`; not tracked while no incident has ever been recorded."""
    gates = close_window_gates(ctx)
    if db.session.scalar(select(Incident.id).limit(1)) is None:
        return not_tracked(TRACK, "Not tracked yet: no incidents are recorded.", gates)
    scope = None if ctx.is_current else metrics.incidents_in(ctx.quarter)
    overdue = metrics.overdue_reviews(scope)
    follow_ups = metrics.open_follow_ups(scope)
    review_url = url_for("incidents.index", status="resolved")
    findings = [
        Finding("post-incident reviews overdue", len(overdue), 6, 30,
                [(f"Review of INC-{review.incident_id} overdue since {review.due_on:%d %b}",
                  url_for("incident_reviews.review_page", incident_id=review.incident_id)) for review in overdue],
                review_url, severe=True),
        Finding("incident follow-ups still open", len(follow_ups), 3, 24,
                [(f"Follow-up open: {follow_up.title}", _follow_up_url(follow_up)) for follow_up in follow_ups],
                review_url),
    ]
    return scored(TRACK, findings, gates=gates)


def _follow_up_url(follow_up) -> str | None:
    if follow_up.risk_id:
        return url_for("risks.risk", risk_id=follow_up.risk_id)
    if follow_up.checklist_item_id and follow_up.quarter_code:
        return url_for("readiness.checklist", quarter=follow_up.quarter_code) + f"#item-{follow_up.checklist_item_id}"
    return None


def executive_section(readiness) -> str:
    """Open incidents (severity, age, last update, overdue updates) above everything, then the quarter's figures."""
    incidents = open_incidents()
    now = utcnow()
    return render_template("incidents/_executive.html", incidents=incidents, updates=last_updates(incidents),
                           overdue={incident.id: overdue_minutes(incident, now) for incident in incidents},
                           now=now, figures=metrics.figures(readiness.quarter if readiness is not None
                                                            else quarter_for(now.date())),
                           minutes=metrics.minutes)


def incidents_to_chase(ctx: Context) -> list[ChaseItem]:
    """For "what to chase": overdue post-incident reviews (their commander) and open follow-ups (their owner)."""
    scope = None if ctx.is_current else metrics.incidents_in(ctx.quarter)
    items = [ChaseItem(f"Post-incident review of INC-{review.incident_id} (overdue since {review.due_on:%d %b})",
                       _name(db.session.get(Incident, review.incident_id).commander), url_for("incident_reviews.review_page",
                                                                 incident_id=review.incident_id),
                       due_on=review.due_on, urgent=True)
             for review in metrics.overdue_reviews(scope)]
    items += [ChaseItem(f"Incident follow-up: {follow_up.title}", _name(follow_up.owner), _follow_up_url(follow_up))
              for follow_up in metrics.open_follow_ups(scope)]
    return items


def _name(person) -> str:
    return person.name if person is not None else "No owner"
