"""Lessons learned at a close, carried into the target quarter's checklist and closed only by that item."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.readiness.checklist import is_instantiated, item_for_lesson
from app.readiness.models import OPEN_ITEM_STATUSES, ChecklistItem, Lesson
from app.timeutil import FiscalQuarter


# Open first ("open" > "closed"), the latest target quarter first; the id breaks ties, which keyset pages need
# (ix_readiness_lessons_order serves it).
LESSON_ORDER = [Lesson.status.desc(), Lesson.target_fiscal_year.desc(), Lesson.target_quarter.desc(),
                Lesson.id.desc()]


def list_lessons() -> list[Lesson]:
    return list(db.session.scalars(select(Lesson).order_by(*LESSON_ORDER)))


def lessons_page(*, after: str | None = None, before: str | None = None, per_page: int = 50) -> KeysetPage:
    """One page of lessons in list_lessons' order, with their owners, after or before a cursor (app/keyset.py)."""
    return keyset_page(select(Lesson).options(selectinload(Lesson.owner)), LESSON_ORDER, after=after, before=before,
                       per_page=per_page)


def get_lesson(lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound("No such lesson.")
    return lesson


def items_by_lesson(lessons: list[Lesson]) -> dict[int, list[ChecklistItem]]:
    """The checklist items each lesson was carried into, in one query."""
    ids = [lesson.id for lesson in lessons]
    found: dict[int, list[ChecklistItem]] = {lesson_id: [] for lesson_id in ids}
    if ids:
        for item in db.session.scalars(select(ChecklistItem).where(ChecklistItem.lesson_id.in_(ids))
                                       .order_by(ChecklistItem.fiscal_year, ChecklistItem.quarter)):
            found[item.lesson_id].append(item)
    return found


def _check_words_and_owner(title: str, recommendation: str, owner_id: int | None) -> None:
    if not title.strip():
        raise Invalid("Give the lesson a title.", "title")
    if not recommendation.strip():
        raise Invalid("Write the recommendation.", "recommendation")
    if owner_id is not None and db.session.get(User, owner_id) is None:
        raise Invalid("No such person.", "owner_id")


def new_lesson(*, title: str, recommendation: str, owner_id: int | None, learned_in: FiscalQuarter,
               target: FiscalQuarter) -> Lesson:
    """Add an open lesson to the caller's transaction (it commits); if the target quarter's checklist already
    exists, the lesson joins it now. Other domains (an incident review) hand their lessons over through this."""
    _check_words_and_owner(title, recommendation, owner_id)
    if (target.fiscal_year, target.quarter) <= (learned_in.fiscal_year, learned_in.quarter):
        raise Invalid("The target quarter must come after the quarter it was learned in.", "target_quarter")
    lesson = Lesson(title=title.strip()[:200], recommendation=recommendation.strip(), owner_id=owner_id,
                    from_fiscal_year=learned_in.fiscal_year, from_quarter=learned_in.quarter,
                    target_fiscal_year=target.fiscal_year, target_quarter=target.quarter, status="open")
    db.session.add(lesson)
    db.session.flush()
    if is_instantiated(target):
        db.session.refresh(lesson)  # loads the owner for the item's due date
        db.session.add(item_for_lesson(target, lesson))
    return lesson


def add_lesson(*, title: str, recommendation: str, owner_id: int | None, learned_in: FiscalQuarter,
               target: FiscalQuarter) -> Lesson:
    """Record an open lesson; if the target quarter's checklist already exists, the lesson joins it now."""
    lesson = new_lesson(title=title, recommendation=recommendation, owner_id=owner_id, learned_in=learned_in,
                        target=target)
    db.session.commit()
    return lesson


def update_lesson(lesson: Lesson, *, title: str, recommendation: str, owner_id: int | None) -> Lesson:
    """Reword an open lesson or give it another owner; its checklist items still open follow (title, owner).

    Its quarters stay: the items already made for them are the record of where it was carried."""
    if not lesson.is_open:
        raise Conflict("A closed lesson is part of the record; record a new one instead.")
    _check_words_and_owner(title, recommendation, owner_id)
    lesson.title, lesson.recommendation, lesson.owner_id = title.strip(), recommendation.strip(), owner_id
    open_items = db.session.scalars(select(ChecklistItem).where(
        ChecklistItem.lesson_id == lesson.id,
        ChecklistItem.status.in_(OPEN_ITEM_STATUSES)))
    for item in open_items:
        item.title = f"Lesson: {lesson.title}"[:200]
        item.owner_id, item.owner_role = owner_id, "" if owner_id else "Crisis team"
    db.session.commit()
    return lesson
