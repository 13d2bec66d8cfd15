"""Reading reviews: the list, a risk's appearances on agendas, and what changed on a risk since the last review."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from app.alerting.models import OutboundMessage
from app.audit.models import AuditEvent
from app.extensions import db
from app.reviews.models import ReviewDecision, ReviewItem, ReviewMessage, RiskReview
from app.risks import history
from app.risks.services import loading_risk_and_owner

if TYPE_CHECKING:
    from app.risks.models import Risk, RiskScore


# The newest week first; a week has one review (week_key is unique), and the id makes the order total anyway,
# which keyset pages need.
REVIEW_ORDER = [RiskReview.week_start.desc(), RiskReview.id.desc()]


def reviews_query():
    """Every review, the newest week first."""
    return select(RiskReview).order_by(*REVIEW_ORDER)


def item_counts(review_ids: list[int]) -> dict[int, tuple[int, int]]:
    """review id -> (agenda items, decided items), in one query for a page of reviews."""
    if not review_ids:
        return {}
    decided = select(ReviewDecision.item_id).distinct().scalar_subquery()
    rows = db.session.execute(select(ReviewItem.review_id, func.count(),
                                     func.sum(case((ReviewItem.id.in_(decided), 1), else_=0)))
                              .where(ReviewItem.review_id.in_(review_ids)).group_by(ReviewItem.review_id))
    return {review_id: (total, int(decided or 0)) for review_id, total, decided in rows}


def items_of(review: RiskReview) -> list[ReviewItem]:
    """The agenda with each item's risk (and owner) loaded in one go."""
    return list(db.session.scalars(select(ReviewItem).where(ReviewItem.review_id == review.id)
                                   .options(loading_risk_and_owner(ReviewItem.risk))
                                   .order_by(ReviewItem.position)))


def decisions_for_risk(risk_id: int, limit: int = 52) -> list[ReviewItem]:
    """The risk's appearances on agendas (with the decision taken, if any), the latest week first."""
    return list(db.session.scalars(select(ReviewItem).join(ReviewItem.review).where(ReviewItem.risk_id == risk_id)
                                   .options(selectinload(ReviewItem.review))
                                   .order_by(RiskReview.week_start.desc()).limit(limit)))


def messages_of(review: RiskReview) -> list[tuple[ReviewMessage, OutboundMessage | None]]:
    """Pre-reads and reminders of the review, failed ones first, with the message row that says what happened."""
    rows = db.session.execute(select(ReviewMessage, OutboundMessage)
                              .outerjoin(OutboundMessage, OutboundMessage.id == ReviewMessage.message_id)
                              .where(ReviewMessage.review_id == review.id)
                              .order_by(ReviewMessage.purpose, ReviewMessage.status != "failed",
                                        ReviewMessage.name)).all()
    return [(row[0], row[1]) for row in rows]


@dataclass(frozen=True)
class Changes:
    then: RiskScore | None  # the risk's state when the previous review was built (None: it did not exist)
    events: list[AuditEvent]


def changes_since(risk: Risk, since: datetime) -> Changes:
    """The risk's state at `since` and every recorded change to it, its actions and links after that."""
    return Changes(then=history.state_at(risk.id, since), events=history.audit_trail(risk, since=since, limit=100))
