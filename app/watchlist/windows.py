"""Maintenance windows of a job (one-off, weekly, close freeze): add and remove; and what the timeline shows."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from app.calendar.services import close_region
from app.errors import Invalid, NotFound
from app.extensions import db
from app.timeutil import as_utc, is_valid_zone, utcnow
from app.watchlist.models import Job, MaintenanceWindow, WindowKind
from app.watchlist.schedules import describe_window, occurrences
from app.watchlist.states import rearm, window_spec

MAX_ONE_OFF = timedelta(days=31)
MAX_FREEZE_OFFSET = 60


def get_window(job: Job, window_id: int) -> MaintenanceWindow:
    window = db.session.get(MaintenanceWindow, window_id)
    if window is None or window.job_id != job.id:
        raise NotFound("No such maintenance window.")
    return window


def _zone(value: Any) -> str:
    zone = value or "UTC"
    if not is_valid_zone(zone):
        raise Invalid("Unknown time zone; use an IANA name such as Europe/London.", "time_zone")
    return zone


def _when(value: Any, field: str) -> datetime:
    """An aware instant (the form read a bare local time in the viewer's zone; the API demands an offset)."""
    if not isinstance(value, datetime):
        raise Invalid("Give a date and time, e.g. 2026-12-31T22:00.", field)
    if value.tzinfo is None:
        raise Invalid("Give the time with its UTC offset.", field)
    return as_utc(value)


def _offset(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_FREEZE_OFFSET <= value <= MAX_FREEZE_OFFSET:
        raise Invalid(f"Give a business-day offset from BD0 between -{MAX_FREEZE_OFFSET} and +{MAX_FREEZE_OFFSET}, "
                      "e.g. -2 for BD-2.", field)
    return value


def add_window(job: Job, *, kind: Any, time_zone: Any = "UTC", starts_at: Any = None, ends_at: Any = None,
               weekday: Any = None, start_time: Any = None, end_time: Any = None, bd_start: Any = None,
               bd_end: Any = None, note: Any = "") -> MaintenanceWindow:
    """Add a window to the job: one-off (two instants, shown in `time_zone`), weekly (weekday and local times in
    `time_zone`) or a close freeze (BD<bd_start> to BD<bd_end> of every quarter, in the close region)."""
    zone = _zone(time_zone)
    note = (note or "").strip()
    if len(note) > 200:
        raise Invalid("Use at most 200 characters.", "note")
    window = MaintenanceWindow(job_id=job.id, kind=kind, time_zone=zone, note=note)
    if kind == WindowKind.ONCE:
        window.starts_at = _when(starts_at, "starts_at")
        window.ends_at = _when(ends_at, "ends_at")
        if window.ends_at <= window.starts_at:
            raise Invalid("The end must come after the start.", "ends_at")
        if window.ends_at - window.starts_at > MAX_ONE_OFF:
            raise Invalid("A one-off window lasts at most 31 days; pause the job for longer.", "ends_at")
    elif kind == WindowKind.WEEKLY:
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise Invalid("Choose a day of the week.", "weekday")
        if not isinstance(start_time, time):
            raise Invalid("Give a local time such as 01:00.", "start_time")
        if not isinstance(end_time, time):
            raise Invalid("Give a local time such as 03:00.", "end_time")
        if start_time == end_time:
            raise Invalid("The window must last longer than zero minutes.", "end_time")
        window.weekday, window.start_time, window.end_time = weekday, start_time, end_time
    elif kind == WindowKind.FREEZE:
        window.bd_start, window.bd_end = _offset(bd_start, "bd_start"), _offset(bd_end, "bd_end")
        if window.bd_end < window.bd_start:
            raise Invalid("The last business day must not come before the first.", "bd_end")
        window.time_zone = close_region().zone
    else:
        raise Invalid("Choose one-off, weekly or close freeze.", "kind")
    db.session.add(window)
    db.session.flush()
    rearm_if_held(job)
    db.session.commit()
    return window


def delete_window(job: Job, window: MaintenanceWindow) -> None:
    """Remove a window; a page it was holding is looked at again at once."""
    db.session.delete(window)
    db.session.flush()
    rearm_if_held(job)
    db.session.commit()


def rearm_if_held(job: Job) -> None:
    # Only a down job waiting for its page is affected: the detector decides again with the new windows.
    if job.state == "down" and job.alert_key is None and not job.paused:
        rearm(job, utcnow())


def windows_between(job: Job, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    """Every occurrence of the job's windows overlapping [start, end): (from, to, description), in order."""
    found = []
    for window in db.session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.job_id == job.id)):
        spec = window_spec(window)
        label = describe_window(spec) + (f" — {window.note}" if window.note else "")
        found.extend((opens, closes, label) for opens, closes in occurrences(spec, start, end))
    return sorted(found)


def describe(window: MaintenanceWindow) -> str:
    return describe_window(window_spec(window))
