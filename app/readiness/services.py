"""What the readiness pages ask of the domain: which quarter, who can own an item, and the checklist and lesson
changes, each rolled back when refused so the page shows its form again on a clean session. The rules themselves
are in checklist.py and lessons.py; the score in score.py and snapshots.py."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select

from app.auth.models import User
from app.calendar.services import close_region, fiscal_start_month
from app.errors import DomainError
from app.extensions import db
from app.readiness import checklist, lessons
from app.timeutil import FiscalQuarter, fiscal_quarter

T = TypeVar("T")


def current_quarter() -> FiscalQuarter:
    """The quarter the close region is in today."""
    return close_region().quarter_at()


def quarter_from(code: str | None) -> FiscalQuarter | None:
    """The quarter a code such as "FY27-Q4" names in this company's fiscal year; None when empty."""
    return checklist.parse_quarter(code, fiscal_start_month())


def quarter_of(item) -> FiscalQuarter:
    """The quarter a checklist item belongs to."""
    return fiscal_quarter(item.fiscal_year, item.quarter, fiscal_start_month())


def active_people() -> list[User]:
    """Everyone who may own a checklist line or a lesson, by name."""
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def _refusal_rolled_back(change: Callable[..., T], *args, **values) -> T:
    try:
        return change(*args, **values)
    except DomainError:
        db.session.rollback()  # nothing half-made stays in the session the page renders from
        raise


def update_item(actor: User, item, **values):
    return _refusal_rolled_back(checklist.update_item, actor, item, **values)


def save_template_item(line, **values):
    return _refusal_rolled_back(checklist.save_template_item, line, **values)


def add_lesson(**values):
    return _refusal_rolled_back(lessons.add_lesson, **values)


def update_lesson(lesson, **values):
    return _refusal_rolled_back(lessons.update_lesson, lesson, **values)
