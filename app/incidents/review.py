"""Resolving an incident and its post-incident review: the review is written, its lessons and follow-ups are
drafted on it, and completing it hands them over (lessons to readiness, follow-ups to the risk register or a
quarter's checklist, each linked back). Closing needs the review completed, or waived by the crisis team."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import EDITORS
from app.calendar.services import fiscal_start_month, quarter_for
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.incidents import paging, review_due
from app.incidents.models import Incident, IncidentUpdate, Status
from app.incidents.review_models import FollowUp, FollowUpKind, Review, ReviewLesson, ReviewStatus
from app.incidents.services import active_person, clean_text, locked
from app.incidents.timeline import record_event, storable_id
from app.incidents.updates import deliver
from app.readiness import checklist, lessons
from app.risks import services as risks
from app.risks.models import RiskCategory
from app.timeutil import to_zone, utcnow

TEXT_MAX = 10_000
REVIEW_FIELDS = ("what_happened", "business_impact", "root_cause", "went_well", "went_badly")
REQUIRED_TO_COMPLETE = {"what_happened": "Say what happened.", "root_cause": "Name the root cause."}
CHECKLIST_TRACK = "incidents"
DEFAULT_FOLLOW_UP_OFFSET = -10


def resolve(incident_id: int, *, resolution: str, actor: User) -> Incident:
    """Resolve with a resolution summary; commits once: the review falls due, the subscribers hear of it as a
    last update, and the incident's own pages still open are resolved."""
    resolution = clean_text(resolution, "resolution", TEXT_MAX, required="Say how it was resolved.")
    incident = locked(incident_id)
    if not incident.is_open:
        raise Conflict(f"{incident.code} is already {incident.status}.", "resolution")
    now = utcnow()
    before = incident.status
    incident.status, incident.resolution, incident.resolved_at = Status.RESOLVED.value, resolution, now
    incident.last_update_at = now
    review = review_due.create_review(incident)
    record_event(incident, kind="resolved", actor=actor.name, at=now,
                 text=f"Resolved by {actor.name} (was {before}): {resolution}")
    update = IncidentUpdate(incident_id=incident.id, at=now, status=Status.RESOLVED.value, message=resolution,
                            author_id=actor.id, author_name=actor.name)
    db.session.add(update)
    db.session.flush()
    sent = deliver(incident, update, author=actor)
    record_event(incident, kind="update", actor=actor.name, at=now,
                 text=f"Resolution sent to {sent} subscriber(s). Review due {review.due_on:%a %d %b %Y}"
                      + (f" ({review.due_region} business days)." if review.due_region else "."))
    paging.resolve_open_pages(incident, actor=actor.name)
    db.session.commit()
    return incident


def review_of(incident: Incident) -> Review:
    review = db.session.scalar(select(Review).where(Review.incident_id == incident.id))
    if review is None:
        raise NotFound(f"{incident.code} has no review yet: it is reviewed once resolved.")
    return review


def _pending(review: Review) -> None:
    if not review.is_pending:
        raise Conflict(f"The review is {review.status}: it is part of the record now.")


def _review_values(fields: dict) -> dict[str, str]:
    return {name: clean_text(fields.get(name), name, TEXT_MAX) for name in REVIEW_FIELDS if name in fields}


def save_review(review: Review, **fields) -> Review:
    """Save the review's words (a draft until completed); commits."""
    _pending(review)
    for name, value in _review_values(fields).items():
        setattr(review, name, value)
    db.session.commit()
    return review


def add_lesson(review: Review, *, title: str, recommendation: str, owner_id: int | None = None) -> ReviewLesson:
    """Draft a lesson on the review (it becomes a readiness lesson when the review is completed); commits."""
    _pending(review)
    title = clean_text(title, "title", 200, required="Give the lesson a title.")
    recommendation = clean_text(recommendation, "recommendation", TEXT_MAX, required="Write the recommendation.")
    owner = active_person(owner_id, "owner_id") if owner_id is not None else None
    lesson = ReviewLesson(review_id=review.id, title=title, recommendation=recommendation,
                          owner_id=owner.id if owner else None)
    db.session.add(lesson)
    db.session.commit()
    return lesson


def add_follow_up(review: Review, *, kind: str, title: str, owner_id: int | None, description: str = "",
                  category: str | None = None, likelihood: int | None = None, impact: int | None = None,
                  quarter: str | None = None, bd_offset: int | None = None) -> FollowUp:
    """Draft a follow-up: a risk (category, likelihood and impact 1-5) or a checklist item (a quarter from this
    one on, and a business-day offset); it is handed over when the review is completed. Commits."""
    _pending(review)
    try:
        kind = FollowUpKind(kind).value
    except ValueError:
        raise Invalid("Choose risk or checklist.", "kind") from None
    title = clean_text(title, "title", 200, required="Say what has to be done.")
    description = clean_text(description, "description", TEXT_MAX)
    owner = active_person(owner_id, "owner_id")
    follow_up = FollowUp(review_id=review.id, kind=kind, title=title, description=description, owner_id=owner.id)
    if kind == FollowUpKind.RISK:
        try:
            follow_up.category = RiskCategory(category or RiskCategory.OUTAGE.value).value
        except ValueError:
            raise Invalid(f"Choose one of: {', '.join(c.value for c in RiskCategory)}.", "category") from None
        for name, value in (("likelihood", likelihood), ("impact", impact)):
            if not isinstance(value, int) or not 1 <= value <= 5:
                raise Invalid("A whole number from 1 to 5.", name)
        follow_up.likelihood, follow_up.impact = likelihood, impact
    else:
        target = checklist.parse_quarter(quarter, fiscal_start_month()) if quarter else None
        if target is None:
            raise Invalid("Name the quarter, e.g. FY27-Q4.", "quarter")
        if target.last_day < utcnow().date():
            raise Invalid("That quarter is over: choose this quarter or a later one.", "quarter")
        offset = DEFAULT_FOLLOW_UP_OFFSET if bd_offset is None else bd_offset
        if not isinstance(offset, int) or not -120 <= offset <= 60:
            raise Invalid("A business-day offset from BD-120 to BD+60.", "bd_offset")
        follow_up.fiscal_year, follow_up.quarter, follow_up.bd_offset = target.fiscal_year, target.quarter, offset
    db.session.add(follow_up)
    db.session.commit()
    return follow_up


def remove_draft(review: Review, *, lesson_id: int | None = None, follow_up_id: int | None = None) -> None:
    """Take a drafted lesson or follow-up off the pending review; commits."""
    _pending(review)
    model, ident = (ReviewLesson, lesson_id) if lesson_id is not None else (FollowUp, follow_up_id)
    row = db.session.get(model, ident) if storable_id(ident) else None
    if row is None or row.review_id != review.id:
        raise NotFound("No such draft on this review.")
    db.session.delete(row)
    db.session.commit()


def _hand_over(incident: Incident, review: Review) -> None:
    """Each lesson becomes a readiness lesson for the quarter after the one it was learned in; each follow-up a
    risk (threatening the current quarter) or a checklist item; all in the caller's transaction."""
    _calendar, zone, _region = review_due.commander_calendar(incident)
    learned_in = quarter_for(to_zone(incident.resolved_at, zone).date())
    for draft in review.lessons:
        if draft.lesson_id is None:
            lesson = lessons.new_lesson(title=draft.title, recommendation=f"{draft.recommendation}\n\n(From the "
                                        f"review of {incident.code}: {incident.title})", owner_id=draft.owner_id,
                                        learned_in=learned_in, target=learned_in.next())
            draft.lesson_id = lesson.id
    current = quarter_for(utcnow().date())
    for draft in review.follow_ups:
        if draft.kind == FollowUpKind.RISK and draft.risk_id is None:
            risk = risks.new_risk(
                title=draft.title, category=draft.category, source="process", owner_id=draft.owner_id,
                quarter=current.label, inherent_likelihood=draft.likelihood, inherent_impact=draft.impact,
                likelihood=draft.likelihood, impact=draft.impact,
                description=(f"Follow-up from the review of {incident.code} ({incident.severity.code}): "
                             f"{incident.title}\n\n{draft.description}").strip())
            draft.risk_id = risk.id
        elif draft.kind == FollowUpKind.CHECKLIST and draft.checklist_item_id is None:
            target = checklist.parse_quarter(draft.quarter_code, fiscal_start_month())
            item = checklist.new_item(target, title=f"{incident.code}: {draft.title}", track=CHECKLIST_TRACK,
                                      bd_offset=draft.bd_offset, owner_id=draft.owner_id)
            draft.checklist_item_id = item.id


def complete_review(incident: Incident, *, actor: User, **fields) -> Review:
    """Save the review's words and complete it: what happened and the root cause are required; its lessons and
    follow-ups are handed over in the same transaction (all or nothing); commits."""
    review = review_of(incident)
    _pending(review)
    for name, value in _review_values(fields).items():
        setattr(review, name, value)
    for name, message in REQUIRED_TO_COMPLETE.items():
        if not getattr(review, name).strip():
            raise Invalid(message, name)
    _hand_over(incident, review)
    review.status, review.completed_at, review.completed_by_id = ReviewStatus.COMPLETED.value, utcnow(), actor.id
    record_event(incident, kind="review", actor=actor.name,
                 text=f"Review completed by {actor.name}: {len(review.lessons)} lesson(s) to readiness, "
                      f"{len(review.follow_ups)} follow-up(s) handed over.")
    db.session.commit()
    return review


def _ensure_editor(actor: User, what: str) -> None:
    if actor.role not in EDITORS:
        raise Forbidden(f"Only the crisis team or an administrator may {what}.")


def waive_review(incident: Incident, *, reason: str, actor: User) -> Incident:
    """Waive the review with a reason and close the incident (crisis team, admin); commits."""
    _ensure_editor(actor, "waive a review")
    review = review_of(incident)
    _pending(review)
    reason = clean_text(reason, "reason", 2000, required="Say why the review is waived.")
    now = utcnow()
    review.status, review.waived_reason, review.waived_by_id, review.waived_at = \
        ReviewStatus.WAIVED.value, reason, actor.id, now
    record_event(incident, kind="review", actor=actor.name, at=now, text=f"Review waived by {actor.name}: {reason}")
    _close(incident, actor, now)
    db.session.commit()
    return incident


def close_incident(incident: Incident, *, actor: User) -> Incident:
    """Close a resolved incident whose review is completed or waived (crisis team, admin); commits."""
    _ensure_editor(actor, "close an incident")
    if incident.state is not Status.RESOLVED:
        raise Conflict(f"{incident.code} is {incident.status}: only a resolved incident is closed.")
    review = review_of(incident)
    if review.is_pending:
        raise Conflict("Complete the review first (or waive it, with a reason).")
    _close(incident, actor, utcnow())
    db.session.commit()
    return incident


def _close(incident: Incident, actor: User, now) -> None:
    incident.status, incident.closed_at = Status.CLOSED.value, now
    record_event(incident, kind="closed", actor=actor.name, at=now, text=f"Closed by {actor.name}.")
