"""How reliable each job has been: every way a run or a slot went wrong, counted the way the watch list shows it,
and the top jobs ranked for tuning. The readiness jobs track reads the same counts.

Ways a job is unhealthy, one count each:
- failed: a run that ended with a failure (fail ping or a non-zero exit code);
- too slow: a run that finished after its maximum duration;
- never finished: a run still going past its maximum duration (hung), or one that never reported its end and was
  replaced by a later start (abandoned);
- missed: a slot with no run by the end of its grace period (the job went down "missed");
- late: a run that answered its slot after the slot had passed.

Runs folded into daily rows (past WATCHLIST_RUN_RETENTION_DAYS, or past WATCHLIST_RUNS_PER_JOB) still count in runs,
failures and late runs for the UTC days wholly inside the period (run_days.py). A daily row keeps no "too slow" or
"never finished" count: a run folded while still running past its maximum counts as a failure there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from app.extensions import db
from app.timeutil import UTC, utcnow
from app.watchlist.models import Job, JobEvent, JobRun, JobState, RunOutcome
from app.watchlist.run_days import DayTotals, FinishedRuns, day_totals, finished_runs, midnight
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
    rolled_up: int = 0  # of `runs`, those counted from daily rows (their failures and late runs count too)

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
    # Both kinds have no end (an abandoned run is never closed): saying so first lets the (job, end, outcome) index
    # find them instead of a scan of every run.
    counts = dict(db.session.execute(
        select(JobRun.job_id, func.count()).where(JobRun.ended_at.is_(None), or_(
            JobRun.outcome == RunOutcome.TOO_SLOW.value,
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


def trouble_since(since: datetime, now: datetime | None = None, *, days: dict[int, DayTotals] | None = None,
                  finished: dict[int, FinishedRuns] | None = None) -> dict[int, Trouble]:
    """job id -> its runs and what went wrong with them since `since` (a run still going is judged at `now`,
    default now), runs folded into the daily rows of the whole UTC days since then included; jobs with neither runs
    nor missed slots are left out. `days` and `finished` are read here when the caller has not read them already.

    A fixed number of grouped queries whatever the number of jobs: finished runs, runs without an end, missed slots,
    daily rows.
    """
    now = now or utcnow()
    finished = finished_runs(since, durations=False) if finished is None else finished
    unfinished = _unfinished(since, now)
    missed = dict(db.session.execute(
        select(JobEvent.job_id, func.count()).where(
            JobEvent.kind == "state", JobEvent.to_state == JobState.DOWN.value, JobEvent.at >= since,
            JobEvent.text.endswith(WHY["missed"], autoescape=True))
        .group_by(JobEvent.job_id)).all())
    days = day_totals(since) if days is None else days
    result = {}
    for job_id in set(finished) | set(unfinished) | set(missed) | {job_id for job_id, d in days.items() if d.runs}:
        kept = finished.get(job_id, FinishedRuns())
        folded = days.get(job_id, DayTotals())
        result[job_id] = Trouble(
            runs=kept.runs + unfinished.get(job_id, 0) + folded.runs, failed=kept.failed + folded.failures,
            too_slow=kept.too_slow, unfinished=unfinished.get(job_id, 0), missed=missed.get(job_id, 0),
            late=kept.late + folded.late, rolled_up=folded.runs)
    return result


# --- top jobs ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobRank:
    job: Job
    trouble: Trouble
    kept: FinishedRuns = field(default_factory=FinishedRuns)  # the runs still kept one by one
    folded: DayTotals = field(default_factory=DayTotals)  # daily rows of the period

    @property
    def p95_seconds(self) -> float | None:
        """Over the runs still kept one by one only: a daily row keeps a sum and a maximum, not a distribution."""
        return self.kept.p95_seconds

    @property
    def mean_seconds(self) -> float | None:
        timed = self.kept.timed + self.folded.timed
        total = self.kept.total_seconds + self.folded.duration_total_seconds
        return total / timed if timed else None

    @property
    def max_seconds(self) -> float | None:
        values = [value for value in (self.kept.max_seconds, self.folded.duration_max_seconds) if value is not None]
        return max(values) if values else None

    @property
    def runs(self) -> int:
        return self.trouble.runs

    @property
    def rolled_up_runs(self) -> int:
        return self.trouble.rolled_up

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


SORTS = {"p95": lambda r: -(r.p95_seconds or 0), "mean": lambda r: -(r.mean_seconds or 0),
         "max": lambda r: -(r.max_seconds or 0), "failures": lambda r: -r.failures, "late": lambda r: -r.late_runs,
         "missed": lambda r: -r.missed_slots, "unfinished": lambda r: -r.unfinished_runs,
         "trouble": lambda r: -r.trouble.total}

# The periods the top jobs can cover: query value -> (days, label). Longer ones reach past the retention of single
# runs and are then counted mostly from daily rows.
PERIODS = {"30d": (30, "last 30 days"), "90d": (90, "last 90 days"), "1y": (365, "last year")}
DEFAULT_PERIOD = "30d"


def period_start(period: str, now: datetime) -> datetime:
    """Midnight UTC `days` days back: a period of whole UTC days, so daily rows and single runs count alike."""
    days, _label = PERIODS.get(period, PERIODS[DEFAULT_PERIOD])
    return midnight((now - timedelta(days=days)).astimezone(UTC).date())


def top_jobs(*, period: str = DEFAULT_PERIOD, sort: str = "p95", now: datetime | None = None) -> list[JobRank]:
    """Every job ranked by p95, mean or maximum duration, failures, late runs, missed slots, runs that never finished
    or all of these together over `period` (PERIODS; ties by name), daily rows of rolled-up runs included. Grouped
    queries only: no run is read one by one."""
    now = now or utcnow()
    since = period_start(period, now)
    folded = day_totals(since)
    kept = finished_runs(since)
    troubles = trouble_since(since, now, days=folded, finished=kept)
    ranks = [JobRank(job=job, trouble=troubles.get(job.id, Trouble()), kept=kept.get(job.id, FinishedRuns()),
                     folded=folded.get(job.id, DayTotals()))
             for job in db.session.scalars(select(Job).order_by(Job.name))]
    return sorted(ranks, key=lambda r: (SORTS.get(sort, SORTS["p95"])(r), r.job.name))
