"""Scheduler job: remind people who have not confirmed their contact details before the quarter closes."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.alerting.notices import queue_notice
from app.auth.models import User
from app.calendar.services import person_calendar, person_today, quarter_for
from app.extensions import db
from app.oncall import services
from app.oncall.models import ContactKind, ContactMethod, OncallNotice
from app.timeutil import FiscalQuarter, business_day_offset, close_day, quarter_key

log = logging.getLogger("quarterdeck.oncall")

NOTICE_KIND = "contact_reminder"
# A reminder is written, not spoken: email first, then SMS; nobody is phoned to be told to update a phone.
REMINDER_KINDS = (ContactKind.EMAIL, ContactKind.SMS)


def _reminder_method(person: User) -> ContactMethod | None:
    usable = [method for method in services.list_methods(person) if method.is_usable]
    for kind in REMINDER_KINDS:
        for method in usable:
            if method.kind == kind:
                return method
    return None


def remind_unconfirmed_contacts() -> dict[str, int]:
    """From BD-N to the close of the quarter (in each person's region), remind each unconfirmed active person once.

    The window, not the single BD-N day, is checked, so a scheduler that was down on BD-N still reminds
    later. Regionless people count the close region's business days (its holidays too) on their own dates.
    Each reminder commits with its OncallNotice, whose unique key makes a second scheduler skip it.
    """
    days_before = int(current_app.config["CONTACT_REMINDER_BUSINESS_DAYS"])
    summary = {"sent": 0, "skipped_no_method": 0, "already": 0}
    people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    for person in people:
        calendar, today = person_calendar(person), person_today(person)
        quarter = quarter_for(today)
        if not business_day_offset(quarter, -days_before, calendar) <= today <= quarter.last_day:
            continue
        if services.confirmation_for(person, quarter) is not None:
            continue
        key = quarter_key(quarter)
        if db.session.scalar(select(OncallNotice.id).where(OncallNotice.user_id == person.id,
                                                           OncallNotice.kind == NOTICE_KIND, OncallNotice.key == key)):
            summary["already"] += 1
            continue
        method = _reminder_method(person)
        if method is None:
            # Nothing recorded: once they verify an email or SMS the next run still reminds them.
            log.warning("contact reminder for %s (%s): no verified email or SMS to send it to", person.email, key)
            summary["skipped_no_method"] += 1
            continue
        summary["sent" if _send_reminder(person, method, quarter, calendar) else "already"] += 1
    return summary


def _send_reminder(person: User, method: ContactMethod, quarter: FiscalQuarter, calendar) -> bool:
    """Record the notice first, so a concurrent scheduler's duplicate fails on the unique key before sending."""
    try:
        db.session.add(OncallNotice(user_id=person.id, kind=NOTICE_KIND, key=quarter_key(quarter)))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    url = f"{current_app.config['PUBLIC_BASE_URL']}/oncall/people/{person.id}"
    queue_notice(user_id=person.id, method=method, purpose=NOTICE_KIND, template=f"{NOTICE_KIND}_{method.kind.value}",
                name=person.name, quarter_label=quarter.label, close_day=close_day(quarter, calendar).isoformat(),
                url=url)
    db.session.commit()
    return True
