"""Running the meeting: start it, record one decision per agenda item, finish it (attendees and summary).

Each decision changes the risk through the register's own services (scores, actions, workflow), counts as the
risk's review (its next review moves a cadence ahead) and is written on the item with what it changed.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from app.auth.models import User
from app.errors import Conflict, DomainError, Invalid, NotFound
from app.extensions import db
from app.reviews.models import Decision, ReviewAttendee, ReviewItem, ReviewStatus, RiskReview
from app.risks import actions, cadence, history, workflow
from app.risks.scoring import current_settings
from app.risks.services import apply_scores, clean_text, touch
from app.timeutil import utcnow

# Fields of the register's services, as the decision form names them.
ACTION_FIELDS = {"description": "action_description", "owner_id": "action_owner_id", "due_on": "action_due_on",
                 "transition": "decision"}


def get_review(review_id: int) -> RiskReview:
    review = db.session.get(RiskReview, review_id)
    if review is None:
        raise NotFound("No such review.")
    return review


def get_item(review: RiskReview, item_id: int) -> ReviewItem:
    item = db.session.get(ReviewItem, item_id)
    if item is None or item.review_id != review.id:
        raise NotFound("No such item on this review's agenda.")
    return item


def _attend(review: RiskReview, person: User) -> None:
    if not any(attendee.user_id == person.id for attendee in review.attendees):
        review.attendees.append(ReviewAttendee(user_id=person.id, name=person.name))


def _begin(review: RiskReview, actor: User) -> None:
    if review.status == ReviewStatus.FINISHED:
        raise Conflict("This review is finished: its minutes are final.", "decision")
    if review.status == ReviewStatus.PLANNED:
        review.status, review.started_at, review.chaired_by_id = ReviewStatus.IN_PROGRESS, utcnow(), actor.id
        _attend(review, actor)


def start_review(review: RiskReview, *, actor: User) -> RiskReview:
    """Open the meeting (the one starting it chairs and attends); starting a running meeting changes nothing."""
    _begin(review, actor)
    db.session.commit()
    return review


def _score_text(likelihood: int, impact: int, level) -> str:
    return f"{likelihood}×{impact} ({level.value})"


def _apply(item: ReviewItem, decision: Decision, actor: User, values: dict) -> str:
    """Change the risk as decided; returns what changed, in words."""
    risk, settings = item.risk, current_settings()
    if decision == Decision.KEEP:
        return "Kept as it is."
    if decision == Decision.CHANGE_SCORE:
        before = _score_text(risk.likelihood, risk.impact, risk.level)
        if values.get("likelihood") is None or values.get("impact") is None:
            raise Invalid("Give the new likelihood and impact.", "likelihood")
        scores = {name: values.get(name) for name in ("inherent_likelihood", "inherent_impact", "likelihood",
                                                      "impact")}
        if not apply_scores(risk, settings, **scores):
            raise Invalid("That is the score it has: choose another likelihood or impact, or keep it.", "likelihood")
        touch(risk)
        history.record_state(risk, cause="review")
        return f"Residual score {before} → {_score_text(risk.likelihood, risk.impact, risk.level)}."
    if decision == Decision.ADD_ACTION:
        action = actions.apply_new_action(risk, description=values.get("action_description") or "",
                                          owner_id=values.get("action_owner_id"), due_on=values.get("action_due_on"))
        db.session.flush()
        owner = db.session.get(User, action.owner_id)
        late = " It is due after the quarter closes." if actions.is_after_close(action) else ""
        return f"Action added: {action.description} ({owner.name}, due {action.due_on.isoformat()}).{late}"
    if decision in (Decision.ACCEPT, Decision.CLOSE):
        workflow.apply_transition(risk, transition=decision.value, actor=actor, reason=values.get("reason"),
                                  expires_on=values.get("expires_on"), cause="review")
        if decision == Decision.ACCEPT:
            return f"Accepted until {risk.acceptance_expires_on.isoformat()}: {risk.acceptance_reason}"
        return f"Closed: {risk.close_reason}"
    workflow.apply_escalation(risk, actor=actor, note=values.get("note"))
    return "Escalated to the executives."


def record_decision(review: RiskReview, item: ReviewItem, *, actor: User, decision: str, note: str | None = "",
                    likelihood: int | None = None, impact: int | None = None,
                    inherent_likelihood: int | None = None, inherent_impact: int | None = None,
                    action_description: str | None = None, action_owner_id: int | None = None,
                    action_due_on: date | None = None, reason: str | None = None,
                    expires_on: date | None = None) -> ReviewItem:
    """Record the meeting's decision on one item and apply it to the risk; one decision per item."""
    if item.decision is not None:
        raise Conflict(f"{item.snapshot.get('reference')} already has a decision: {item.decision_label}.", "decision")
    try:
        chosen = Decision(decision)
    except ValueError:
        raise Invalid(f"Choose one of: {', '.join(d.value for d in Decision)}.", "decision") from None
    _begin(review, actor)
    # Claim the item first: of two people deciding the same item at once, the second finds it taken (on PostgreSQL
    # its UPDATE waits for the first to commit, then matches nothing) instead of changing the risk twice.
    claimed = db.session.execute(update(ReviewItem).where(ReviewItem.id == item.id, ReviewItem.decision.is_(None))
                                 .values(decision=chosen.value).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise Conflict("Someone recorded a decision on this item a moment ago; reload the page.", "decision")
    values = {"likelihood": likelihood, "impact": impact, "inherent_likelihood": inherent_likelihood,
              "inherent_impact": inherent_impact, "action_description": action_description,
              "action_owner_id": action_owner_id, "action_due_on": action_due_on, "reason": reason,
              "expires_on": expires_on, "note": note}
    text = clean_text(note, "note", 2000)
    try:
        outcome = _apply(item, chosen, actor, values)
    except DomainError as error:
        if chosen == Decision.ADD_ACTION or error.field == "transition":
            error.field = ACTION_FIELDS.get(error.field or "", error.field)
        raise
    cadence.mark_reviewed(item.risk, current_settings())
    item.decision, item.note, item.outcome = chosen.value, text, outcome
    item.decided_at, item.decided_by_id, item.decided_by_name = utcnow(), actor.id, actor.name
    _attend(review, actor)
    db.session.commit()
    return item


def finish_review(review: RiskReview, *, actor: User, attendee_ids: list[int] | None,
                  summary: str | None = "") -> RiskReview:
    """Close the meeting: who attended and a summary; the minutes are final and owners of overdue actions get
    their reminder from the scheduler."""
    if review.status == ReviewStatus.FINISHED:
        raise Conflict("This review is already finished.", "attendee_ids")
    ids = sorted({int(uid) for uid in attendee_ids or []})
    people = list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    if not people or len(people) != len(ids):
        raise Invalid("Tick who attended (at least one person).", "attendee_ids")
    text = clean_text(summary, "summary", 10_000)
    if review.status == ReviewStatus.PLANNED:
        review.started_at, review.chaired_by_id = utcnow(), actor.id
    # Keep the rows of people already listed: replacing them all would insert before deleting and trip the
    # unique (review, person) key.
    for attendee in [a for a in review.attendees if a.user_id not in ids]:
        review.attendees.remove(attendee)
    for person in people:
        _attend(review, person)
    review.summary, review.status, review.finished_at = text, ReviewStatus.FINISHED, utcnow()
    db.session.commit()
    return review
