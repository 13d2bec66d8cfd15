"""How reliable each job has been: every way a run or a slot went wrong, counted the way the watch list shows it,
and the top jobs ranked for tuning. The readiness jobs track reads the same counts.

Ways a job is unhealthy, one count each:
- failed: a run that ended with a failure (fail ping or a non-zero exit code);
- too slow: a run that finished after its maximum duration;
- never finished: a run still going past its maximum duration (hung), or one that never reported its end and was
  replaced by a later start (abandoned);
- missed: a slot with no run by the end of its grace period (the job went down "missed");
- late: a run that answered its slot after the slot had passed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, func, or_, select

from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.models import Job, JobEvent, JobRun, JobState, RunOutcome
from app.watchlist.states import WHY


@dataclass(frozen=True)
class Trouble:
    """What went wrong with one job over a period."""

    runs: int = 0  # runs that ended in the period, or started in it and never ended
    failed: int = 0
    too_slow: int = 0
    unfinished: int = 0
    missed: int = 0
    late: int = 0

    @property
    def total(self) -> int:
        return self.failed + self.too_slow + self.unfinished + self.missed + self.late

    def describe(self) -> str:
        """"2 failed, 1 missed slot, 1 never finished" (only the ways that happened)."""
        parts = [(self.failed, "failed", "failed"), (self.too_slow, "too slow", "too slow"),
                 (self.unfinished, "never finished", "never finished"),
                 (self.missed, "missed slot", "missed slots"), (self.late, "late run", "late runs")]
        return ", ".join(f"{count} {one if count == 1 else many}" for count, one, many in parts if count)


def _unfinished(since: datetime, now: datetime) -> dict[int, int]:
    """job id -> runs without an end that count as never finished: hung past the maximum duration now (marked too
    slow by the detector, or not yet), or abandoned in the period."""
    counts = dict(db.session.execute(
        select(JobRun.job_id, func.count()).where(or_(
            and_(JobRun.ended_at.is_(None), JobRun.outcome == RunOutcome.TOO_SLOW.value),
            and_(JobRun.outcome == RunOutcome.ABANDONED.value, JobRun.started_at >= since)))
        .group_by(JobRun.job_id)).all())
    # Runs still going (one or two per running job) are few: whether one is past its maximum is read here.
    for job_id, started_at, max_seconds in db.session.execute(
            select(JobRun.job_id, JobRun.started_at, Job.max_duration_seconds).join(Job, Job.id == JobRun.job_id)
            .where(JobRun.ended_at.is_(None), JobRun.outcome == RunOutcome.RUNNING.value,
                   JobRun.started_at.is_not(None))):
        if started_at + timedelta(seconds=max_seconds) <= now:
            counts[job_id] = counts.get(job_id, 0) + 1
    return counts


def trouble_since(since: datetime, now: datetime | None = None) -> dict[int, Trouble]:
    """job id -> its runs and what went wrong with them since `since` (a run still going is judged at `now`,
    default now); jobs with neither runs nor missed slots are left out.

    A fixed number of grouped queries whatever the number of jobs: finished runs, runs without an end, missed slots.
    """
    now = now or utcnow()
    finished = {row.job_id: row for row in db.session.execute(
        select(JobRun.job_id, func.count().label("runs"),
               func.sum((JobRun.outcome == RunOutcome.FAILED.value).cast(Integer)).label("failed"),
               func.sum(JobRun.too_slow.cast(Integer)).label("too_slow"),
               func.sum(JobRun.late.cast(Integer)).label("late"))
        .where(JobRun.ended_at >= since).group_by(JobRun.job_id))}
    unfinished = _unfinished(since, now)
    missed = dict(db.session.execute(
        select(JobEvent.job_id, func.count()).where(
            JobEvent.kind == "state", JobEvent.to_state == JobState.DOWN.value, JobEvent.at >= since,
            JobEvent.text.endswith(WHY["missed"], autoescape=True))
        .group_by(JobEvent.job_id)).all())
    result = {}
    for job_id in set(finished) | set(unfinished) | set(missed):
        row = finished.get(job_id)
        result[job_id] = Trouble(
            runs=(row.runs if row else 0) + unfinished.get(job_id, 0), failed=int(row.failed or 0) if row else 0,
            too_slow=int(row.too_slow or 0) if row else 0, unfinished=unfinished.get(job_id, 0),
            missed=missed.get(job_id, 0), late=int(row.late or 0) if row else 0)
    return result


# --- top jobs ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobRank:
    job: Job
    p95_seconds: float | None
    trouble: Trouble

    @property
    def runs(self) -> int:
        return self.trouble.runs

    @property
    def failures(self) -> int:
        return self.trouble.failed

    @property
    def late_runs(self) -> int:
        return self.trouble.late

    @property
    def too_slow_runs(self) -> int:
        return self.trouble.too_slow

    @property
    def missed_slots(self) -> int:
        return self.trouble.missed

    @property
    def unfinished_runs(self) -> int:
        return self.trouble.unfinished


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


SORTS = {"p95": lambda r: -(r.p95_seconds or 0), "failures": lambda r: -r.failures, "late": lambda r: -r.late_runs,
         "missed": lambda r: -r.missed_slots, "unfinished": lambda r: -r.unfinished_runs,
         "trouble": lambda r: -r.trouble.total}


def top_jobs(*, days: int = 30, sort: str = "p95", now: datetime | None = None) -> list[JobRank]:
    """Every job ranked by p95 duration, failures, late runs, missed slots, runs that never finished or all of
    these together over the last `days` days (ties by name)."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    durations: dict[int, list[float]] = {}
    for job_id, seconds in db.session.execute(select(JobRun.job_id, JobRun.duration_seconds).where(
            JobRun.ended_at >= since, JobRun.duration_seconds.is_not(None))):
        durations.setdefault(job_id, []).append(seconds)
    troubles = trouble_since(since, now)
    ranks = [JobRank(job=job, p95_seconds=percentile(durations.get(job.id, []), 0.95),
                     trouble=troubles.get(job.id, Trouble()))
             for job in db.session.scalars(select(Job).order_by(Job.name))]
    return sorted(ranks, key=lambda r: (SORTS.get(sort, SORTS["p95"])(r), r.job.name))
