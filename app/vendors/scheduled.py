"""Scheduler job: remind vendor owners of contacts nobody has confirmed this quarter, before the quarter closes.

At each business-day offset of VENDOR_REMINDER_OFFSETS (default BD-20 and BD-10, counted in the owner's region),
the owner of each critical or important vendor with unconfirmed contacts is told once. Every reminder leaves a
VendorReminder row with its outcome, including "no owner" and "no way to reach the owner", which the campaign
page shows: nothing is skipped silently.
"""
from __future__ import annotations

import logging
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.alerting.notices import queue_notice
from app.auth.models import User
from app.calendar.services import person_calendar, person_today, quarter_for
from app.extensions import db
from app.oncall.models import ContactKind, ContactMethod
from app.oncall.services import list_methods
from app.timeutil import BusinessCalendar, FiscalQuarter, business_day_offset, close_day, format_bd_offset
from app.vendors.campaign import campaign_vendors_query, unconfirmed_contacts
from app.vendors.models import ReminderOutcome, Vendor, VendorReminder

log = logging.getLogger("quarterdeck.vendors")

PURPOSE = "vendor_reminder"
# Written, not spoken: email first, then SMS; nobody is phoned about a contact list.
REMINDER_KINDS = (ContactKind.EMAIL, ContactKind.SMS)
NAMES_LISTED = 10


def _owner_calendar(owner: User | None) -> tuple[BusinessCalendar, date]:
    """The owner's business days (their region's holidays, else the close region's) and today's date where they
    work; a vendor without an owner counts on the close region's calendar and date."""
    return person_calendar(owner), person_today(owner)


def due_offset(offsets: tuple[int, ...], quarter: FiscalQuarter, calendar: BusinessCalendar,
               today: date) -> int | None:
    """The latest offset whose day has come in this quarter, or None before the first one.

    Only the latest: a scheduler that was down over BD-20 sends the BD-10 reminder once, not both at once.
    """
    due = [offset for offset in offsets if business_day_offset(quarter, offset, calendar) <= today]
    return max(due) if due and today <= quarter.last_day else None


def reminder_method(person: User) -> ContactMethod | None:
    usable = [method for method in list_methods(person) if method.is_usable]
    for kind in REMINDER_KINDS:
        for method in usable:
            if method.kind == kind:
                return method
    return None


def remind_vendor_owners() -> dict[str, int]:
    """Send each due reminder once per vendor, offset and quarter; returns how many went which way."""
    offsets = tuple(current_app.config["VENDOR_REMINDER_OFFSETS"])
    summary = {outcome.value: 0 for outcome in (ReminderOutcome.QUEUED, ReminderOutcome.NO_OWNER,
                                                  ReminderOutcome.NO_METHOD)} | {"already": 0}
    if not offsets:
        return summary
    for vendor in db.session.scalars(campaign_vendors_query()).all():
        owner = vendor.owner if vendor.owner is not None and vendor.owner.active else None
        calendar, today = _owner_calendar(owner)
        quarter = quarter_for(today)
        offset = due_offset(offsets, quarter, calendar, today)
        if offset is None:
            continue
        if _recorded(vendor, quarter, offset):
            summary["already"] += 1
            continue
        pending = unconfirmed_contacts(vendor, quarter)
        if not pending:
            continue  # nothing to chase; if a contact is added later, a later run still reminds
        outcome = _remind(vendor, owner, quarter, offset, calendar, pending)
        summary[outcome.value if outcome else "already"] += 1
    return summary


def _recorded(vendor: Vendor, quarter: FiscalQuarter, offset: int) -> bool:
    return db.session.scalar(select(VendorReminder.id).where(
        VendorReminder.vendor_id == vendor.id, VendorReminder.fiscal_year == quarter.fiscal_year,
        VendorReminder.quarter == quarter.quarter, VendorReminder.bd_offset == offset)) is not None


def _remind(vendor: Vendor, owner: User | None, quarter: FiscalQuarter, offset: int, calendar: BusinessCalendar,
            pending: list) -> ReminderOutcome | None:
    """Claim the reminder row first (a second scheduler fails on its unique key), then send and record."""
    record = VendorReminder(vendor_id=vendor.id, fiscal_year=quarter.fiscal_year, quarter=quarter.quarter,
                            bd_offset=offset, owner_id=owner.id if owner else None, unconfirmed=len(pending),
                            outcome=ReminderOutcome.NO_OWNER)
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    method = reminder_method(owner) if owner is not None else None
    if owner is None:
        log.warning("vendor reminder for %s (%s %s): the vendor has no active owner", vendor.name, quarter.label,
                    format_bd_offset(offset))
    elif method is None:
        record.outcome = ReminderOutcome.NO_METHOD
        log.warning("vendor reminder for %s to %s: no verified email or SMS", vendor.name, owner.email)
    else:
        base = current_app.config["PUBLIC_BASE_URL"]
        names = [contact.name for contact in pending]
        message = queue_notice(
            user_id=owner.id, method=method, purpose=PURPOSE, template=f"{PURPOSE}_{method.kind.value}",
            name=owner.name, vendor=vendor.name, quarter_label=quarter.label, count=len(pending),
            names=names[:NAMES_LISTED], more=max(len(names) - NAMES_LISTED, 0),
            close_day=close_day(quarter, calendar).isoformat(), offset=format_bd_offset(offset),
            url=f"{base}/vendors/{vendor.id}")  # no request here to build URLs from
        record.message_id = message.id
        record.outcome = ReminderOutcome.QUEUED  # the linked message says whether it left
    db.session.commit()
    return record.outcome
