"""Telling people about their shifts: a reminder before each one starts, and a notice at the hand-off.

Run every minute by the scheduler. Each notice goes out at most once per person, schedule and shift start
(an OncallNotice row claims it), through the first usable method of the person's notification plan.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.alerting.notices import queue_notice
from app.auth.models import User
from app.extensions import db
from app.oncall.coverage import load_schedules, schedule_spec
from app.oncall.models import OncallNotice, Schedule
from app.oncall.rotation import ScheduleSpec, shifts_of, timeline
from app.oncall.services import notification_plan
from app.providers import provided
from app.timeutil import format_in_zone, utcnow

log = logging.getLogger("quarterdeck.reminders")

SHIFT_REMINDER, HANDOFF = "shift_reminder", "handoff"
TEMPLATES = {SHIFT_REMINDER: "shift_reminder", HANDOFF: "handoff_now"}
COUNTS = {SHIFT_REMINDER: "reminders", HANDOFF: "handoffs"}
# A hand-off notice is still worth sending this late (a scheduler restart, a slow minute); later it is noise.
HANDOFF_GRACE = timedelta(minutes=5)
# How far ahead the hand-off notice looks for the end of the shift it announces.
END_HORIZON = timedelta(days=31)
TIME_FORMAT = "%a %d %b %H:%M"


def notice_key(schedule: Schedule, start: datetime) -> str:
    return f"s{schedule.id}:{start:%Y-%m-%dT%H:%MZ}"


def _local(at: datetime, zone: str) -> str:
    # Offset and place rather than an abbreviation: "PST" is Pacific in Los Angeles and Philippine in Manila.
    # Plain ASCII: the text goes out by SMS too.
    return format_in_zone(at, zone, f"{TIME_FORMAT} (%Z)", plain=True)


def _already(user_id: int, kind: str, key: str) -> bool:
    return db.session.scalar(select(OncallNotice.id).where(
        OncallNotice.user_id == user_id, OncallNotice.kind == kind, OncallNotice.key == key)) is not None


def _claim(user_id: int, kind: str, key: str) -> bool:
    """Record the notice; False when another scheduler process recorded it first (the unique key refuses)."""
    db.session.add(OncallNotice(user_id=user_id, kind=kind, key=key))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # earlier notices are committed one by one, so nothing else is lost
        return False
    return True


def _shift_end(spec: ScheduleSpec, user_id: int, start: datetime) -> datetime | None:
    stretches = shifts_of(user_id, timeline(spec, start, start + END_HORIZON))
    if not stretches or stretches[0][1] >= start + END_HORIZON:
        return None  # longer than we look: the message leaves the end out rather than guess it
    return stretches[0][1]


def _unread_before_shift(schedule: Schedule, user: User) -> list[str]:
    """What the person must still read before this shift (e.g. runbooks of their rotations), from the providers."""
    rotations = [layer.rotation.name for layer in schedule.layers
                 if any(member.user_id == user.id for member in layer.rotation.members)]
    return provided("shift_unread", user, rotations)


def _notify(schedule: Schedule, spec: ScheduleSpec, user: User, start: datetime, kind: str) -> str | None:
    """Send one notice unless it went out already; returns the summary count it adds to, if any."""
    key = notice_key(schedule, start)
    if _already(user.id, kind, key):
        return None
    plan = notification_plan(user)
    if not plan:
        # Noted once per shift (not every minute) under its own kind, so a method verified before the shift
        # starts still gets the real reminder.
        if _already(user.id, f"{kind}_skipped", key) or not _claim(user.id, f"{kind}_skipped", key):
            return None
        db.session.commit()
        log.warning("%s for %s on %s not sent: no usable contact method", kind, user.email, schedule.name)
        return "unreachable"
    if not _claim(user.id, kind, key):
        return None
    method = plan[0][1]
    until = _shift_end(spec, user.id, start) if kind == HANDOFF else None
    unread = _unread_before_shift(schedule, user) if kind == SHIFT_REMINDER else []
    queue_notice(user_id=user.id, method=method, purpose=kind, template=TEMPLATES[kind],
                 kind=method.kind.value, schedule=schedule.name, starts=_local(start, user.time_zone),
                 until=_local(until, user.time_zone) if until else None, unread=unread,
                 reading_url=f"{current_app.config['PUBLIC_BASE_URL']}/runbooks/reading")
    db.session.commit()
    return COUNTS[kind]


def send_shift_reminders() -> dict[str, int]:
    """Remind everyone whose shift starts within SHIFT_REMINDER_MINUTES, and greet whoever just took over.

    Returns how many reminders and hand-off notices were queued (the engine sends them and records each
    outcome) and how many people could not be reached (no usable contact method).
    """
    now = utcnow()
    lead = timedelta(minutes=int(current_app.config["SHIFT_REMINDER_MINUTES"]))
    # The timeline starts a minute before the oldest start of interest: a stretch beginning exactly at the
    # timeline's start may have begun long before (it is cut there), so only later beginnings are hand-offs.
    since = now - HANDOFF_GRACE - timedelta(minutes=1)
    summary = {"reminders": 0, "handoffs": 0, "unreachable": 0}
    due: list[tuple[int, int, datetime, str]] = []
    specs: dict[int, tuple[Schedule, ScheduleSpec]] = {}
    for schedule in load_schedules():
        spec = schedule_spec(schedule)
        specs[schedule.id] = (schedule, spec)
        # One minute past the lead too, so a shift starting exactly `lead` from now is seen starting.
        segments = timeline(spec, since, now + lead + timedelta(minutes=1))
        for user_id in sorted({person for segment in segments for person in segment.people}):
            for start, _end in shifts_of(user_id, segments):
                if now < start <= now + lead:
                    due.append((schedule.id, user_id, start, SHIFT_REMINDER))
                elif now - HANDOFF_GRACE <= start <= now:
                    due.append((schedule.id, user_id, start, HANDOFF))
    for schedule_id, user_id, start, kind in due:
        schedule, spec = specs[schedule_id]
        user = db.session.get(User, user_id)
        if user is None or not user.active:
            continue
        counted = _notify(schedule, spec, user, start, kind)
        if counted:
            summary[counted] += 1
    return summary
