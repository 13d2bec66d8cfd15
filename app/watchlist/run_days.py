"""Run history past retention: the runs still kept one by one and the daily rows older runs were folded into
(JobRunDay, written by retention.py), read together for the top jobs, the jobs track and the by-day duration chart.

A folded run is deleted in the same transaction that adds it to its day, so the two never hold the same run and
their counts add up. Day rows are whole UTC days: a period counts the day rows of the days wholly inside it, so a
period that starts at midnight UTC counts every run once whether it was folded or not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, Integer, case, func, select

from app.extensions import db
from app.timeutil import UTC
from app.watchlist.models import JobRun, JobRunDay, RunOutcome


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
class FinishedRuns:
    """One job's runs still kept one by one that ended in a period: what went wrong and how long they took."""

    runs: int = 0
    failed: int = 0
    too_slow: int = 0
    late: int = 0
    timed: int = 0  # runs with a duration (a start and an end); the figures below are theirs
    total_seconds: float = 0.0
    max_seconds: float | None = None
    p95_seconds: float | None = None


def finished_runs(since: datetime, *, durations: bool = True) -> dict[int, FinishedRuns]:
    """job id -> its runs that ended since `since`, counted in one grouped query; with `durations`, also the count,
    sum, maximum and nearest-rank p95 of their durations, from the same scan (a window ranking per job, the same SQL
    on SQLite and PostgreSQL) rather than every duration read into Python."""
    failed = func.sum((JobRun.outcome == RunOutcome.FAILED.value).cast(Integer))
    if not durations:
        rows = db.session.execute(
            select(JobRun.job_id, func.count(), failed, func.sum(JobRun.too_slow.cast(Integer)),
                   func.sum(JobRun.late.cast(Integer)))
            .where(JobRun.ended_at >= since).group_by(JobRun.job_id))
        return {job_id: FinishedRuns(runs, int(failed or 0), int(too_slow or 0), int(late or 0))
                for job_id, runs, failed, too_slow, late in rows}
    by_job = {"partition_by": JobRun.job_id}
    ranked = (select(JobRun.job_id, JobRun.duration_seconds.label("seconds"),
                     (JobRun.outcome == RunOutcome.FAILED.value).cast(Integer).label("failed"),
                     JobRun.too_slow.cast(Integer).label("too_slow"), JobRun.late.cast(Integer).label("late"),
                     func.row_number().over(**by_job, order_by=JobRun.duration_seconds.asc().nulls_last())
                     .label("position"),
                     func.count(JobRun.duration_seconds).over(**by_job).label("timed"))
              .where(JobRun.ended_at >= since).subquery())
    # Nearest rank: the ceil(0.95 n)-th shortest of the n timed runs (sorted before the untimed ones), in integer
    # arithmetic so both databases agree to the row.
    p95_position = (95 * ranked.c.timed + 99) // 100
    rows = db.session.execute(
        select(ranked.c.job_id, func.count(), func.sum(ranked.c.failed), func.sum(ranked.c.too_slow),
               func.sum(ranked.c.late), func.max(ranked.c.timed), func.sum(ranked.c.seconds),
               func.max(ranked.c.seconds), func.max(case((ranked.c.position == p95_position, ranked.c.seconds))))
        .group_by(ranked.c.job_id))
    return {job_id: FinishedRuns(runs, int(failed or 0), int(too_slow or 0), int(late or 0), int(timed or 0),
                                 float(total or 0.0), maximum, p95)
            for job_id, runs, failed, too_slow, late, timed, total, maximum, p95 in rows}


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
