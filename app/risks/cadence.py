"""When each risk is next reviewed: a cadence in days per level, counted from its last review (or creation).

Dates are the crisis team's dates, in the review's time zone (the register settings), so "overdue" means the same
thing to everyone whatever their own zone.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from app.risks.models import WORKED_STATUSES, Risk, RiskSettings
from app.timeutil import to_zone, today_in, utcnow


def team_today(settings: RiskSettings) -> date:
    return today_in(settings.review_zone)


def team_date(settings: RiskSettings, at: datetime) -> date:
    return to_zone(at, settings.review_zone).date()


def next_review_on(risk: Risk, settings: RiskSettings) -> date | None:
    """Last review (or creation) plus the cadence of its level; None for a risk not reviewed by cadence."""
    if risk.status not in WORKED_STATUSES:
        return None
    base = risk.last_reviewed_at or risk.created_at or utcnow()
    return team_date(settings, base) + timedelta(days=settings.cadence_days(risk.level))


def schedule_review(risk: Risk, settings: RiskSettings) -> None:
    """Rewrite the risk's next review date from its level, status and last review."""
    risk.next_review_on = next_review_on(risk, settings)


def is_review_overdue(risk: Risk, today: date) -> bool:
    return risk.next_review_on is not None and risk.next_review_on < today


def mark_reviewed(risk: Risk, settings: RiskSettings) -> None:
    """The risk was looked at now: its next review moves a full cadence ahead."""
    risk.last_reviewed_at = utcnow()
    risk.updated_at = risk.last_reviewed_at
    schedule_review(risk, settings)
