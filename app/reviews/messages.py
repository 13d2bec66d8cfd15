"""The review's messages: the pre-read to the crisis team, and after the meeting one reminder per owner of overdue
actions. Each is claimed by a ReviewMessage row (unique per review, person and purpose) before it is sent, so it
goes out once even with two schedulers, and its outcome stays on the review page — a failure is never silent.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db
from app.reviews.agenda import REASONS
from app.reviews.models import ReviewMessage, ReviewStatus, RiskReview
from app.risks import cadence, services as risk_services
from app.risks.notify import email_person
from app.risks.scoring import current_settings
from app.timeutil import utcnow

if TYPE_CHECKING:
    from app.risks.models import RiskAction

log = logging.getLogger("quarterdeck.reviews")

PRE_READ, REMINDER = "pre_read", "reminder"
PRE_READ_WINDOW = timedelta(days=7)  # a review built longer ago than this is past its meeting: no pre-read


def _claim(review: RiskReview, person: User, purpose: str, detail: str = "") -> ReviewMessage | None:
    row = ReviewMessage(review_id=review.id, user_id=person.id, name=person.name, purpose=purpose, detail=detail,
                        created_at=utcnow())
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # another scheduler claimed it first
        return None
    return row


def _already(review: RiskReview, person: User, purpose: str) -> bool:
    return db.session.scalar(select(ReviewMessage.id).where(
        ReviewMessage.review_id == review.id, ReviewMessage.user_id == person.id,
        ReviewMessage.purpose == purpose)) is not None


def _send(row: ReviewMessage, person: User, *, purpose: str, template: str, **context) -> str:
    message = email_person(person, purpose=purpose, template=template, name=person.name, **context)
    row.message_id, row.status, row.error = message.id, message.status, (message.last_error or "")[:500]
    if message.status == "failed":
        log.warning("%s of %s to %s not queued: %s", purpose, context.get("week"), person.email, message.last_error)
    db.session.commit()
    return row.status


def _review_url(review: RiskReview) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/reviews/{review.id}"


def crisis_team() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.CRISIS_TEAM, User.active.is_(True))
                                   .order_by(User.name)))


def send_pre_reads(review: RiskReview) -> dict[str, int]:
    """Email the agenda to each active member of the crisis team, once per review."""
    summary = {"sent": 0, "failed": 0}
    items = [{"reference": item.snapshot["reference"], "title": item.snapshot["title"],
              "level": item.snapshot["level"], "owner": item.snapshot.get("owner") or "nobody",
              "reasons": [REASONS.get(reason, reason) for reason in item.reasons]} for item in review.items]
    for person in crisis_team():
        if _already(review, person, PRE_READ):
            continue
        row = _claim(review, person, PRE_READ)
        if row is None:
            continue
        outcome = _send(row, person, purpose="risk_review_pre_read", template="risk_review_pre_read_email",
                        week=review.week_key, meeting_on=review.meeting_on.isoformat(), items=items,
                        url=_review_url(review))
        summary["failed" if outcome == "failed" else "sent"] += 1
    review.pre_read_sent_at = utcnow()
    db.session.commit()
    return summary


def overdue_actions_by_owner() -> dict[int, list[RiskAction]]:
    """Pending actions past their due date on risks that are not closed, grouped by owner."""
    today = cadence.team_today(current_settings())
    grouped: dict[int, list[RiskAction]] = defaultdict(list)
    for action in risk_services.overdue_actions_on_live_risks(today):
        if action.owner_id is not None:
            grouped[action.owner_id].append(action)
    return grouped


def send_reminders(review: RiskReview) -> dict[str, int]:
    """After a finished meeting, remind each owner of overdue actions once, listing them."""
    summary = {"sent": 0, "failed": 0}
    for owner_id, overdue in sorted(overdue_actions_by_owner().items()):
        person = db.session.get(User, owner_id)
        if person is None or _already(review, person, REMINDER):
            continue
        lines = [f"R-{a.risk_id} {a.risk.title}: {a.description} (due {a.due_on.isoformat()})" for a in overdue]
        row = _claim(review, person, REMINDER, detail="\n".join(lines))
        if row is None:
            continue
        outcome = _send(row, person, purpose="risk_action_reminder", template="risk_action_reminder_email",
                        week=review.week_key, lines=lines, url=_review_url(review))
        summary["failed" if outcome == "failed" else "sent"] += 1
    review.reminders_sent_at = utcnow()
    db.session.commit()
    return summary


def send_review_messages() -> dict[str, int]:
    """Scheduler job: pre-reads of recently built reviews, reminders of finished ones; each review once."""
    now = utcnow()
    totals = {"pre_reads": 0, "reminders": 0, "failed": 0}
    fresh = db.session.scalars(select(RiskReview).where(RiskReview.pre_read_sent_at.is_(None),
                                                        RiskReview.built_at > now - PRE_READ_WINDOW)).all()
    for review in fresh:
        outcome = send_pre_reads(review)
        totals["pre_reads"] += outcome["sent"]
        totals["failed"] += outcome["failed"]
    finished = db.session.scalars(select(RiskReview).where(RiskReview.status == ReviewStatus.FINISHED,
                                                           RiskReview.reminders_sent_at.is_(None))).all()
    for review in finished:
        outcome = send_reminders(review)
        totals["reminders"] += outcome["sent"]
        totals["failed"] += outcome["failed"]
    return totals
