"""Run retention: runs older than WATCHLIST_RUN_RETENTION_DAYS become one row per job and UTC day (JobRunDay).

The default of 400 days keeps a year of quarters comparable run by run; older history stays as daily counts,
failures and durations. The scheduler rolls up in small batches, each its own short transaction, so a first
roll-up of years of history never holds the write lock for long.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select

from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.models import JobRun, JobRunDay, RunOutcome

BATCH = 1000  # runs per transaction
MAX_BATCHES = 50  # per call: the rest waits for the next hourly run

FAILED = (RunOutcome.FAILED.value, RunOutcome.TOO_SLOW.value)


def roll_up_old_runs(now: datetime | None = None, *, batch: int = BATCH, max_batches: int = MAX_BATCHES) -> dict:
    """Fold runs older than the retention period into daily rows and delete them; returns what it did."""
    now = now or utcnow()
    cutoff = now - timedelta(days=int(current_app.config["WATCHLIST_RUN_RETENTION_DAYS"]))
    old = or_(JobRun.ended_at < cutoff, and_(JobRun.ended_at.is_(None), JobRun.started_at < cutoff))
    summary = {"runs": 0, "batches": 0}
    for _ in range(max_batches):
        done = roll_up_batch(old, batch)
        if not done:
            break
        summary["runs"] += done
        summary["batches"] += 1
        if done < batch:
            break
    return summary


def roll_up_batch(condition, batch: int = BATCH) -> int:
    """Fold up to `batch` runs matching `condition` (oldest first) into daily rows, delete them and commit."""
    runs = db.session.execute(select(JobRun.id, JobRun.job_id, JobRun.started_at, JobRun.ended_at,
                                     JobRun.duration_seconds, JobRun.outcome, JobRun.late)
                              .where(condition).order_by(JobRun.id).limit(batch)).all()
    if not runs:
        return 0
    _fold(runs)
    db.session.execute(delete(JobRun).where(JobRun.id.in_([run.id for run in runs]))
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return len(runs)


def _fold(runs: list) -> None:
    """Add `runs` to their (job, day) rows, creating the rows that do not exist yet."""
    groups: dict[tuple, list] = defaultdict(list)
    for run in runs:
        moment = run.ended_at or run.started_at
        if moment is not None:  # a run has a start or an end; a row without either has nothing to count
            groups[(run.job_id, moment.date())].append(run)
    if not groups:
        return
    job_ids = {job_id for job_id, _day in groups}
    days = {day for _job_id, day in groups}
    existing = {(row.job_id, row.day): row for row in db.session.scalars(
        select(JobRunDay).where(JobRunDay.job_id.in_(job_ids), JobRunDay.day.in_(days)))}
    for key, members in groups.items():
        row = existing.get(key)
        if row is None:
            row = JobRunDay(job_id=key[0], day=key[1], runs=0, failures=0, late=0, timed=0,
                            duration_total_seconds=0.0, duration_max_seconds=None)
            db.session.add(row)
        durations = [run.duration_seconds for run in members if run.duration_seconds is not None]
        row.runs += len(members)
        row.failures += sum(1 for run in members if run.outcome in FAILED)
        row.late += sum(1 for run in members if run.late)
        row.timed += len(durations)
        row.duration_total_seconds += sum(durations)
        if durations:
            row.duration_max_seconds = max([row.duration_max_seconds or 0.0, *durations])
