"""When a post-incident review is due: N business days (an admin setting) after the day the incident was
resolved, counted on the commander's region's calendar (its weekends and public holidays), in its zone."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.calendar.models import business_calendar
from app.extensions import db
from app.incidents.models import Incident
from app.incidents.review_models import Review, ReviewStatus
from app.incidents.severities import current_settings
from app.timeutil import BusinessCalendar, to_zone, today_in, utcnow


def commander_calendar(incident: Incident) -> tuple[BusinessCalendar, str, str]:
    """(calendar, zone, region name) of the commander's region; weekdays in the commander's zone without one."""
    commander = incident.commander
    region = commander.region if commander is not None else None
    if region is not None:
        return region.calendar, region.time_zone, region.name
    return business_calendar(None, None), commander.time_zone if commander is not None else "UTC", ""


def review_due_on(incident: Incident) -> tuple[date, str]:
    """(due date, region name): the Nth business day after the resolution day in the commander's region."""
    calendar, zone, region = commander_calendar(incident)
    resolved_day = to_zone(incident.resolved_at or utcnow(), zone).date()
    return calendar.add_business_days(resolved_day, current_settings().review_business_days), region


def commander_today(incident: Incident) -> date:
    """Today in the commander's region (the date a review is judged overdue by)."""
    return today_in(commander_calendar(incident)[1])


def create_review(incident: Incident) -> Review:
    """The incident's pending review with its due date (in the caller's transaction); the existing one if any."""
    review = db.session.scalar(select(Review).where(Review.incident_id == incident.id))
    due, region = review_due_on(incident)
    if review is None:
        review = Review(incident_id=incident.id, due_on=due, due_region=region, status=ReviewStatus.PENDING.value,
                        created_at=utcnow())
        db.session.add(review)
    elif review.is_pending:
        review.due_on, review.due_region = due, region
    return review


def reschedule(incident: Incident) -> None:
    """The resolution time moved: a pending review's due date follows it."""
    review = db.session.scalar(select(Review).where(Review.incident_id == incident.id))
    if review is not None and review.is_pending:
        review.due_on, review.due_region = review_due_on(incident)
