"""Building the week's review and its agenda.

The agenda covers what happened since the previous review was built: new risks, scores that changed, actions
overdue or due this week, risks due for review by their cadence, acceptances that expire before the quarter closes,
and risks nobody has touched for `stale_days`. Closed risks are never on it. The week is the crisis team's week
(Monday to Sunday in the review's time zone); its key is unique, so building it twice returns the same review.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.calendar.services import quarter_for
from app.errors import Conflict, Invalid
from app.extensions import db
from app.reviews.models import ReviewItem, ReviewStatus, RiskReview
from app.risks import cadence, history, services as risks
from app.risks.actions import is_overdue
from app.risks.scoring import current_settings
from app.timeutil import utcnow, wall_clock_to_utc

if TYPE_CHECKING:
    from app.risks.models import Risk, RiskSettings

REASONS = {
    "new": "New since the last review",
    "score_changed": "Score changed",
    "action_overdue": "Action overdue",
    "action_due": "Action due this week",
    "review_due": "Due for review",
    "acceptance_expiring": "Acceptance expires before the quarter closes",
    "stale": "No update recently",
    "added": "Added during the week",
}
REASON_ORDER = tuple(REASONS)
# What the builder finds by itself; "added" is a person's choice after the agenda was built.
FOUND_REASONS = tuple(reason for reason in REASON_ORDER if reason != "added")
FIRST_WINDOW = timedelta(days=7)  # what the very first review looks back over


def week_key(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(day: date) -> tuple[date, date]:
    monday = history.week_start(day)
    return monday, monday + timedelta(days=6)


def slot_in_week(settings: RiskSettings, day: date) -> datetime:
    """The instant (UTC) of the review slot in the week of `day`: weekday and time in the review's zone."""
    monday, _sunday = week_bounds(day)
    meeting = monday + timedelta(days=settings.review_weekday)
    # A wall-clock time in the zone: one that a DST change skips is the instant the clocks jump, one that happens
    # twice is its first occurrence (the project's one rule).
    return wall_clock_to_utc(meeting, settings.review_time, settings.review_zone)


def agenda_reasons(*, since: datetime, until: datetime, today: date, settings: RiskSettings) -> dict[int, list[str]]:
    """risk id -> the reasons it is on the agenda (in REASON_ORDER), for live risks only."""
    _monday, sunday = week_bounds(today)
    due_actions = risks.pending_action_due_dates(sunday)
    found = {
        "new": risks.live_risks_created_between(since, until),
        "score_changed": history.scores_changed_between(since, until),
        "action_overdue": {risk_id for risk_id, due in due_actions if due < today},
        "action_due": {risk_id for risk_id, due in due_actions if due >= today},
        "review_due": risks.worked_risks_due_for_review(sunday),
        "acceptance_expiring": risks.acceptances_expiring(quarter_for(today).last_day),
        "stale": risks.worked_risks_untouched_since(until - timedelta(days=settings.stale_days)),
    }
    live_ids = risks.live_among(set().union(*found.values()))
    reasons: dict[int, list[str]] = {}
    for reason in FOUND_REASONS:
        for risk_id in sorted(found[reason] & live_ids):
            reasons.setdefault(risk_id, []).append(reason)
    return reasons


def snapshot(risk, reasons: list[str], today: date, sunday: date) -> dict[str, Any]:
    """What the agenda shows of a risk, frozen at build time."""
    chased = [action for action in risk.actions if action.is_pending and action.due_on <= sunday]
    return {
        **risks.risk_summary(risk),
        "actions": [{"id": a.id, "description": a.description, "owner": a.owner.name if a.owner else None,
                     "owner_id": a.owner_id, "due_on": a.due_on.isoformat(), "overdue": is_overdue(a, today)}
                    for a in chased],
    }


def previous_review(week_start: date) -> RiskReview | None:
    return db.session.scalar(select(RiskReview).where(RiskReview.week_start < week_start)
                             .order_by(RiskReview.week_start.desc()).limit(1))


def review_for_week(day: date) -> RiskReview | None:
    return db.session.scalar(select(RiskReview).where(RiskReview.week_key == week_key(day)))


def build_review(*, built_by: str = "scheduler") -> tuple[RiskReview, bool]:
    """This week's review with its agenda; (the existing one, False) when the week already has one.

    Safe under concurrency: a second builder's insert fails on the unique week key and returns the winner's.
    """
    settings = current_settings()
    now = utcnow()
    today = cadence.team_today(settings)
    existing = review_for_week(today)
    if existing is not None:
        return existing, False
    monday, sunday = week_bounds(today)
    previous = previous_review(monday)
    since = previous.built_at if previous is not None else now - FIRST_WINDOW
    reasons = agenda_reasons(since=since, until=now, today=today, settings=settings)
    review = RiskReview(week_key=week_key(today), week_start=monday,
                        meeting_on=monday + timedelta(days=settings.review_weekday), since=since, built_at=now,
                        built_by=built_by[:200], status=ReviewStatus.PLANNED)
    review.items = [ReviewItem(position=index, risk_id=risk.id, reasons=reasons[risk.id],
                               snapshot=snapshot(risk, reasons[risk.id], today, sunday))
                    for index, risk in enumerate(risks.risks_by_level(reasons), start=1)]
    db.session.add(review)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        winner = review_for_week(today)
        if winner is None:
            raise
        return winner, False
    return review, True


def addable_risks(review: RiskReview) -> list[Risk]:
    """Live risks not yet on the review's agenda, by title: what can still join this week's meeting."""
    return risks.live_risks_except(select(ReviewItem.risk_id).where(ReviewItem.review_id == review.id))


def add_to_agenda(review: RiskReview, risk_id: object) -> ReviewItem:
    """Put a risk raised after the agenda was built (on Tuesday, say) on this week's agenda, at its end. Commits."""
    if review.status == ReviewStatus.FINISHED:
        raise Conflict("This review is finished: its agenda is final.", "risk_id")
    risk = risks.live_risk(risk_id)
    if risk is None:
        raise Invalid("Choose a live risk.", "risk_id")
    if any(item.risk_id == risk.id for item in review.items):
        raise Conflict(f"R-{risk.id} is already on this agenda.", "risk_id")
    today = cadence.team_today(current_settings())
    _monday, sunday = week_bounds(review.week_start)
    item = ReviewItem(position=max((item.position for item in review.items), default=0) + 1, risk_id=risk.id,
                      reasons=["added"], snapshot=snapshot(risk, ["added"], today, sunday))
    review.items.append(item)
    try:
        db.session.commit()
    except IntegrityError:  # someone added it (or took the position) at the same moment
        db.session.rollback()
        raise Conflict("The agenda changed while you added to it; look again and retry.", "risk_id") from None
    return item


def build_due_review() -> dict[str, Any]:
    """Scheduler job: once this week's slot has passed, build the week's review if it has none (a scheduler that
    was down at the slot builds it when it comes back, still once)."""
    settings = current_settings()
    today = cadence.team_today(settings)
    if utcnow() < slot_in_week(settings, today):
        return {"built": False, "reason": "before this week's slot"}
    if review_for_week(today) is not None:
        return {"built": False, "reason": "already built"}
    review, created = build_review(built_by="scheduler")
    return {"built": created, "week": review.week_key, "items": len(review.items)}
