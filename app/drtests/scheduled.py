"""Scheduler job: remind participants before a DR exercise, and flag a quarter with no exercise by BD-30.

Each reminder or flag notice is a DrNotice row claimed before sending (its unique key makes a second scheduler
skip it) and keeps its outcome: queued (the linked outbox message says whether it left), or no_method when the
person has no verified email or SMS.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.alerting.notices import queue_notice
from app.auth.models import User
from app.auth.roles import EDITORS
from app.calendar.services import close_region, person_zone
from app.drtests.models import DrExercise, DrNotice, QuarterFlag
from app.extensions import db
from app.timeutil import close_day, format_in_zone, quarter_key, utcnow
from app.vendors.scheduled import reminder_method

log = logging.getLogger("quarterdeck.drtests")

REMINDER = "drtest_reminder"
QUARTER_FLAG = "drtest_quarter_flag"
FLAG_OFFSET = -30  # BD-30: the readiness calendar's "DR test" milestone


def _notify(person: User, *, kind: str, key: str, **context) -> str | None:
    """Claim the notice and queue it for the person's email or SMS; the outcome, or None if already noticed."""
    notice = DrNotice(kind=kind, key=key, user_id=person.id, outcome="no_method")
    db.session.add(notice)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    method = reminder_method(person)
    if method is None:
        log.warning("%s %s for %s: no verified email or SMS", kind, key, person.email)
    else:
        message = queue_notice(user_id=person.id, method=method, purpose=kind, template=f"{kind}_{method.kind.value}",
                              name=person.name, **context)
        notice.message_id = message.id
        notice.outcome = "queued"  # the linked message says whether it left
    db.session.commit()
    return notice.outcome


def _already(kind: str, key: str, user_id: int) -> bool:
    return db.session.scalar(select(DrNotice.id).where(DrNotice.kind == kind, DrNotice.key == key,
                                                       DrNotice.user_id == user_id)) is not None


def remind_participants() -> dict[str, int]:
    """Remind the participants and owner of each exercise starting within DRTEST_REMINDER_DAYS, once each."""
    days = int(current_app.config["DRTEST_REMINDER_DAYS"])
    summary = {"queued": 0, "no_method": 0, "already": 0}
    if days <= 0:
        return summary
    now = utcnow()
    upcoming = db.session.scalars(select(DrExercise).where(
        DrExercise.scheduled_for > now, DrExercise.scheduled_for <= now + timedelta(days=days),
        DrExercise.started_at.is_(None), DrExercise.signed_off_at.is_(None)).order_by(DrExercise.id)).all()
    base = current_app.config["PUBLIC_BASE_URL"]
    for exercise in upcoming:
        people = {p.user.id: p.user for p in exercise.participants}
        if exercise.owner is not None:
            people.setdefault(exercise.owner.id, exercise.owner)
        for person in people.values():
            # Keyed by the start time too: a rescheduled exercise is announced again for its new date.
            key = f"exercise:{exercise.id}:{exercise.scheduled_for:%Y-%m-%dT%H:%M}"
            if not person.active or _already(REMINDER, key, person.id):
                summary["already"] += person.active
                continue
            outcome = _notify(person, kind=REMINDER, key=key, exercise=exercise.name,
                              kind_label=exercise.kind.value.replace("_", " "), quarter_label=exercise.quarter_label,
                              starts=format_in_zone(exercise.scheduled_for, person_zone(person),
                                                    "%Y-%m-%d %H:%M (%Z)", plain=True),
                              url=f"{base}/drtests/exercises/{exercise.id}")
            summary[outcome or "already"] += 1
    return summary


def flag_quarter_without_exercise() -> dict[str, int]:
    """From BD-30 to the close, flag the current quarter once if no exercise is scheduled for it, and tell the
    crisis team and admins. BD-30 and BD0 are the close region's (its dates, its public holidays)."""
    summary = {"flagged": 0, "queued": 0, "no_method": 0}
    region = close_region()
    today = region.today()
    quarter = region.quarter_at()
    calendar = region.calendar
    bd30 = region.business_day(quarter, FLAG_OFFSET)
    if not bd30 <= today <= quarter.last_day:
        return summary
    scheduled = db.session.scalar(select(DrExercise.id).where(DrExercise.fiscal_year == quarter.fiscal_year,
                                                              DrExercise.quarter == quarter.quarter).limit(1))
    if scheduled is not None:
        return summary
    db.session.add(QuarterFlag(fiscal_year=quarter.fiscal_year, quarter=quarter.quarter))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return summary  # flagged already (by this scheduler earlier, or another one)
    summary["flagged"] = 1
    log.warning("no DR exercise scheduled for %s by BD-30 (%s)", quarter.label, bd30)
    editors = db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(list(EDITORS)))
                                 .order_by(User.id)).all()
    for person in editors:
        outcome = _notify(person, kind=QUARTER_FLAG, key=quarter_key(quarter), quarter_label=quarter.label,
                          bd30=bd30.isoformat(), close_day=close_day(quarter, calendar).isoformat(),
                          url=f"{current_app.config['PUBLIC_BASE_URL']}/drtests/exercises/new")
        if outcome:
            summary[outcome] += 1
    return summary


def run_drtest_jobs() -> dict[str, dict[str, int]]:
    """The scheduler's DR test job: reminders, then the quarter flag."""
    return {"reminders": remind_participants(), "quarter_flag": flag_quarter_without_exercise()}
