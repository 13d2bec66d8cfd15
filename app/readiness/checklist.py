"""The readiness template and each quarter's checklist: instantiation, due dates, item progress."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.auth.roles import EDITORS
from app.calendar.models import Region
from app.calendar.services import person_calendar, person_zone
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.readiness.models import (TRACK_VALUES, ChecklistItem, ChecklistTemplateItem, ItemStatus, Lesson,
                                  ReadinessQuarter)
from app.timeutil import FiscalQuarter, business_day_offset, date_in, fiscal_quarter, utcnow


# --- due dates --------------------------------------------------------------------------------------------

def due_date(quarter: FiscalQuarter, offset: int, *, region: Region | None, owner: User | None) -> date:
    """BD<offset> of `quarter` in the item's region, else its owner's region, else on the close region's calendar
    (its public holidays count too)."""
    calendar = region.calendar if region is not None else person_calendar(owner)
    return business_day_offset(quarter, offset, calendar)


def item_zone(item: ChecklistItem) -> str:
    """Where an item's dates are read: its region, else its owner's (their region, else their own zone), else the
    close region's. The same place its due date was counted in."""
    return item.region.time_zone if item.region is not None else person_zone(item.owner)


def item_today(item: ChecklistItem, at: datetime | None = None) -> date:
    """The date at `at` (default now) where the item belongs."""
    return date_in(at or utcnow(), item_zone(item))


def is_overdue(item: ChecklistItem, at: datetime | None = None) -> bool:
    """Open and past its due date where it belongs: overdue from the owner's local midnight, not UTC's."""
    return item.item_status.is_open and item.due_on < item_today(item, at)


def parse_quarter(code: str | None, start_month: int) -> FiscalQuarter | None:
    """Read "FY27-Q4" (or "FY2027-Q4"); None when `code` is empty; Invalid when malformed."""
    if not code:
        return None
    text = code.strip().upper()
    try:
        year_part, quarter_part = text.split("-")
        if not (year_part.startswith("FY") and quarter_part.startswith("Q")):
            raise ValueError
        year, number = int(year_part[2:]), int(quarter_part[1:])
        year = year + 2000 if year < 100 else year
        return fiscal_quarter(year, number, start_month)
    except ValueError:
        raise Invalid("Name a quarter like FY27-Q4.", "quarter") from None


# --- template ---------------------------------------------------------------------------------------------

def _check_template_values(*, title: str, track: str, owner_id: int | None, owner_role: str) -> None:
    if not title.strip():
        raise Invalid("Give the item a title.", "title")
    if track not in TRACK_VALUES:
        raise Invalid("Unknown track.", "track")
    if owner_id is None and not owner_role.strip():
        raise Invalid("Name an owner: a person or a role.", "owner_id")
    if owner_id is not None and db.session.get(User, owner_id) is None:
        raise Invalid("No such person.", "owner_id")


def list_template() -> list[ChecklistTemplateItem]:
    return list(db.session.scalars(select(ChecklistTemplateItem).order_by(
        ChecklistTemplateItem.active.desc(), ChecklistTemplateItem.bd_offset, ChecklistTemplateItem.id)))


def get_template_item(item_id: int) -> ChecklistTemplateItem:
    item = db.session.get(ChecklistTemplateItem, item_id)
    if item is None:
        raise NotFound("No such template item.")
    return item


def save_template_item(item: ChecklistTemplateItem | None = None, **fields) -> ChecklistTemplateItem:
    """Create or change a template line; checklists already created keep their copies (future quarters only)."""
    item = set_template_item(item, **fields)
    db.session.commit()
    return item


def set_template_item(item: ChecklistTemplateItem | None = None, *, title: str, track: str,
                      owner_id: int | None = None, owner_role: str = "", region_id: int | None = None, bd_offset: int,
                      evidence_required: bool = False, active: bool = True) -> ChecklistTemplateItem:
    """save_template_item without the commit (the demo writes its template in one transaction)."""
    _check_template_values(title=title, track=track, owner_id=owner_id, owner_role=owner_role)
    if item is None:
        item = ChecklistTemplateItem()
        db.session.add(item)
    item.title, item.track, item.owner_id, item.owner_role = title.strip(), track, owner_id, owner_role.strip()
    item.region_id, item.bd_offset = region_id, bd_offset
    item.evidence_required, item.active = evidence_required, active
    return item


# --- instantiation ----------------------------------------------------------------------------------------

def _item_from_template(quarter: FiscalQuarter, line: ChecklistTemplateItem) -> ChecklistItem:
    return ChecklistItem(fiscal_year=quarter.fiscal_year, quarter=quarter.quarter, template_item_id=line.id,
                         title=line.title, track=line.track, owner_id=line.owner_id, owner_role=line.owner_role,
                         region_id=line.region_id, bd_offset=line.bd_offset, evidence_required=line.evidence_required,
                         due_on=due_date(quarter, line.bd_offset, region=line.region, owner=line.owner))


LESSON_OFFSET = -10  # a lesson's item is due with the other BD-10 preparations


def item_for_lesson(quarter: FiscalQuarter, lesson: Lesson) -> ChecklistItem:
    return ChecklistItem(fiscal_year=quarter.fiscal_year, quarter=quarter.quarter, lesson_id=lesson.id,
                         title=f"Lesson: {lesson.title}"[:200], track="lessons", owner_id=lesson.owner_id,
                         owner_role="" if lesson.owner_id else "Crisis team", bd_offset=LESSON_OFFSET,
                         due_on=due_date(quarter, LESSON_OFFSET, region=None, owner=lesson.owner),
                         evidence_required=True)


def lessons_due_in(quarter: FiscalQuarter) -> list[Lesson]:
    """Open lessons meant for `quarter` or an earlier one that have no item in `quarter` yet."""
    key = (quarter.fiscal_year, quarter.quarter)
    carried = select(ChecklistItem.lesson_id).where(ChecklistItem.fiscal_year == quarter.fiscal_year,
                                                    ChecklistItem.quarter == quarter.quarter,
                                                    ChecklistItem.lesson_id.is_not(None))
    return list(db.session.scalars(select(Lesson).where(
        Lesson.status == "open", tuple_(Lesson.target_fiscal_year, Lesson.target_quarter) <= key,
        Lesson.id.not_in(carried)).order_by(Lesson.id)))


def is_instantiated(quarter: FiscalQuarter) -> bool:
    return db.session.scalar(select(ReadinessQuarter.id).where(
        ReadinessQuarter.fiscal_year == quarter.fiscal_year, ReadinessQuarter.quarter == quarter.quarter)) is not None


def instantiate_quarter(*, quarter: FiscalQuarter, by: str) -> int:
    """Create `quarter`'s checklist from the active template lines and open lessons, once; returns items created.

    The quarter row is written first: a second caller (another scheduler, a double click) hits its unique key
    and creates nothing.
    """
    if is_instantiated(quarter):
        return 0
    try:
        db.session.add(ReadinessQuarter(fiscal_year=quarter.fiscal_year, quarter=quarter.quarter, instantiated_by=by))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return 0
    lines = db.session.scalars(select(ChecklistTemplateItem).where(ChecklistTemplateItem.active.is_(True))
                               .order_by(ChecklistTemplateItem.bd_offset, ChecklistTemplateItem.id)).all()
    items = [_item_from_template(quarter, line) for line in lines]
    items += [item_for_lesson(quarter, lesson) for lesson in lessons_due_in(quarter)]
    db.session.add_all(items)
    db.session.commit()
    return len(items)


# --- items ------------------------------------------------------------------------------------------------

def new_item(quarter: FiscalQuarter, *, title: str, track: str, bd_offset: int, owner_id: int | None = None,
             owner_role: str = "", evidence_required: bool = False) -> ChecklistItem:
    """Add one item to `quarter`'s checklist outside the template (a follow-up from an incident review), in the
    caller's transaction (it commits). Due BD<offset> in the owner's region; the item joins the quarter's
    checklist whether or not it has been created yet (creating it later keeps this item)."""
    _check_template_values(title=title, track=track, owner_id=owner_id, owner_role=owner_role)
    if not -120 <= bd_offset <= 60:
        raise Invalid("A business-day offset from BD-120 to BD+60.", "bd_offset")
    owner = db.session.get(User, owner_id) if owner_id is not None else None
    item = ChecklistItem(fiscal_year=quarter.fiscal_year, quarter=quarter.quarter, title=title.strip()[:200],
                         track=track, owner_id=owner_id, owner_role=owner_role.strip(), bd_offset=bd_offset,
                         evidence_required=evidence_required,
                         due_on=due_date(quarter, bd_offset, region=None, owner=owner))
    db.session.add(item)
    db.session.flush()
    return item


def item_statuses(item_ids: list[int]) -> dict[int, str]:
    """The status of each checklist item that still exists, in one query."""
    if not item_ids:
        return {}
    return dict(db.session.execute(select(ChecklistItem.id, ChecklistItem.status)
                                   .where(ChecklistItem.id.in_(list(item_ids)))).all())


def quarter_items(quarter: FiscalQuarter) -> list[ChecklistItem]:
    return list(db.session.scalars(select(ChecklistItem).where(
        ChecklistItem.fiscal_year == quarter.fiscal_year, ChecklistItem.quarter == quarter.quarter)
        .order_by(ChecklistItem.due_on, ChecklistItem.id)))


def get_item(item_id: int) -> ChecklistItem:
    item = db.session.get(ChecklistItem, item_id)
    if item is None:
        raise NotFound("No such checklist item.")
    return item


def can_update(actor: User, item: ChecklistItem) -> bool:
    """The crisis team and administrators update any item; an owner updates their own."""
    return actor.role in EDITORS or (item.owner_id is not None and item.owner_id == actor.id)


def update_item(actor: User, item: ChecklistItem, *, status: str, evidence: str = "",
                na_reason: str = "") -> ChecklistItem:
    """Move an item to todo/doing/done/na; done records who and when (and closes its lesson), na needs a reason."""
    if not can_update(actor, item):
        raise Forbidden("Only the item's owner or the crisis team can update it.")
    try:
        new = ItemStatus(status)
    except ValueError:
        raise Invalid("Unknown status.", "status") from None
    evidence, na_reason = (evidence or "").strip(), (na_reason or "").strip()
    if new is ItemStatus.DONE and item.evidence_required and not evidence:
        raise Invalid("This item needs evidence: a note or a link.", "evidence")
    if new is ItemStatus.NOT_APPLICABLE and not na_reason:
        raise Invalid("Say why it does not apply.", "na_reason")
    item.status = new.value
    item.evidence = evidence or item.evidence
    item.na_reason = na_reason if new is ItemStatus.NOT_APPLICABLE else ""
    if new is ItemStatus.DONE:
        if item.done_at is None:
            item.done_at, item.done_by_id = utcnow(), actor.id
    else:
        item.done_at = item.done_by_id = None
    if item.lesson is not None:
        # A lesson is closed by its item being done, and only by that; undoing the item reopens it.
        done = new is ItemStatus.DONE
        item.lesson.status = "closed" if done else "open"
        item.lesson.closed_at = item.done_at if done else None
    db.session.commit()
    return item
