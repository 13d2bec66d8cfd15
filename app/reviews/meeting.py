"""Running the meeting: start it, record decisions on each agenda item, finish it (attendees and summary).

An item can take several decisions (accept the risk and add an action): each changes the risk through the register's
own services (scores, actions, workflow, escalation), counts as the risk's review (its next review moves a cadence
ahead) and is kept on the item with what it changed; the risk's page lists them all. "Keep as is" is a decision on
its own, and the same decision twice on one item is refused (adding actions excepted).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.auth.models import User
from app.database import commit_or_conflict
from app.errors import Conflict, DomainError, Invalid, NotFound
from app.extensions import db
from app.reviews.models import Decision, ReviewAttendee, ReviewDecision, ReviewItem, ReviewStatus, RiskReview
from app.risks import actions, cadence, escalations, history, workflow
from app.risks.scoring import current_settings
from app.risks.services import apply_scores, clean_text, is_critical, touch
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
    note = clean_text(values.get("note"), "note", 2000)
    words = note or f"The {item.review.title.lower()} escalated it."
    escalation = escalations.apply_escalation(risk, actor=actor, text=words, source=item.review.title)
    told = len({notice.user_id for notice in escalation.notices})
    return (f"Escalated to the executives: {told} notified" if told else
            "Escalated to the executives, but there is no active executive to notify") + \
        (" (email and SMS: the risk is critical)." if told and is_critical(escalation.level) else ".")


def _check_combination(item: ReviewItem, chosen: Decision) -> None:
    taken = item.decision_values
    if chosen == Decision.KEEP and taken:
        raise Conflict("This item already has a decision: keeping it as is says the opposite.", "decision")
    if Decision.KEEP.value in taken:
        raise Conflict("This item was kept as it is; a further decision would contradict it.", "decision")
    if chosen != Decision.ADD_ACTION and chosen.value in taken:
        raise Conflict(f"{item.snapshot.get('reference')} already has this decision: {chosen.label}.", "decision")


def record_decision(review: RiskReview, item: ReviewItem, *, actor: User, decision: str, note: str | None = "",
                    likelihood: int | None = None, impact: int | None = None,
                    inherent_likelihood: int | None = None, inherent_impact: int | None = None,
                    action_description: str | None = None, action_owner_id: int | None = None,
                    action_due_on: date | None = None, reason: str | None = None,
                    expires_on: date | None = None) -> ReviewDecision:
    """Record one more of the meeting's decisions on an item and apply it to the risk; an item takes several."""
    try:
        chosen = Decision(decision)
    except ValueError:
        raise Invalid(f"Choose one of: {', '.join(d.value for d in Decision)}.", "decision") from None
    _begin(review, actor)
    # Lock the item (PostgreSQL): two people deciding on it at once take turns, and the second sees the first's
    # decision. The unique index on (item, decision) stops a double click the same way on SQLite.
    db.session.execute(select(ReviewItem.id).where(ReviewItem.id == item.id).with_for_update())
    db.session.refresh(item, ["decisions"])
    _check_combination(item, chosen)
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
    record = ReviewDecision(decision=chosen.value, note=text, outcome=outcome, decided_at=utcnow(),
                            decided_by_id=actor.id, decided_by_name=actor.name)
    item.decisions.append(record)
    _attend(review, actor)
    commit_or_conflict("Someone recorded this decision on this item a moment ago; reload the page.", "decision")
    return record


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
