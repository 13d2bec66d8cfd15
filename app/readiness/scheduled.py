"""Scheduler jobs: create each quarter's checklist, store the daily snapshot and freeze a quarter at the end of its
BD0, remind owners of overdue items."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.alerting.notices import queue_notice
from app.calendar.services import current_quarter
from app.extensions import db
from app.oncall import services as oncall
from app.oncall.models import ContactKind
from app.readiness.checklist import instantiate_quarter, is_overdue
from app.readiness.models import OPEN_ITEM_STATUSES, ChecklistItem, ReadinessQuarter
from app.readiness.snapshots import freeze_closed_quarter, take_snapshot
from app.readiness.tracks.checklist import quarter_code
from app.timeutil import fiscal_quarter, utcnow

log = logging.getLogger("quarterdeck.readiness")
# Written, not spoken: an overdue checklist item is no reason to phone anyone.
REMINDER_KINDS = (ContactKind.EMAIL, ContactKind.SMS)


def instantiate_current_quarter() -> int:
    """From the first day of a quarter (in the close region), its checklist exists (created once, whoever runs
    first)."""
    quarter = current_quarter()
    created = instantiate_quarter(quarter=quarter, by="scheduler")
    if created:
        log.info("readiness checklist for %s created with %d items", quarter.label, created)
    return created


def snapshot_today() -> dict[str, bool]:
    """Freeze the quarter whose BD0 has just ended (once), then store today's snapshot (once a day)."""
    frozen = freeze_closed_quarter()
    if frozen is not None:
        log.info("readiness of FY%s Q%s frozen as at %s: %s", frozen.fiscal_year, frozen.quarter,
                 frozen.as_of.isoformat(), frozen.score)
    return {"frozen": frozen is not None, "snapshot": take_snapshot() is not None}


def _method_for(person):
    usable = [method for method in oncall.list_methods(person) if method.is_usable]
    return next((method for kind in REMINDER_KINDS for method in usable if method.kind == kind), None)


def remind_overdue_items() -> dict[str, int]:
    """Remind the owner of each open item past its due date once; the outcome is kept on the item.

    Overdue is judged where the item belongs (its region, else its owner's): from their midnight, not UTC's.
    The item is claimed with a conditional UPDATE (reminded_at still empty) before anything is sent, so two
    schedulers never remind twice. Items owned only by a role have nobody to write to: recorded as no_owner.
    """
    now = utcnow()
    # No zone's date is more than a day ahead of UTC's: items due before then are the only candidates.
    latest = now.date() + timedelta(days=1)
    summary = {"queued": 0, "no_owner": 0, "no_method": 0}
    quarters = db.session.execute(select(ReadinessQuarter.fiscal_year, ReadinessQuarter.quarter)).all()
    candidates = db.session.scalars(select(ChecklistItem).where(
        ChecklistItem.status.in_(OPEN_ITEM_STATUSES), ChecklistItem.due_on < latest,
        ChecklistItem.reminded_at.is_(None)).order_by(ChecklistItem.id).limit(2000)).all() if quarters else []
    ids = [item.id for item in candidates if is_overdue(item, now)][:500]
    for item_id in ids:
        claimed = db.session.execute(update(ChecklistItem).where(
            ChecklistItem.id == item_id, ChecklistItem.reminded_at.is_(None)).values(reminded_at=utcnow()))
        if claimed.rowcount != 1:
            db.session.rollback()
            continue
        item = db.session.get(ChecklistItem, item_id)
        outcome = _remind(item)
        summary[outcome] += 1
        db.session.commit()
    return summary


def _remind(item: ChecklistItem) -> str:
    owner = item.owner
    if owner is None or not owner.active:
        item.reminder_outcome = "no_owner"
        return "no_owner"
    method = _method_for(owner)
    if method is None:
        item.reminder_outcome = "no_method"
        return "no_method"
    quarter = fiscal_quarter(item.fiscal_year, item.quarter, int(current_app.config["FISCAL_YEAR_START_MONTH"]))
    url = f"{current_app.config['PUBLIC_BASE_URL']}/readiness/checklist?quarter={quarter_code(quarter)}#item-{item.id}"
    message = queue_notice(user_id=owner.id, method=method, purpose="readiness_overdue",
                          template=f"readiness_overdue_{method.kind.value}", name=owner.name, title=item.title,
                          quarter_label=quarter.label, due_on=item.due_on.isoformat(), offset=f"{item.bd_offset:+d}",
                          url=url)
    item.reminder_message_id = message.id
    item.reminder_outcome = "queued"  # the linked message says whether it left
    return item.reminder_outcome
