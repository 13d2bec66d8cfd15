"""Checklist and lessons-learned tracks, read from this domain's own tables."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import and_, or_, select, tuple_

from app.extensions import db
from app.readiness.checklist import is_overdue, item_today
from app.readiness.models import OPEN_ITEM_STATUSES, ChecklistItem, Lesson, ReadinessQuarter
from app.readiness.tracks.base import ChaseItem, Context, Finding, TrackResult, not_tracked, scored
from app import timeutil

DUE_SOON = timedelta(days=7)


def _quarter_link(ctx: Context) -> str:
    return url_for("readiness.checklist", quarter=quarter_code(ctx.quarter))


def quarter_code(quarter) -> str:
    """The quarter as the API and the URLs name it: FY27-Q4."""
    return timeutil.quarter_code(quarter.fiscal_year, quarter.quarter)


def assess_checklist(ctx: Context) -> TrackResult:
    """Overdue items cost most; open items falling due within a week cost a little."""
    exists = db.session.scalar(select(ReadinessQuarter.id).where(
        ReadinessQuarter.fiscal_year == ctx.quarter.fiscal_year, ReadinessQuarter.quarter == ctx.quarter.quarter))
    if exists is None:
        return not_tracked("checklist", f"Not tracked yet: the {ctx.quarter.label} checklist has not been created.")
    open_items = _open_items(ctx)
    # Each item's own date decides (its region's, else its owner's): overdue from their midnight, not UTC's.
    overdue = [item for item in open_items if is_overdue(item, ctx.now)]
    soon = [item for item in open_items if not is_overdue(item, ctx.now)
            and item.due_on <= item_today(item, ctx.now) + DUE_SOON]
    link = _quarter_link(ctx)

    def line(prefix: str, item: ChecklistItem) -> tuple[str, str]:
        return (f"{prefix} {item.due_on:%d %b} (BD{item.bd_offset:+d}): {item.title} — {item.owner_label}",
                f"{link}#item-{item.id}")

    findings = [
        Finding("checklist items overdue", len(overdue), 8, 48, [line("Overdue since", i) for i in overdue], link,
                severe=True),
        Finding("checklist items due within a week", len(soon), 2, 10, [line("Due", i) for i in soon], link),
    ]
    return scored("checklist", findings)


def _open_items(ctx: Context) -> list[ChecklistItem]:
    return list(db.session.scalars(select(ChecklistItem).where(
        ChecklistItem.fiscal_year == ctx.quarter.fiscal_year, ChecklistItem.quarter == ctx.quarter.quarter,
        ChecklistItem.status.in_(OPEN_ITEM_STATUSES)).order_by(ChecklistItem.due_on, ChecklistItem.id)))


def chase(ctx: Context) -> list[ChaseItem]:
    """Open items overdue (where each belongs) or due within a week, soonest due first."""
    link = _quarter_link(ctx)
    items = []
    for item in _open_items(ctx):
        overdue = is_overdue(item, ctx.now)
        if overdue or item.due_on <= item_today(item, ctx.now) + DUE_SOON:
            items.append(ChaseItem(f"{'Overdue' if overdue else 'Due'} {item.due_on:%d %b} (BD{item.bd_offset:+d}): "
                                   f"{item.title}", item.owner_label or "No owner", f"{link}#item-{item.id}",
                                   due_on=item.due_on, urgent=overdue))
    return items


def _open_lessons(ctx: Context) -> list[Lesson]:
    previous = ctx.quarter.previous()
    key = (ctx.quarter.fiscal_year, ctx.quarter.quarter)
    return list(db.session.scalars(select(Lesson).where(Lesson.status == "open", or_(
        and_(Lesson.from_fiscal_year == previous.fiscal_year, Lesson.from_quarter == previous.quarter),
        tuple_(Lesson.target_fiscal_year, Lesson.target_quarter) <= key)).order_by(Lesson.id)))


def chase_lessons(ctx: Context) -> list[ChaseItem]:
    """Lessons from the last close still open, with their owners (the crisis team when nobody is named)."""
    return [ChaseItem(f"Lesson open: {lesson.title}", lesson.owner.name if lesson.owner else "Crisis team",
                      url_for("readiness.lessons") + f"#lesson-{lesson.id}") for lesson in _open_lessons(ctx)]


def assess_lessons(ctx: Context) -> TrackResult:
    """Lessons from the last close still open, or any open lesson meant for this quarter or earlier."""
    if db.session.scalar(select(Lesson.id).limit(1)) is None:
        return not_tracked("lessons", "Not tracked yet: no lessons learned are recorded.")
    lessons = _open_lessons(ctx)
    findings = [Finding("lessons learned still open", len(lessons), 5, 25,
                        [(f"Lesson open: {lesson.title}", url_for("readiness.lessons") + f"#lesson-{lesson.id}")
                         for lesson in lessons], url_for("readiness.lessons"))]
    return scored("lessons", findings)
