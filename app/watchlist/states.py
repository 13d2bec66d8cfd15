"""Small building blocks shared by pings, detection and edits: the timeline, state changes, what is expected next."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.calendar.services import close_region
from app.extensions import db
from app.watchlist.models import Job, JobEvent, JobRun, JobState, MaintenanceWindow, RunOutcome, WindowKind
from app.watchlist.schedules import ScheduleSpec, WindowSpec, next_due, window_at


# Why the detector moved a job on, as its timeline says it; "missed" is how a missed slot is counted later.
WHY = {"late": "past its expected time, within the grace period", "missed": "no run within the grace period",
       "too_slow": "the run passed its maximum duration"}


def spec_of(job: Job) -> ScheduleSpec:
    interval = timedelta(seconds=job.interval_seconds) if job.interval_seconds else None
    return ScheduleSpec(kind=job.schedule_kind, interval=interval, cron=job.cron_expr, zone=job.time_zone)


def window_spec(window: MaintenanceWindow) -> WindowSpec:
    return WindowSpec(kind=window.kind, starts_at=window.starts_at, ends_at=window.ends_at, weekday=window.weekday,
                      start_time=window.start_time, end_time=window.end_time, zone=window.time_zone,
                      bd_start=window.bd_start, bd_end=window.bd_end,
                      close=close_region() if window.kind == WindowKind.FREEZE else None)


def maintenance_at(job: Job, at: datetime) -> tuple[datetime, datetime] | None:
    """The maintenance window (from, to) of `job` open at `at`, overlapping windows joined; None outside them."""
    windows = db.session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.job_id == job.id)).all()
    return window_at([window_spec(w) for w in windows], at) if windows else None


def early_tolerance() -> timedelta:
    return timedelta(seconds=int(current_app.config["PING_EARLY_TOLERANCE_SECONDS"]))


def record(job: Job | int, *, at: datetime, kind: str, text: str = "", detail: str = "",
           from_state: str | None = None, to_state: str | None = None) -> JobEvent:
    """Add a line to the job's timeline (the job or its id: the detector need not load the row)."""
    event = JobEvent(job_id=job if isinstance(job, int) else job.id, at=at, kind=kind, text=text[:500], detail=detail, from_state=from_state,
                     to_state=to_state)
    db.session.add(event)
    return event


def set_state(job: Job, state: JobState, at: datetime, why: str = "") -> None:
    """Move the job to `state` as of `at` and put the change on its timeline; nothing when it is already there."""
    if job.state == state.value:
        return
    record(job, at=at, kind="state", from_state=job.state, to_state=state.value,
           text=f"{job.state} → {state.value}" + (f": {why}" if why else ""))
    job.state, job.state_changed_at = state.value, at


def open_runs(job_id: int) -> list[JobRun]:
    """Runs started and not ended that still count as running (oldest first)."""
    return list(db.session.scalars(select(JobRun).where(
        JobRun.job_id == job_id, JobRun.ended_at.is_(None), JobRun.outcome == RunOutcome.RUNNING.value)
        .order_by(JobRun.id)))


def running_deadline(job: Job) -> datetime | None:
    """When the oldest open run becomes too slow; None when nothing runs."""
    oldest = db.session.scalar(select(func.min(JobRun.started_at)).where(
        JobRun.job_id == job.id, JobRun.ended_at.is_(None), JobRun.outcome == RunOutcome.RUNNING.value))
    return oldest + timedelta(seconds=job.max_duration_seconds) if oldest is not None else None


def expect_next(job: Job, after: datetime) -> None:
    """The job answered (or was re-armed) at `after`: expect its next run and watch that slot."""
    job.due_at = next_due(spec_of(job), after, early_tolerance())
    job.next_deadline = job.due_at


def rearm(job: Job, now: datetime) -> None:
    """Recompute what the detector waits for after an edit, a resume or a new maintenance window.

    Up and late jobs are expected afresh from `now` (an edited schedule starts counting when it is saved); a
    running job keeps watching its oldest open run; a down job whose page is held is looked at again now.
    """
    if job.paused:
        job.next_deadline = job.due_at = None
        return
    if job.state in (JobState.UP, JobState.LATE):
        set_state(job, JobState.UP, now, "expected afresh after a change")
        expect_next(job, now)
    elif job.state == JobState.RUNNING:
        job.next_deadline = running_deadline(job) or now
    elif job.state == JobState.DOWN and job.alert_key is None:
        job.next_deadline = now


def human_duration(seconds: float) -> str:
    """3725 -> "1 h 2 min"; 42 -> "42 s"."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part) or "0 min"
