"""What the review pages ask of the domain beyond building (agenda.py), running (meeting.py) and reading
(queries.py) a review: a page of reviews, the crisis team's today, the flags on a risk's actions, and a
decision rolled back when refused so the meeting page shows its form again on a clean session."""
from __future__ import annotations

from datetime import date

from app.errors import DomainError
from sqlalchemy import select

from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.reviews import meeting, queries
from app.reviews.models import RiskReview
from app.risks import actions, cadence
from app.risks.scoring import current_settings


def reviews_page(*, after: str | None = None, before: str | None = None, per_page: int = 50) -> KeysetPage:
    """One page of reviews, the latest week first, after or before a cursor (app/keyset.py)."""
    return keyset_page(select(RiskReview), queries.REVIEW_ORDER, after=after, before=before, per_page=per_page)


def team_today() -> date:
    """Today in the crisis team's review time zone."""
    return cadence.team_today(current_settings())


def action_flags(risk, today: date) -> dict[int, tuple[bool, bool]]:
    """action id -> (overdue today, due after the quarter closes), for each of the risk's actions."""
    return {action.id: (actions.is_overdue(action, today), actions.is_after_close(action)) for action in risk.actions}


def record_decision(review, item, **values):
    try:
        return meeting.record_decision(review, item, **values)
    except DomainError:
        db.session.rollback()  # the page is shown again as it was before the refused decision
        raise
