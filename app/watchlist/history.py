"""Run history: listing, pruning to a count per job, the duration trends (the last runs, and by day over two years)
and uptime per week (the top jobs and every way a job was unhealthy are in reliability.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.orm import defer

from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.timeutil import UTC, date_in, start_of_day, utcnow
from app.watchlist.models import Job, JobEvent, JobRun, JobState, RunOutcome
from app.watchlist.retention import roll_up_batch
from app.watchlist.run_days import DayDurations, daily_durations


# Newest first: run ids grow with time, and ix_watch_job_runs_job_id_id serves one job's runs in this order.
RUN_ORDER = [JobRun.id.desc()]


def runs_page(job: Job, *, after: str | None = None, before: str | None = None, per_page: int = 50) -> KeysetPage:
    """One page of the job's runs, newest first, after or before a cursor (app/keyset.py); no count, which over
    a job's million runs would cost more than the page."""
    return keyset_page(select(JobRun).where(JobRun.job_id == job.id), RUN_ORDER, after=after, before=before,
                       per_page=per_page)


def list_runs(job: Job, *, page: int = 1, per_page: int = 50) -> tuple[list[JobRun], int]:
    """The job's runs, newest first, one page of them, and how many there are (the API's numbered pages)."""
    total = db.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job_id == job.id)) or 0
    runs = db.session.scalars(select(JobRun).where(JobRun.job_id == job.id).order_by(JobRun.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return list(runs), total


def last_runs(jobs: list[Job]) -> dict[int, JobRun]:
    """Each job's last run (Job.last_run_id) by job id, in one query; a job without one (or whose run was pruned)
    is left out. The logs stay unread: a list page has no use for up to 10 kB per job."""
    ids = [job.last_run_id for job in jobs if job.last_run_id is not None]
    if not ids:
        return {}
    runs = db.session.scalars(select(JobRun).where(JobRun.id.in_(ids)).options(defer(JobRun.log)))
    return {run.job_id: run for run in runs}


def short_duration(seconds: float) -> str:
    """252 -> "4m 12s", 3725 -> "1h 2m", 42 -> "42s": the two largest units, for a table cell."""
    seconds = max(int(round(seconds)), 0)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    largest = next((i for i, (value, _unit) in enumerate(units) if value), len(units) - 1)
    return " ".join(f"{value}{unit}" for value, unit in units[largest:largest + 2] if value) or "0s"


def describe_run(run: JobRun, now: datetime) -> str:
    """A run's outcome and how long it took (or has been going) in a few words: "ok in 4m 12s", "running 3m"."""
    took = short_duration(run.duration_seconds) if run.duration_seconds is not None else None
    going = short_duration((now - run.started_at).total_seconds()) if run.started_at is not None else None
    if run.outcome == RunOutcome.SUCCESS:
        return f"ok in {took}" if took else "ok"
    if run.outcome == RunOutcome.FAILED:
        exit_code = f" (exit {run.exit_code})" if run.exit_code else ""
        return f"failed{exit_code}" + (f" after {took}" if took else "")
    if run.outcome == RunOutcome.RUNNING:
        return f"running {going}" if going else "running"
    if run.outcome == RunOutcome.TOO_SLOW:  # still running past its maximum duration
        return f"too slow: running {going}" if going else "too slow"
    return "abandoned"


def timeline(job: Job, *, since: datetime, limit: int = 200) -> list[JobEvent]:
    return list(db.session.scalars(select(JobEvent).where(JobEvent.job_id == job.id, JobEvent.at >= since)
                                   .order_by(JobEvent.at.desc(), JobEvent.id.desc()).limit(limit)))


def prune_runs(keep: int | None = None) -> dict[str, int]:
    """Keep only the newest `keep` runs of each job (WATCHLIST_RUNS_PER_JOB); the older ones are folded into the
    job's daily rows (retention.py) as they go, in small batches. Returns how many were removed."""

    keep = keep or int(current_app.config["WATCHLIST_RUNS_PER_JOB"])
    over = db.session.execute(select(JobRun.job_id).group_by(JobRun.job_id)
                              .having(func.count() > keep)).scalars().all()
    deleted = 0
    for job_id in over:
        oldest_kept = db.session.scalar(select(JobRun.id).where(JobRun.job_id == job_id)
                                        .order_by(JobRun.id.desc()).offset(keep - 1).limit(1))
        while done := roll_up_batch(and_(JobRun.job_id == job_id, JobRun.id < oldest_kept)):
            deleted += done  # each batch commits: every write stays short
    return {"jobs": len(over), "deleted": deleted}


# --- duration trend ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrendPoint:
    x: float
    y: float
    run: JobRun


@dataclass(frozen=True)
class Trend:
    points: list[TrendPoint]
    polyline: str
    width: int
    height: int
    scale_max: float  # seconds at the top of the chart
    max_line_y: float | None  # where the maximum duration sits, when it fits
    min_line_y: float | None


CHART_PAD = 8


def _y_scale(height: int, top: float):
    """seconds -> y on a chart `height` high whose top is `top` seconds (longer is higher)."""
    return lambda seconds: round(height - CHART_PAD - (height - 2 * CHART_PAD) * seconds / top, 1)


def duration_trend(job: Job, *, runs: int = 60, width: int = 600, height: int = 160) -> Trend:
    """The last `runs` finished durations as chart coordinates (oldest left); the SVG is drawn by a template."""
    rows = list(reversed(db.session.scalars(
        select(JobRun).where(JobRun.job_id == job.id, JobRun.duration_seconds.is_not(None))
        .order_by(JobRun.id.desc()).limit(runs)).all()))
    top = max([run.duration_seconds or 0 for run in rows] + [job.max_duration_seconds * 1.1, 1.0])
    step = (width - 2 * CHART_PAD) / max(len(rows) - 1, 1)
    y_of = _y_scale(height, top)
    points = [TrendPoint(round(CHART_PAD + i * step, 1), y_of(run.duration_seconds or 0), run)
              for i, run in enumerate(rows)]
    return Trend(points=points, polyline=" ".join(f"{p.x},{p.y}" for p in points), width=width, height=height,
                 scale_max=top, max_line_y=y_of(job.max_duration_seconds),
                 min_line_y=y_of(job.min_duration_seconds) if job.min_duration_seconds else None)


# Two years by day: the runs kept one by one (WATCHLIST_RUN_RETENTION_DAYS, 400 by default) and the year before them,
# kept as daily rows, so a close compares with the same close a year earlier.
DAILY_TREND_DAYS = 730


@dataclass(frozen=True)
class DayPoint:
    x: float
    mean_y: float
    max_y: float
    day: DayDurations


@dataclass(frozen=True)
class DailyTrend:
    points: list[DayPoint]
    mean_lines: list[str]  # one polyline per stretch of consecutive days with timed runs: a gap stays a gap
    width: int
    height: int
    scale_max: float
    max_line_y: float
    first_day: date
    last_day: date


def daily_duration_trend(job: Job, *, days: int = DAILY_TREND_DAYS, now: datetime | None = None,
                         width: int = 600, height: int = 160) -> DailyTrend:
    """Mean and longest duration per UTC day over the last `days` days (today on the right), from the runs still
    kept and the daily rows of the rolled-up ones, as chart coordinates; the SVG is drawn by a template."""
    last_day = (now or utcnow()).astimezone(UTC).date()
    first_day = last_day - timedelta(days=days - 1)
    rows = daily_durations(job.id, first_day)
    top = max([row.max_seconds for row in rows] + [job.max_duration_seconds * 1.1, 1.0])
    step = (width - 2 * CHART_PAD) / max(days - 1, 1)
    y_of = _y_scale(height, top)
    points = [DayPoint(round(CHART_PAD + (row.day - first_day).days * step, 1), y_of(row.mean_seconds),
                       y_of(row.max_seconds), row) for row in rows]
    stretches: list[list[DayPoint]] = []
    for point in points:
        if stretches and (point.day.day - stretches[-1][-1].day.day).days == 1:
            stretches[-1].append(point)
        else:
            stretches.append([point])
    return DailyTrend(points=points, mean_lines=[" ".join(f"{p.x},{p.mean_y}" for p in stretch)
                                                 for stretch in stretches if len(stretch) > 1],
                      width=width, height=height, scale_max=top, max_line_y=y_of(job.max_duration_seconds),
                      first_day=first_day, last_day=last_day)


# --- uptime per week ---------------------------------------------------------------------------------------------

def down_intervals(job: Job, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """When the job was down within [start, end), from its recorded state changes (at their theoretical moments)."""
    before = db.session.scalar(select(JobEvent.to_state).where(
        JobEvent.job_id == job.id, JobEvent.kind == "state", JobEvent.at < start)
        .order_by(JobEvent.at.desc(), JobEvent.id.desc()).limit(1))
    changes = db.session.execute(select(JobEvent.at, JobEvent.to_state).where(
        JobEvent.job_id == job.id, JobEvent.kind == "state", JobEvent.at >= start, JobEvent.at < end)
        .order_by(JobEvent.at, JobEvent.id)).all()
    intervals, down_from = [], start if before == JobState.DOWN else None
    for at, state in changes:
        if state == JobState.DOWN and down_from is None:
            down_from = at
        elif state != JobState.DOWN and down_from is not None:
            intervals.append((down_from, at))
            down_from = None
    if down_from is not None:
        intervals.append((down_from, end))
    return intervals


@dataclass(frozen=True)
class WeekUptime:
    week_start: datetime
    uptime: float | None  # percent; None when the job did not exist that week
    down_seconds: float


def weekly_uptime(job: Job, weeks: int = 8, now: datetime | None = None) -> list[WeekUptime]:
    """Uptime per week (Monday 00:00 to Monday 00:00 in the job's own zone) for the last `weeks` weeks, newest
    first; the current week so far."""
    now = now or utcnow()
    today = date_in(now, job.time_zone)
    monday = today - timedelta(days=today.weekday())
    result = []
    for back in range(weeks):
        start = start_of_day(monday - timedelta(weeks=back), job.time_zone)
        end = min(start_of_day(monday - timedelta(weeks=back - 1), job.time_zone), now)
        watched_from = max(start, job.created_at)
        if watched_from >= end:
            result.append(WeekUptime(start, None, 0.0))
            continue
        down = sum((min(b, end) - max(a, watched_from)).total_seconds()
                   for a, b in down_intervals(job, watched_from, end))
        span = (end - watched_from).total_seconds()
        result.append(WeekUptime(start, round(100 * (1 - down / span), 2), down))
    return result
