"""The common ping in two statements: a success from a job that is up.

Most pings are a cron job saying "done" while its job is up: the state does not change, nothing goes on the
timeline, and only the run and the next expected slot are written. That case is written here with Core
statements on a connection of its own (no ORM session, no unit of work); everything else — a start, a failure,
a log, a job coming back, a paused or unknown job — returns False and goes the full way (`pings.record_ping`),
which changes state in one short transaction.

What the write needs about a job (its id and schedule) is cached per process by ping key. The cache is never
trusted: the job's UPDATE is conditional on the cached key, schedule and on the job being up and not paused,
so an edit, a new key, a pause or a state change elsewhere makes it touch no row; the entry is then dropped,
the run insert rolled back and the ping handed to the full path.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from app.timeutil import utcnow
from app.watchlist.models import Job, JobRun, JobState, RunOutcome
from app.watchlist.schedules import ScheduleSpec, next_due

CACHE_LIMIT = 200_000  # entries (about 300 bytes each); cleared when full, it refills on the next pings


@dataclass(frozen=True, slots=True)
class CachedJob:
    id: int
    schedule_kind: str
    interval_seconds: int | None
    cron_expr: str | None
    time_zone: str

    @property
    def spec(self) -> ScheduleSpec:
        interval = timedelta(seconds=self.interval_seconds) if self.interval_seconds else None
        return ScheduleSpec(kind=self.schedule_kind, interval=interval, cron=self.cron_expr, zone=self.time_zone)


class PingWriter:
    """Per process (one per app): the job cache and the two-statement write of a plain success."""

    def __init__(self) -> None:
        self.jobs: dict[str, CachedJob] = {}

    def lookup(self, conn, key: str) -> CachedJob | None:
        cached = self.jobs.get(key)
        if cached is not None:
            return cached
        row = conn.execute(select(Job.id, Job.schedule_kind, Job.interval_seconds, Job.cron_expr, Job.time_zone)
                           .where(Job.ping_key == key)).first()
        if row is None:
            return None
        if len(self.jobs) >= CACHE_LIMIT:
            self.jobs.clear()
        cached = self.jobs[key] = CachedJob(*row)
        return cached

    def record_success(self, engine: Engine, *, key: str, exit_code: int | None, rid: str | None, log: str,
                       early_tolerance: timedelta) -> bool:
        """Write a success of an up job and commit; False (nothing written) when the full path must decide."""
        now = utcnow()
        with engine.connect() as conn:
            job = self.lookup(conn, key)
            if job is None:
                conn.rollback()
                return False
            due = next_due(job.spec, now, early_tolerance)
            if due is None:  # a cron with no slot left within the horizon: the full path says so on the job
                conn.rollback()
                return False
            run_id = conn.execute(insert(JobRun).values(
                job_id=job.id, rid=rid, ended_at=now, outcome=RunOutcome.SUCCESS.value, exit_code=exit_code,
                log=log, late=False, too_slow=False, too_fast=False).returning(JobRun.id)).scalar_one()
            touched = conn.execute(update(Job).where(
                Job.id == job.id, Job.ping_key == key, Job.state == JobState.UP.value, Job.paused.is_(False),
                Job.schedule_kind == job.schedule_kind, Job.interval_seconds.is_not_distinct_from(job.interval_seconds),
                Job.cron_expr.is_not_distinct_from(job.cron_expr), Job.time_zone == job.time_zone,
            ).values(last_ping_at=now, last_run_id=run_id, consecutive_failures=0, due_at=due,
                     next_deadline=due)).rowcount
            if touched != 1:
                conn.rollback()
                self.jobs.pop(key, None)
                return False
            conn.commit()
            return True
