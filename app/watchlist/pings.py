"""Pings: what a job's start, success, failure, exit code and log signals do to its runs and state.

The protocol is Healthchecks': /ping/<uuid> (success), /start, /fail, /log, /<exit-code> (0 success, 1-255
failure), with ?rid=<uuid> pairing a start with its end. A start and end without rid pair by order, and such
runs cannot overlap: a new one replaces an older open one, which is marked abandoned.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update

from app.errors import Invalid
from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.models import LOG_MAX, Job, JobRun, JobState, RunOutcome
from app.watchlist.paging import hold_for_maintenance, page_job, resolve_job_alert
from app.watchlist.states import (expect_next, human_duration, open_runs, record, running_deadline, set_state)

SUCCESS, START, FAIL, LOG = "success", "start", "fail", "log"


def parse_signal(signal: str | None) -> tuple[str, int | None]:
    """"start" -> ("start", None); "0" -> ("success", 0); "3" -> ("fail", 3); Invalid for anything else."""
    if signal is None or signal == "":
        return SUCCESS, None
    if signal in (START, FAIL, LOG):
        return signal, None
    if signal.isdigit() and len(signal) <= 3 and 0 <= int(signal) <= 255:
        code = int(signal)
        return (SUCCESS if code == 0 else FAIL), code
    raise Invalid("Use /start, /fail, /log or an exit code from 0 to 255.", "exit_code")


def parse_rid(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise Invalid("rid must be a UUID, e.g. $(uuidgen).", "rid") from None


def canonical_key(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def decode_body(body: bytes) -> str:
    """The first 10 kB of the body as text (invalid UTF-8 replaced, never refused)."""
    return body[:LOG_MAX].decode("utf-8", errors="replace").replace("\x00", "")


def record_ping(*, ping_key: str, kind: str, exit_code: int | None = None, rid: str | None = None,
                body: bytes = b"") -> bool:
    """Apply one ping to its job and commit; False (nothing written) for an unknown key."""
    key = canonical_key(ping_key)
    if key is None:
        return False
    now = utcnow()
    # Write first: the row lock (PostgreSQL) or the write lock (SQLite) serialises pings of one job and the
    # detector's compare-and-set, so everything read below is current.
    touched = db.session.execute(update(Job).where(Job.ping_key == key).values(last_ping_at=now)
                                 .execution_options(synchronize_session=False))
    if touched.rowcount == 0:
        db.session.rollback()
        return False
    job = db.session.scalar(select(Job).where(Job.ping_key == key))
    text = decode_body(body)
    if kind == LOG:
        record(job, at=now, kind="log", text="Log ping", detail=text)
    elif kind == START:
        _start(job, now, rid)
    else:
        _finish(job, now, rid, success=kind == SUCCESS, exit_code=exit_code, log=text)
    db.session.commit()
    return True


def _abandon(runs: list[JobRun]) -> None:
    for run in runs:
        run.outcome = RunOutcome.ABANDONED.value


def _start(job: Job, now: datetime, rid: str | None) -> None:
    # A run id names one run: a repeated start with the same id, or a start without id, replaces the older one.
    _abandon([run for run in open_runs(job.id) if run.rid == rid])
    run = JobRun(job_id=job.id, rid=rid, started_at=now, late=job.state == JobState.LATE)
    db.session.add(run)
    db.session.flush()
    job.last_run_id = run.id
    if job.paused or job.state == JobState.DOWN:
        return  # a down job comes back with a successful end, not with a start
    set_state(job, JobState.RUNNING, now, "a run started")
    job.next_deadline = running_deadline(job)


def _run_to_close(job: Job, rid: str | None) -> JobRun | None:
    """The open run this end belongs to: the one with the same rid, or the newest without one."""
    same_rid = JobRun.rid.is_(None) if rid is None else JobRun.rid == rid
    candidates = list(db.session.scalars(select(JobRun).where(
        JobRun.job_id == job.id, JobRun.ended_at.is_(None), same_rid,
        JobRun.outcome.in_((RunOutcome.RUNNING.value, RunOutcome.TOO_SLOW.value))).order_by(JobRun.id.desc())))
    if not candidates:
        return None
    _abandon([run for run in candidates[1:] if run.outcome == RunOutcome.RUNNING.value])
    return candidates[0]


# Only in these states can a job have runs without an end that still count (up, late and new mean none is
# open), so the common case — a plain success ping of a job that is up — skips both run queries.
MAY_HAVE_OPEN_RUNS = (JobState.RUNNING.value, JobState.DOWN.value, JobState.PAUSED.value)


def _finish(job: Job, now: datetime, rid: str | None, *, success: bool, exit_code: int | None, log: str) -> None:
    was = job.state
    may_have_open = was in MAY_HAVE_OPEN_RUNS
    run = _run_to_close(job, rid) if may_have_open else None
    if run is None:
        run = JobRun(job_id=job.id, rid=rid, started_at=None)
        db.session.add(run)
    run.ended_at, run.exit_code, run.log = now, exit_code, log
    run.outcome = (RunOutcome.SUCCESS if success else RunOutcome.FAILED).value
    run.late = run.late or was == JobState.LATE or (was == JobState.DOWN and job.down_reason == "missed")
    if run.started_at is not None:
        run.duration_seconds = (now - run.started_at).total_seconds()
        _flag_duration(job, run, now)
    db.session.flush()
    job.last_run_id = run.id
    job.consecutive_failures = 0 if success else job.consecutive_failures + 1
    if job.paused:
        return
    if not success and job.consecutive_failures >= job.failures_before_paging:
        _go_down_failed(job, now, exit_code)
        return
    if not success and was != JobState.DOWN:
        record(job, at=now, kind="flag", text=f"Failed ({job.consecutive_failures} of {job.failures_before_paging} "
                                               "failures in a row before paging).")
    if job.state == JobState.DOWN and not success:
        return  # still down; the open alert already says so
    if job.state == JobState.DOWN:
        set_state(job, JobState.UP, now, "a run succeeded")
        resolve_job_alert(job, now, "is back up")
        job.down_since = job.down_reason = None
    expect_next(job, now)
    deadline = running_deadline(job) if may_have_open else None
    if deadline is not None:
        set_state(job, JobState.RUNNING, now, "another run is still going")
        job.next_deadline = deadline
    else:
        set_state(job, JobState.UP, now, "a run succeeded" if success else "a run failed (below the paging count)")


def _flag_duration(job: Job, run: JobRun, now: datetime) -> None:
    took = run.duration_seconds or 0.0
    if took > job.max_duration_seconds:
        run.too_slow = True
        record(job, at=now, kind="flag", text=f"Too slow: took {human_duration(took)}, over the maximum of "
                                               f"{human_duration(job.max_duration_seconds)}.")
    if job.min_duration_seconds is not None and took < job.min_duration_seconds:
        run.too_fast = True
        record(job, at=now, kind="flag", text=f"Suspiciously fast: took {human_duration(took)}, under the minimum of "
                                               f"{human_duration(job.min_duration_seconds)}.")


def _go_down_failed(job: Job, now: datetime, exit_code: int | None) -> None:
    if job.state == JobState.DOWN:
        return
    why = f"{job.consecutive_failures} failure(s) in a row" + (f", exit code {exit_code}" if exit_code else "")
    set_state(job, JobState.DOWN, now, why)
    job.down_since, job.down_reason, job.alert_key, job.due_at = now, "failed", None, None
    job.next_deadline = now
    if not hold_for_maintenance(job, now):
        page_job(job, now)
