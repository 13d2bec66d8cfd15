"""The common ping in one write: a success from a job that is up.

Most pings are a cron job saying "done" while its job is up: the state does not change, nothing goes on the
timeline, and only the run and the next expected slot are written. That case is written here with Core
statements on a connection of its own (no ORM session, no unit of work); everything else — a start, a failure,
a log, a job coming back, a paused or unknown job — returns False and goes the full way (`pings.record_ping`),
which changes state in one short transaction.

On SQLite it is an insert and an update in one short transaction, sent as plain SQL on the sqlite3 connection
itself: SQLAlchemy's statement handling (compiled-cache lookup, parameter and result processing, connection
checkout and reset) was most of a ping's cost there, several times the two writes. A file database's worker thread
keeps a connection of its own, taken out of the pool (with the pool's pragmas already set), between pings; an
in-memory database (one shared connection) borrows it per ping. The raw statements write exactly what the models
would: timestamps as naive UTC text in SQLAlchemy's layout, so that comparisons between the two stay right.

On PostgreSQL it is one statement on a connection held by the worker thread between pings (no pool checkout,
pre-ping, BEGIN or COMMIT round trips), in autocommit with `synchronous_commit = off`: the ping is answered before
its WAL record reaches the disk, so a database crash can forget the last fraction of a second of pings (never half
of one). A forgotten success ping can at worst make a job look late; the fsync it saves was most of a ping's cost.

What the write needs about a job (its id and schedule) is cached per process by ping key. The cache is never
trusted: the job's UPDATE is conditional on the cached key, schedule and on the job being up and not paused,
so an edit, a new key, a pause or a state change elsewhere makes it touch no row; the entry is then dropped,
nothing is kept and the ping goes to the full path.
"""
from __future__ import annotations

import logging
import threading
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from datetime import datetime, timedelta, timezone

from sqlalchemy import Integer, String, bindparam, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from app.database import UTCDateTime
from app.timeutil import utcnow
from app.watchlist.models import Job, JobState, RunOutcome
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
JOBS = Job.__table__
FIND_JOB = select(JOBS.c.id, JOBS.c.schedule_kind, JOBS.c.interval_seconds, JOBS.c.cron_expr, JOBS.c.time_zone) \
    .where(JOBS.c.ping_key == bindparam("key"))

# PostgreSQL: the run and the job's new slot as ONE statement in autocommit (one round trip instead of four:
# begin, insert, update, commit). The run's id is drawn first so the job row can point at it; the UPDATE is
# conditional on everything the cache assumed (a job edited, re-keyed, paused or changed state elsewhere is not
# touched, and the full path decides) and when it matches nothing, nothing is inserted.
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

# SQLite: the same writes as plain SQL for the sqlite3 module (see the module's docstring for why).
SQLITE_FIND_JOB = ("SELECT id, schedule_kind, interval_seconds, cron_expr, time_zone FROM watch_jobs "
                   "WHERE ping_key = ?")
SQLITE_INSERT_RUN = ("INSERT INTO watch_job_runs (job_id, rid, ended_at, outcome, exit_code, log, late, too_slow, "
                     f"too_fast) VALUES (?, ?, ?, '{RunOutcome.SUCCESS.value}', ?, ?, 0, 0, 0)")
SQLITE_MARK_SUCCESS = (
    "UPDATE watch_jobs SET last_ping_at = ?, last_run_id = ?, consecutive_failures = 0, due_at = ?, next_deadline = ?"
    f" WHERE id = ? AND ping_key = ? AND state = '{JobState.UP.value}' AND paused = 0 AND schedule_kind = ?"
    " AND interval_seconds IS ? AND cron_expr IS ? AND time_zone = ?")


def sqlite_timestamp(moment: datetime) -> str:
    """An aware instant as SQLAlchemy's SQLite DateTime stores it (naive UTC, microseconds always written), so the
    text compares correctly with every timestamp the models write."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


class _HeldSqlite(NamedTuple):
    """A worker thread's SQLite connection: the pool it came from (a disposed engine gets a new one), the sqlite3
    connection, and the detached pool entry that closes it (None for the in-memory database's shared connection)."""

    pool: object
    connection: sqlite3.Connection
    detached: object | None


class PingWriter:
    """Per process (one per app): the job cache and the write of a plain success."""

    def __init__(self) -> None:
        self.jobs: dict[str, CachedJob] = {}
        self._held = threading.local()  # per worker thread: a connection kept between pings

    def plan(self, key: str, find: Callable[[], Sequence | None],
             early_tolerance: timedelta) -> tuple[CachedJob, datetime, datetime] | None:
        """The job of `key` (cached, else read by `find` and remembered), now and its next slot; None when the full
        path must decide (no such job, or a cron with no slot left within the horizon, which it says on the job)."""
        job = self.jobs.get(key)
        if job is None:
            row = find()
            if row is None:
                return None
            if len(self.jobs) >= CACHE_LIMIT:
                self.jobs.clear()
            job = self.jobs[key] = CachedJob(*row)
        now = utcnow()
        due = next_due(job.spec, now, early_tolerance)
        return None if due is None else (job, now, due)

    def record_success(self, engine: Engine, *, key: str, exit_code: int | None, rid: str | None, log: str,
                       early_tolerance: timedelta) -> bool:
        """Write a success of an up job and commit; False (nothing written) when the full path must decide."""
        values = {"key": key, "exit_code": exit_code, "rid": rid, "log": log, "early_tolerance": early_tolerance}
        if engine.dialect.name == "sqlite":
            return self._record_sqlite(engine, **values)
        conn = self._postgres_connection(engine)
        try:
            return self._write_postgres(conn, **values)
        except BaseException:
            self._drop_postgres_connection()  # a broken or half-used connection is never reused
            raise

    # --- PostgreSQL ----------------------------------------------------------------------------------------------

    def _postgres_connection(self, engine: Engine):
        conn = getattr(self._held, "conn", None)
        if conn is None or conn.closed or conn.engine is not engine:
            conn = engine.connect()
            conn.exec_driver_sql("SET synchronous_commit TO off")
            conn.commit()
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self._held.conn = conn
        return conn

    def _drop_postgres_connection(self) -> None:
        conn = getattr(self._held, "conn", None)
        self._held.conn = None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # it is being thrown away because it failed; say so and go on
                log.debug("closing a failed ping connection failed too", exc_info=True)

    def _write_postgres(self, conn, *, key: str, exit_code: int | None, rid: str | None, log: str,
                        early_tolerance: timedelta) -> bool:
        planned = self.plan(key, lambda: conn.execute(FIND_JOB, {"key": key}).first(), early_tolerance)
        if planned is None:
            return False
        job, now, due = planned
        params = {"job_id": job.id, "key": key, "kind": job.schedule_kind, "interval": job.interval_seconds,
                  "cron": job.cron_expr, "zone": job.time_zone, "now": now, "due": due, "rid": rid,
                  "exit_code": exit_code, "log": log}
        if conn.execute(PG_RECORD_SUCCESS, params).rowcount == 1:
            return True
        self.jobs.pop(key, None)
        return False

    # --- SQLite --------------------------------------------------------------------------------------------------

    def _record_sqlite(self, engine: Engine, **values) -> bool:
        connection = self._sqlite_connection(engine)
        try:
            return self._write_sqlite(connection, **values)
        except BaseException:
            self._drop_sqlite_connection()
            raise

    def _sqlite_connection(self, engine: Engine) -> sqlite3.Connection:
        held: _HeldSqlite | None = getattr(self._held, "sqlite", None)
        # A disposed engine has a new pool: what was held belonged to the old one (a replaced file, say).
        if held is not None and held.pool is engine.pool:
            return held.connection
        self._drop_sqlite_connection()
        borrowed = engine.raw_connection()
        connection = borrowed.driver_connection
        if isinstance(engine.pool, QueuePool):
            borrowed.detach()  # a file database: ours alone from now on, the pool neither counts nor resets it
            self._held.sqlite = _HeldSqlite(engine.pool, connection, borrowed)
        else:  # in memory: the pool's one connection for everybody, so it is only borrowed (and never closed)
            borrowed.close()
            self._held.sqlite = _HeldSqlite(engine.pool, connection, None)
        return connection

    def _drop_sqlite_connection(self) -> None:
        held: _HeldSqlite | None = getattr(self._held, "sqlite", None)
        self._held.sqlite = None
        if held is not None and held.detached is not None:
            try:
                held.detached.close()  # a detached connection: closing it closes the sqlite3 connection
            except Exception:  # it is being thrown away because it failed; say so and go on
                log.debug("closing a failed ping connection failed too", exc_info=True)

    def _write_sqlite(self, connection: sqlite3.Connection, *, key: str, exit_code: int | None, rid: str | None,
                      log: str, early_tolerance: timedelta) -> bool:
        planned = self.plan(key, lambda: connection.execute(SQLITE_FIND_JOB, (key,)).fetchone(), early_tolerance)
        if planned is None:
            return False
        job, now, due = planned
        at, due_at = sqlite_timestamp(now), sqlite_timestamp(due)
        try:
            run_id = connection.execute(SQLITE_INSERT_RUN, (job.id, rid, at, exit_code, log)).lastrowid
            touched = connection.execute(SQLITE_MARK_SUCCESS, (
                at, run_id, due_at, due_at, job.id, key, job.schedule_kind, job.interval_seconds, job.cron_expr,
                job.time_zone)).rowcount
            if touched != 1:
                connection.rollback()
                self.jobs.pop(key, None)
                return False
            connection.commit()
            return True
        except BaseException:
            connection.rollback()  # nothing half written stays behind for the next ping on this connection
            raise
