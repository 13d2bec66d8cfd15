"""Incident figures per quarter (or overall): how many by severity, time to acknowledge (detected ->
acknowledged) and to resolve (detected -> resolved) as mean and p90, overdue reviews and open follow-ups.

An incident counts in the quarter it was detected in (the close region's dates). p90 is the nearest-rank
percentile: the smallest value with at least 90 % of the values at or below it, so it is always a time that really
happened.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.incidents.models import Incident
from app.incidents.queries import quarter_bounds
from app.incidents.review_models import FollowUp, FollowUpKind, Review, ReviewStatus
from app.incidents.review_due import commander_today
from app.incidents.severities import CODES
from app.readiness import checklist
from app.readiness.models import OPEN_ITEM_STATUSES
from app.risks import services as risks
from app.risks.models import RiskStatus
from app.timeutil import FiscalQuarter, quarter_code, utcnow

_ONE_DAY = timedelta(days=1)
OPEN_RISK_STATUSES = (RiskStatus.OPEN, RiskStatus.MITIGATING)  # a follow-up risk nobody has mitigated yet


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class Figures:
    quarter: FiscalQuarter | None  # None: every incident ever
    count: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    acknowledge_mean: float | None = None  # seconds
    acknowledge_p90: float | None = None
    resolve_mean: float | None = None
    resolve_p90: float | None = None
    overdue_reviews: list[Review] = field(default_factory=list)
    open_follow_ups: list[FollowUp] = field(default_factory=list)

    def as_json(self) -> dict:
        code = quarter_code(self.quarter.fiscal_year, self.quarter.quarter) if self.quarter else None
        return {"quarter": code, "count": self.count, "by_severity": self.by_severity,
                "time_to_acknowledge": {"mean_seconds": _rounded(self.acknowledge_mean),
                                        "p90_seconds": _rounded(self.acknowledge_p90)},
                "time_to_resolve": {"mean_seconds": _rounded(self.resolve_mean),
                                    "p90_seconds": _rounded(self.resolve_p90)},
                "overdue_reviews": len(self.overdue_reviews), "open_follow_ups": len(self.open_follow_ups)}


def _rounded(value: float | None) -> int | None:
    return None if value is None else round(value)


def incidents_in(quarter: FiscalQuarter | None) -> list[Incident]:
    query = select(Incident).order_by(Incident.id)
    if quarter is not None:
        start, end = quarter_bounds(quarter)
        query = query.where(Incident.detected_at >= start, Incident.detected_at < end)
    return list(db.session.scalars(query))


def overdue_reviews(incidents: list[Incident] | None = None) -> list[Review]:
    """Pending reviews past their due date in the commander's region (of `incidents`, or of every incident)."""
    query = select(Review).where(Review.status == ReviewStatus.PENDING.value,
                                 Review.due_on < utcnow().date() + _ONE_DAY).order_by(Review.due_on, Review.id)
    if incidents is not None:
        query = query.where(Review.incident_id.in_([incident.id for incident in incidents]))
    return [review for review in db.session.scalars(query)
            if review.due_on < commander_today(db.session.get(Incident, review.incident_id))]


def open_follow_ups(incidents: list[Incident] | None = None) -> list[FollowUp]:
    """Follow-ups handed over by completed reviews whose risk is still open or mitigating, or whose checklist
    item is still to do or doing (of `incidents`, or of every incident)."""
    query = (select(FollowUp).join(Review, Review.id == FollowUp.review_id)
             .where(Review.status == ReviewStatus.COMPLETED.value).order_by(FollowUp.id))
    if incidents is not None:
        query = query.where(Review.incident_id.in_([incident.id for incident in incidents]))
    follow_ups = list(db.session.scalars(query))
    risk_states = risks.risk_statuses([f.risk_id for f in follow_ups if f.risk_id])
    item_states = checklist.item_statuses([f.checklist_item_id for f in follow_ups if f.checklist_item_id])
    return [f for f in follow_ups
            if (f.kind == FollowUpKind.RISK and risk_states.get(f.risk_id) in OPEN_RISK_STATUSES)
            or (f.kind == FollowUpKind.CHECKLIST and item_states.get(f.checklist_item_id) in OPEN_ITEM_STATUSES)]


def figures(quarter: FiscalQuarter | None = None) -> Figures:
    """The figures of `quarter` (its incidents, their reviews and follow-ups), or of everything."""
    incidents = incidents_in(quarter)
    result = Figures(quarter=quarter, count=len(incidents), by_severity={code: 0 for code in CODES})
    acknowledge, resolve = [], []
    for incident in incidents:
        result.by_severity[incident.severity.code] += 1
        if incident.acknowledged_at is not None:
            acknowledge.append((incident.acknowledged_at - incident.detected_at).total_seconds())
        if incident.resolved_at is not None:
            resolve.append((incident.resolved_at - incident.detected_at).total_seconds())
    result.acknowledge_mean, result.acknowledge_p90 = mean(acknowledge), p90(acknowledge)
    result.resolve_mean, result.resolve_p90 = mean(resolve), p90(resolve)
    scope = incidents if quarter is not None else None
    result.overdue_reviews = overdue_reviews(scope)
    result.open_follow_ups = open_follow_ups(scope)
    return result


def minutes(seconds: float | None) -> str:
    """A duration for people: "12 min", "3 h 05 min", "2 d 4 h"; "—" when there is none."""
    if seconds is None:
        return "—"
    total = int(round(seconds / 60))
    if total < 60:
        return f"{total} min"
    hours, rest = divmod(total, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"

