"""The common ping in one write: a success from a job that is up.

Most pings are a cron job saying "done" while its job is up: the state does not change, nothing goes on the
timeline, and only the run and the next expected slot are written. That case is written here with Core
statements on a connection of its own (no ORM session, no unit of work); everything else — a start, a failure,
a log, a job coming back, a paused or unknown job — returns False and goes the full way (`pings.record_ping`),
which changes state in one short transaction.

On SQLite it is an insert and an update in one short transaction. On PostgreSQL it is one statement on a
connection held by the worker thread between pings (no pool checkout, pre-ping, BEGIN or COMMIT round trips), in
autocommit with `synchronous_commit = off`: the ping is answered before its WAL record reaches the disk, so a
database crash can forget the last fraction of a second of pings (never half of one). A forgotten success ping
can at worst make a job look late; the fsync it saves was most of a ping's cost.

What the write needs about a job (its id and schedule) is cached per process by ping key. The cache is never
trusted: the job's UPDATE is conditional on the cached key, schedule and on the job being up and not paused,
so an edit, a new key, a pause or a state change elsewhere makes it touch no row; the entry is then dropped,
nothing is kept and the ping goes to the full path.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Integer, String, bindparam, false, insert, select, text, update
from sqlalchemy.engine import Engine

from app.database import UTCDateTime
from app.timeutil import utcnow
from app.watchlist.models import Job, JobRun, JobState, RunOutcome
from app.watchlist.schedules import ScheduleSpec, next_due

log = logging.getLogger("quarterdeck.watchlist")

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


# Built once: a statement object reused for every ping is compiled and cache-keyed once, not per request.
JOBS, RUNS = Job.__table__, JobRun.__table__
FIND_JOB = select(JOBS.c.id, JOBS.c.schedule_kind, JOBS.c.interval_seconds, JOBS.c.cron_expr, JOBS.c.time_zone) \
    .where(JOBS.c.ping_key == bindparam("key"))
INSERT_RUN = insert(RUNS).values(
    job_id=bindparam("job_id"), rid=bindparam("rid"), ended_at=bindparam("now"), outcome=RunOutcome.SUCCESS.value,
    exit_code=bindparam("exit_code"), log=bindparam("log"), late=False, too_slow=False, too_fast=False,
).returning(RUNS.c.id)
# Conditional on everything the cache assumed: a job edited, re-keyed, paused or changed state elsewhere is not
# touched, and the full path decides.
MARK_SUCCESS = update(JOBS).where(
    JOBS.c.id == bindparam("job_id"), JOBS.c.ping_key == bindparam("key"), JOBS.c.state == JobState.UP.value,
    JOBS.c.paused == false(), JOBS.c.schedule_kind == bindparam("kind"),
    JOBS.c.interval_seconds.is_not_distinct_from(bindparam("interval")),
    JOBS.c.cron_expr.is_not_distinct_from(bindparam("cron")), JOBS.c.time_zone == bindparam("zone"),
).values(last_ping_at=bindparam("now"), last_run_id=bindparam("run_id"), consecutive_failures=0,
         due_at=bindparam("due"), next_deadline=bindparam("due"))


# PostgreSQL: the same two writes as ONE statement in autocommit (one round trip instead of four: begin,
# insert, update, commit). The run's id is drawn first so the job row can point at it; when the job does not
# match, the UPDATE returns nothing and nothing is inserted.
PG_RECORD_SUCCESS = text("""
WITH job AS (
    UPDATE watch_jobs SET last_ping_at = :now, consecutive_failures = 0, due_at = :due, next_deadline = :due,
           last_run_id = nextval(pg_get_serial_sequence('watch_job_runs', 'id'))
    WHERE id = :job_id AND ping_key = :key AND state = 'up' AND paused = false AND schedule_kind = :kind
      AND interval_seconds IS NOT DISTINCT FROM :interval AND cron_expr IS NOT DISTINCT FROM :cron
      AND time_zone = :zone
    RETURNING id, last_run_id)
INSERT INTO watch_job_runs (id, job_id, rid, ended_at, outcome, exit_code, log, late, too_slow, too_fast)
SELECT last_run_id, id, :rid, :now, 'success', :exit_code, :log, false, false, false FROM job
""").bindparams(bindparam("now", type_=UTCDateTime()), bindparam("due", type_=UTCDateTime()),
                bindparam("interval", type_=Integer()), bindparam("cron", type_=String()),
                bindparam("exit_code", type_=Integer()), bindparam("rid", type_=String()))


class PingWriter:
    """Per process (one per app): the job cache and the two-statement write of a plain success."""

    def __init__(self) -> None:
        self.jobs: dict[str, CachedJob] = {}
        self._held = threading.local()  # one connection per worker thread, kept between pings

    def _connection(self, engine: Engine):
        conn = getattr(self._held, "conn", None)
        if conn is None or conn.closed or conn.engine is not engine:
            conn = engine.connect()
            conn.exec_driver_sql("SET synchronous_commit TO off")
            conn.commit()
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self._held.conn = conn
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._held, "conn", None)
        self._held.conn = None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # it is being thrown away because it failed; say so and go on
                log.debug("closing a failed ping connection failed too", exc_info=True)

    def lookup(self, conn, key: str) -> CachedJob | None:
        cached = self.jobs.get(key)
        if cached is not None:
            return cached
        row = conn.execute(FIND_JOB, {"key": key}).first()
        if row is None:
            return None
        if len(self.jobs) >= CACHE_LIMIT:
            self.jobs.clear()
        cached = self.jobs[key] = CachedJob(*row)
        return cached

    def record_success(self, engine: Engine, *, key: str, exit_code: int | None, rid: str | None, log: str,
                       early_tolerance: timedelta) -> bool:
        """Write a success of an up job and commit; False (nothing written) when the full path must decide."""
        values = {"key": key, "exit_code": exit_code, "rid": rid, "log": log, "early_tolerance": early_tolerance}
        if engine.dialect.name != "postgresql":  # a SQLite checkout is cheap, and in-memory databases share one
            with engine.connect() as conn:
                return self._write(conn, **values)
        conn = self._connection(engine)
        try:
            return self._write(conn, **values)
        except BaseException:
            self._drop_connection()  # a broken or half-used connection is never reused
            raise

    def _write(self, conn, *, key: str, exit_code: int | None, rid: str | None, log: str,
               early_tolerance: timedelta) -> bool:
        now = utcnow()
        job = self.lookup(conn, key)
        if job is None:
            conn.rollback()
            return False
        due = next_due(job.spec, now, early_tolerance)
        if due is None:  # a cron with no slot left within the horizon: the full path says so on the job
            conn.rollback()
            return False
        params = {"job_id": job.id, "key": key, "kind": job.schedule_kind, "interval": job.interval_seconds,
                  "cron": job.cron_expr, "zone": job.time_zone, "now": now, "due": due, "rid": rid,
                  "exit_code": exit_code, "log": log}
        if conn.dialect.name == "postgresql":
            if conn.execute(PG_RECORD_SUCCESS, params).rowcount == 1:
                return True
            self.jobs.pop(key, None)
            return False
        run_id = conn.execute(INSERT_RUN, {"job_id": job.id, "rid": rid, "now": now, "exit_code": exit_code,
                                           "log": log}).scalar_one()
        touched = conn.execute(MARK_SUCCESS, {**params, "run_id": run_id}).rowcount
        if touched != 1:
            conn.rollback()
            self.jobs.pop(key, None)
            return False
        conn.commit()
        return True
