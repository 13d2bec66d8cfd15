"""Maintenance windows of a job: add and remove; and what the timeline shows of them."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from app.errors import Invalid, NotFound
from app.extensions import db
from app.oncall.rotation import resolve_local
from app.timeutil import is_valid_zone, utcnow
from app.watchlist.models import Job, MaintenanceWindow, WindowKind
from app.watchlist.schedules import describe_window, occurrences
from app.watchlist.states import rearm, window_spec

MAX_ONE_OFF = timedelta(days=31)


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


def _when(value: Any, zone: str, field: str) -> datetime:
    """A local date and time in `zone` (a datetime without zone), as an instant by the DST rule."""
    if not isinstance(value, datetime):
        raise Invalid("Give a date and time, e.g. 2026-12-31T22:00.", field)
    if value.tzinfo is not None:
        raise Invalid("Give the local time without a zone; the window's zone says where.", field)
    return resolve_local(value, zone)


def add_window(job: Job, *, kind: Any, time_zone: Any = "UTC", starts_at: Any = None, ends_at: Any = None,
               weekday: Any = None, start_time: Any = None, end_time: Any = None, note: Any = "") -> MaintenanceWindow:
    """Add a one-off window (two local times) or a weekly one (weekday and local times) to the job."""
    zone = _zone(time_zone)
    note = (note or "").strip()
    if len(note) > 200:
        raise Invalid("Use at most 200 characters.", "note")
    window = MaintenanceWindow(job_id=job.id, kind=kind, time_zone=zone, note=note)
    if kind == WindowKind.ONCE:
        window.starts_at = _when(starts_at, zone, "starts_at")
        window.ends_at = _when(ends_at, zone, "ends_at")
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
    else:
        raise Invalid("Choose one-off or weekly.", "kind")
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
