"""Run history past retention: the runs still kept one by one and the daily rows older runs were folded into
(JobRunDay, written by retention.py), read together for the top jobs, the jobs track and the by-day duration chart.

A folded run is deleted in the same transaction that adds it to its day, so the two never hold the same run and
their counts add up. Day rows are whole UTC days: a period counts the day rows of the days wholly inside it, so a
period that starts at midnight UTC counts every run once whether it was folded or not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, case, func, select

from app.extensions import db
from app.timeutil import UTC
from app.watchlist.models import JobRun, JobRunDay


def first_whole_day(since: datetime) -> date:
    """The first UTC day wholly inside a period that starts at `since`."""
    day = since.astimezone(UTC).date()
    return day if since == midnight(day) else day + timedelta(days=1)


def midnight(day: date) -> datetime:
    """00:00 UTC of `day`: where the day row of that day begins."""
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class DayTotals:
    """One job's daily rows over a period, added up."""

    runs: int = 0
    failures: int = 0  # failed, or still running past the maximum when folded (retention.FAILED)
    late: int = 0
    timed: int = 0  # runs with a duration
    duration_total_seconds: float = 0.0
    duration_max_seconds: float | None = None


def day_totals(since: datetime) -> dict[int, DayTotals]:
    """job id -> its daily rows of the UTC days wholly inside [since, now), added up in one grouped query."""
    rows = db.session.execute(
        select(JobRunDay.job_id, func.sum(JobRunDay.runs), func.sum(JobRunDay.failures), func.sum(JobRunDay.late),
               func.sum(JobRunDay.timed), func.sum(JobRunDay.duration_total_seconds),
               func.max(JobRunDay.duration_max_seconds))
        .where(JobRunDay.day >= first_whole_day(since)).group_by(JobRunDay.job_id))
    return {job_id: DayTotals(int(runs or 0), int(failures or 0), int(late or 0), int(timed or 0),
                              float(total or 0.0), maximum)
            for job_id, runs, failures, late, timed, total, maximum in rows}


@dataclass(frozen=True)
class RunDurations:
    """The durations of one job's runs still kept one by one that ended in a period."""

    timed: int
    total_seconds: float
    max_seconds: float
    p95_seconds: float


def run_durations(since: datetime) -> dict[int, RunDurations]:
    """job id -> count, sum, maximum and nearest-rank p95 of the durations of the runs that ended since `since`,
    computed by the database (one grouped query over a window ranking, the same SQL on SQLite and PostgreSQL)."""
    ranked = (select(JobRun.job_id, JobRun.duration_seconds.label("seconds"),
                     func.row_number().over(partition_by=JobRun.job_id, order_by=JobRun.duration_seconds)
                     .label("position"),
                     func.count().over(partition_by=JobRun.job_id).label("timed"))
              .where(JobRun.ended_at >= since, JobRun.duration_seconds.is_not(None)).subquery())
    # Nearest rank: the ceil(0.95 n)-th smallest, in integer arithmetic so both databases agree to the row.
    p95_position = (95 * ranked.c.timed + 99) // 100
    rows = db.session.execute(
        select(ranked.c.job_id, func.max(ranked.c.timed), func.sum(ranked.c.seconds), func.max(ranked.c.seconds),
               func.max(case((ranked.c.position == p95_position, ranked.c.seconds))))
        .group_by(ranked.c.job_id))
    return {job_id: RunDurations(int(timed), float(total), float(maximum), float(p95))
            for job_id, timed, total, maximum, p95 in rows}


# --- durations per day, for the job page's long chart --------------------------------------------------------------

@dataclass(frozen=True)
class DayDurations:
    day: date  # UTC
    timed: int
    mean_seconds: float
    max_seconds: float
    rolled_up: int  # how many of the day's timed runs are kept only in its daily row


def _utc_day(column):
    """The UTC date of a stored instant, in SQL: PostgreSQL's date() would use the session's time zone."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column), type_=Date)
    return func.date(column, type_=Date)  # SQLite stores naive UTC


def daily_durations(job_id: int, first_day: date) -> list[DayDurations]:
    """Mean and maximum duration per UTC day from `first_day` on, oldest first, from the job's daily rows and its
    runs still kept (grouped by the day they ended, as the roll-up groups them); days without a timed run are left
    out."""
    days: dict[date, list] = {}
    for day, timed, total, maximum in db.session.execute(
            select(JobRunDay.day, JobRunDay.timed, JobRunDay.duration_total_seconds, JobRunDay.duration_max_seconds)
            .where(JobRunDay.job_id == job_id, JobRunDay.day >= first_day, JobRunDay.timed > 0)):
        days[day] = [timed, float(total), float(maximum or 0.0), timed]
    ended_on = _utc_day(JobRun.ended_at)
    for day, timed, total, maximum in db.session.execute(
            select(ended_on, func.count(), func.sum(JobRun.duration_seconds), func.max(JobRun.duration_seconds))
            .where(JobRun.job_id == job_id, JobRun.ended_at >= midnight(first_day),
                   JobRun.duration_seconds.is_not(None))
            .group_by(ended_on)):
        kept = days.setdefault(day, [0, 0.0, 0.0, 0])  # a day can be partly folded (pruned past the count per job)
        kept[0] += timed
        kept[1] += float(total)
        kept[2] = max(kept[2], float(maximum))
    return [DayDurations(day, timed, total / timed, maximum, rolled_up)
            for day, (timed, total, maximum, rolled_up) in sorted(days.items())]
