"""The detector: one pass finds the jobs whose deadline has passed and moves them on, then pages.

- Only `next_deadline <= now` is read (an indexed range), so a pass costs the same with 10 jobs or 10,000.
- Every change is compare-and-set: an UPDATE conditional on the state and deadline that were read, whose row
  count says whether this pass won. A ping or a second scheduler (PostgreSQL) that got there first wins, and
  nothing is done twice.
- Changes are recorded at the moment they theoretically happened (the deadline), not when the pass noticed
  them, so downtime figures stay exact when the scheduler was late; a job that missed both its slot and its
  grace while no pass ran gets both changes, each at its own moment.
- Catch-up: deadlines more than WATCHLIST_CATCHUP_MINUTES old can only mean no pass ran for a while (passes
  run every few seconds). The jobs already past their grace then go down in a few statements (overdue.py), and
  when at least WATCHLIST_CATCHUP_MIN_JOBS such pages are due in one pass, they go out as ONE grouped alert per
  escalation policy instead of one per job (catch_up.py): the statements of a catch-up do not grow with the number
  of late jobs. The statement that moves them down also claims them for that alert, in the transaction that raises
  it, so each job row is written once.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.timeutil import utcnow
from app.watchlist import bulk, catch_up, overdue
from app.watchlist.models import Job, JobRun, JobState, MaintenanceWindow, RunOutcome
from app.watchlist.paging import hold_for_maintenance, page_job
from app.watchlist.states import WHY, record

log = logging.getLogger("quarterdeck.watchlist")

BATCH = 500
PAGE_RETRY = timedelta(minutes=1)
WATCHED = (JobState.UP.value, JobState.LATE.value, JobState.RUNNING.value)


def run_detection_pass(now: datetime | None = None) -> dict[str, int]:
    """Apply every transition due by `now` and raise the pages they call for; returns what it did, by kind."""
    now = now or utcnow()
    summary: Counter[str] = Counter()
    grouped = _advance_states(now, summary)
    _raise_due_pages(now, summary, grouped)
    return dict(summary)


def _in_state(*states: str):
    """A state condition that the deadline range, not the state index, must serve: without statistics SQLite
    picked ix_watch_jobs_state (most jobs share a state) and an idle pass read every up job. `state || ''` is the
    same value and no index's column."""
    return Job.state.concat("").in_(states)


# The pass's two reads are built once, with `now` bound when sent: a pass runs every few seconds, and building and
# keying a statement cost as much CPU as sending it.
@cache
def _due_watched():
    """Watched jobs whose deadline passed by `now`, oldest first, a batch at a time."""
    return select(Job.id, Job.state, Job.next_deadline, Job.due_at, Job.grace_seconds, Job.max_duration_seconds) \
        .where(Job.next_deadline <= bindparam("now"), _in_state(*WATCHED)).order_by(Job.next_deadline, Job.id) \
        .limit(BATCH).with_for_update(skip_locked=True)  # PostgreSQL: another scheduler skips the jobs this pass holds


def _catch_up_cutoff(now: datetime) -> datetime:
    return now - timedelta(minutes=int(current_app.config["WATCHLIST_CATCHUP_MINUTES"]))


def _catch_up_key(now: datetime) -> str:
    return f"watchlist:catch-up:{now:%Y-%m-%dT%H:%M}"


def _advance_states(now: datetime, summary: Counter) -> bool:
    """Every due transition; whether a catch-up went out as grouped alerts."""
    seen: set[int] = set()
    cutoff, caught_up, grouped = _catch_up_cutoff(now), False, False
    while True:
        read = db.session.execute(_due_watched(), {"now": now}).all()
        rows = [row for row in read if row.id not in seen]
        if not rows:
            return grouped
        if not caught_up and rows[0].next_deadline < cutoff:
            # Oldest first: a deadline past the catch-up cutoff means no pass ran for a while, and then most due
            # jobs are long overdue. They go down in a few statements whatever their number; the batches below
            # take the rest (still within their grace, running too long).
            caught_up = True
            db.session.rollback()  # the batch read is not kept: the move chooses its jobs itself
            grouped = _move_down_and_page_grouped(now, cutoff, summary)
            continue
        seen.update(row.id for row in rows)
        _advance_batch(rows, now, summary)
        db.session.commit()
        if len(read) < BATCH:
            # A short batch took every due job this pass could hold: what it moved is down (not watched) or due
            # after `now`, and a job another scheduler held is that scheduler's. Reading again would find nothing.
            return grouped


def _move_down_and_page_grouped(now: datetime, cutoff: datetime, summary: Counter) -> bool:
    """The overdue jobs down, claimed for their grouped alerts by the same statement and paged, in one transaction:
    each job row is written once, and a crash leaves no job claimed without its alert. Whether they were grouped.

    Fewer claims than WATCHLIST_CATCHUP_MIN_JOBS, or paging that fails: all of it is rolled back and the jobs are
    only moved down (committed), so _raise_due_pages pages them one by one, or records the failure and retries.
    """
    base, paged = _catch_up_key(now), Counter()
    try:
        moved, claimed = overdue.move_overdue_down(now, cutoff, claim=base)
        claimed += catch_up.claim_all(base, cutoff)  # down and unpaged before this pass (seldom any)
        if len(claimed) >= int(current_app.config["WATCHLIST_CATCHUP_MIN_JOBS"]):
            _page_claimed(claimed, now, paged)  # counted apart: nothing is counted if the commit fails
            db.session.commit()
            summary.update(moved)
            summary.update(paged)
            return True
    except Exception:
        log.exception("the grouped catch-up failed; the overdue jobs go down and page on their own")
    db.session.rollback()
    moved, _claimed = overdue.move_overdue_down(now, cutoff)
    db.session.commit()
    summary.update(moved)
    return False


def _chain(row, now: datetime) -> list[tuple[datetime, str, str, str]]:
    """The changes due for a job read as `row`: [(moment, from, to, why)], each at its theoretical moment."""
    deadline = row.next_deadline
    if row.state == JobState.RUNNING:
        return [(deadline, row.state, JobState.DOWN.value, "too_slow")]
    if row.state == JobState.LATE:
        return [(deadline, row.state, JobState.DOWN.value, "missed")]
    missed_at = deadline + timedelta(seconds=row.grace_seconds)
    chain = [(deadline, row.state, JobState.LATE.value, "late")]
    if missed_at <= now:
        chain.append((missed_at, JobState.LATE.value, JobState.DOWN.value, "missed"))
    return chain


def _advance_batch(rows: list, now: datetime, summary: Counter) -> None:
    """Every transition due for `rows`, and the timeline lines of the jobs won, in set-based statements."""
    chains = {row.id: _chain(row, now) for row in rows}
    going_down, going_late, lines = [], [], []
    for row in rows:
        moment, _from, final, reason = chains[row.id][-1]
        if final == JobState.DOWN:
            going_down.append((row.id, row.state, row.next_deadline, moment, reason))
        else:
            going_late.append((row.id, row.state, row.next_deadline, moment,
                               moment + timedelta(seconds=row.grace_seconds)))
        lines += [{"job_id": row.id, "at": at, "kind": "state", "from_state": before, "to_state": after,
                   "text": f"{before} → {after}: {WHY[why]}"} for at, before, after, why in chains[row.id]]
    won = bulk.advance(going_down, going_late, lines)
    _count_lost(summary, len(rows) - len(won))  # a ping or another scheduler changed them first; it decides
    for row in rows:
        if row.id not in won:
            continue
        summary.update(after for _at, _before, after, _why in chains[row.id])
        if chains[row.id][-1][3] == "too_slow":
            _mark_runs_too_slow(row)


def _count_lost(summary: Counter, lost: int) -> None:
    if lost:
        summary["lost_race"] += lost


def _mark_runs_too_slow(row) -> None:
    started_before = row.next_deadline - timedelta(seconds=row.max_duration_seconds)
    db.session.execute(update(JobRun).where(
        JobRun.job_id == row.id, JobRun.ended_at.is_(None), JobRun.outcome == RunOutcome.RUNNING.value,
        JobRun.started_at <= started_before).values(outcome=RunOutcome.TOO_SLOW.value, too_slow=True)
        .execution_options(synchronize_session=False))


@cache
def _down_unpaged():
    """Jobs down whose page is due by `now` and not raised yet, oldest first (held against another scheduler)."""
    return select(Job.id, Job.next_deadline, Job.escalation_policy_id) \
        .where(Job.next_deadline <= bindparam("now"), _in_state(JobState.DOWN.value), Job.alert_key.is_(None)) \
        .order_by(Job.next_deadline, Job.id).with_for_update(skip_locked=True)


def _raise_due_pages(now: datetime, summary: Counter, grouped: bool = False) -> None:
    """The pages due; after a grouped catch-up (`grouped`), the catch-up pages left (jobs the batches took down,
    running too long) join its alerts whatever their number."""
    config = current_app.config
    cutoff = _catch_up_cutoff(now)
    rows = db.session.execute(_down_unpaged(), {"now": now}).all()
    catch_up = [row for row in rows if row.next_deadline < cutoff]
    fresh = [row for row in rows if row.next_deadline >= cutoff]
    if catch_up and (grouped or len(catch_up) >= int(config["WATCHLIST_CATCHUP_MIN_JOBS"])):
        _page_catch_up(catch_up, now, cutoff, summary)
    else:
        fresh = catch_up + fresh
    for row in fresh:
        _page_one(row, now, summary)


def _claim(row, now: datetime, claim_key: str):
    """Compare-and-set the page onto this pass; the job when won, None when a ping or another pass got there first."""
    won = db.session.execute(
        update(Job).where(Job.id == row.id, Job.state == JobState.DOWN.value, Job.alert_key.is_(None),
                          Job.next_deadline == row.next_deadline)
        .values(alert_key=claim_key).execution_options(synchronize_session=False)).rowcount == 1
    return db.session.get(Job, row.id, populate_existing=True) if won else None


def _hold_or_none(job: Job, now: datetime, summary: Counter) -> bool:
    job.alert_key = None
    if hold_for_maintenance(job, now):
        summary["held_by_maintenance"] += 1
        return True
    return False


def _page_one(row, now: datetime, summary: Counter) -> None:
    try:
        job = _claim(row, now, f"job:{row.id}")
        if job is None:
            summary["lost_race"] += 1
            db.session.rollback()
            return
        if not _hold_or_none(job, now, summary):
            page_job(job, now)
            summary["paged"] += 1
        db.session.commit()
    except Exception as error:  # the page must not vanish: say so on the job and retry next minute
        db.session.rollback()
        _record_page_failure([row], now, error)
        summary["page_failed"] += 1


def _page_catch_up(rows: list, now: datetime, cutoff: datetime, summary: Counter) -> None:
    try:
        won = catch_up.claim_all(_catch_up_key(now), cutoff)
        _count_lost(summary, len({row.id for row in rows} - {row.id for row in won}))
        _page_claimed(won, now, summary)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _record_page_failure(rows, now, error)
        summary["page_failed"] += len(rows)


def _page_claimed(claimed: list, now: datetime, summary: Counter) -> None:
    """One alert per group key of the `claimed` rows, but for the jobs a maintenance window holds."""
    held = _hold_jobs_in_maintenance({row.id for row in claimed}, now, summary)
    paged, opened = catch_up.page_groups([row for row in claimed if row.id not in held], now)
    if paged:
        summary["paged_in_group"] += paged
    if opened:
        summary["grouped_alerts"] += opened


def _hold_jobs_in_maintenance(ids: set[int], now: datetime, summary: Counter) -> set[int]:
    """The claimed jobs a maintenance window holds (only jobs that have windows are loaded to check)."""
    with_windows = ids & set(db.session.scalars(select(MaintenanceWindow.job_id).distinct()))
    held = set()
    for job in db.session.scalars(select(Job).where(Job.id.in_(with_windows))
                                  .execution_options(populate_existing=True)):
        claimed_key = job.alert_key
        if _hold_or_none(job, now, summary):
            held.add(job.id)
        else:
            job.alert_key = claimed_key  # no window open now: it pages with its group
    db.session.flush()
    return held


def _record_page_failure(rows: list, now: datetime, error: Exception) -> None:
    log.exception("paging failed for job(s) %s", [row.id for row in rows])
    for row in rows:
        won = db.session.execute(
            update(Job).where(Job.id == row.id, Job.state == JobState.DOWN.value, Job.alert_key.is_(None),
                              Job.next_deadline == row.next_deadline)
            .values(next_deadline=now + PAGE_RETRY).execution_options(synchronize_session=False)).rowcount == 1
        if won:
            record(db.session.get(Job, row.id), at=now, kind="page_failed",
                   text=f"Paging failed ({error.__class__.__name__}: {str(error)[:200]}); retrying in a minute.")
    db.session.commit()
