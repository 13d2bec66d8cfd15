"""Catch-up after downtime, set-based: every job that went down while no detection pass ran is moved to down,
with its timeline lines, by a fixed number of statements whatever their number (no row travels through Python).

A job is overdue when its deadline is older than the catch-up cutoff and its final state is already known:
an up job whose grace also ran out (late at its deadline, down at deadline + grace) or a late job past its
deadline (down then). The change is still compare-and-set: the rows are chosen by the statement that writes
them, from their current state. On PostgreSQL one statement locks them (SKIP LOCKED: another scheduler takes
the others), moves them and writes their lines; on SQLite (one writer at a time) the lines are inserted and the
jobs moved by statements with the same condition in one write transaction, which no ping can enter.

Given a claim key, the same UPDATE also claims the jobs that went down before the cutoff for their grouped page
(alert key set, deadline cleared, as catch_up.claim_all would) and returns what the alert lists: each job row is
written once on the catch-up path instead of twice (moved, then claimed). Without one the jobs are left unpaged.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, bindparam, column, text

from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.catch_up import POLICY_SUFFIX
from app.watchlist.models import Job
from app.watchlist.states import WHY

# When the job went down: its deadline when late, its deadline plus its grace when still up.
_DOWN_AT = {
    "postgresql": "CASE WHEN state = 'up' THEN next_deadline + make_interval(secs => grace_seconds) "
                  "ELSE next_deadline END",
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff': add the whole seconds, keep the microseconds as they were.
    "sqlite": "CASE WHEN state = 'up' THEN strftime('%Y-%m-%d %H:%M:%S', next_deadline, "
              "'+' || grace_seconds || ' seconds') || substr(next_deadline, 20) ELSE next_deadline END",
}
_OVERDUE = "next_deadline < :cutoff AND state IN ('up', 'late') AND {down_at} <= :now"
# The claim (catch_up.claim_all's key: the pass's, and the policy when the job has one) of a job that went down before
# the cutoff, when the pass groups its pages (:claim given); the others keep their deadline and page on their own.
_CLAIMED = "CAST(:claim AS varchar(200)) IS NOT NULL AND {down_at} < :cutoff"
_CLAIM_SET = ("alert_key = CASE WHEN {claimed} THEN CAST(:claim AS varchar(200)) "
              "|| coalesce(CAST(:policy_suffix AS varchar(20)) || CAST({job}escalation_policy_id AS varchar(20)), '') END, "
              "next_deadline = CASE WHEN {claimed} THEN NULL ELSE {down_at} END")
_RETURNED = "{job}id, {job}app_id, {job}name, {job}criticality, {job}down_since, {job}down_reason, " \
            "{job}escalation_policy_id, {job}alert_key"
_LINE_COLUMNS = "INSERT INTO watch_job_events (job_id, at, recorded_at, kind, from_state, to_state, text, detail) "

_PG_MOVE = f"""
WITH went AS (
  SELECT id, state AS was, next_deadline AS deadline, {_DOWN_AT['postgresql']} AS down_at FROM watch_jobs
  WHERE {_OVERDUE.format(down_at=_DOWN_AT['postgresql'])} FOR UPDATE SKIP LOCKED),
moved AS (
  UPDATE watch_jobs AS j SET state = 'down', state_changed_at = went.down_at, down_since = went.down_at,
         down_reason = 'missed', due_at = NULL,
         {_CLAIM_SET.format(claimed=_CLAIMED.format(down_at="went.down_at"), job="j.", down_at="went.down_at")}
  FROM went WHERE j.id = went.id
  RETURNING {_RETURNED.format(job="j.")}, went.was, went.deadline, went.down_at),
lines AS (
  {_LINE_COLUMNS}
  SELECT id, deadline, :recorded, 'state', 'up', 'late', :late_text, '' FROM moved WHERE was = 'up'
  UNION ALL
  SELECT id, down_at, :recorded, 'state', 'late', 'down', :down_text, '' FROM moved
  RETURNING job_id)
SELECT {_RETURNED.format(job="")}, was FROM moved"""

_SQLITE_CONDITION = _OVERDUE.format(down_at=_DOWN_AT["sqlite"])
_SQLITE_LATE_LINES = (f"{_LINE_COLUMNS} SELECT id, next_deadline, :recorded, 'state', 'up', 'late', :late_text, '' "
                      f"FROM watch_jobs WHERE {_SQLITE_CONDITION} AND state = 'up'")
_SQLITE_DOWN_LINES = (f"{_LINE_COLUMNS} SELECT id, {_DOWN_AT['sqlite']}, :recorded, 'state', 'late', 'down', "
                      f":down_text, '' FROM watch_jobs WHERE {_SQLITE_CONDITION}")
# SQLite evaluates every SET expression on the row as it was before the update.
_SQLITE_MOVE = (f"UPDATE watch_jobs SET state = 'down', state_changed_at = {_DOWN_AT['sqlite']}, "
                f"down_since = {_DOWN_AT['sqlite']}, down_reason = 'missed', due_at = NULL, "
                + _CLAIM_SET.format(claimed=_CLAIMED.format(down_at=_DOWN_AT["sqlite"]), job="",
                                    down_at=_DOWN_AT["sqlite"])
                + f" WHERE {_SQLITE_CONDITION} RETURNING {_RETURNED.format(job='')}")
# Typed like catch_up.claim_all's rows (aware datetimes on SQLite too).
_RETURNED_COLUMNS = (Job.id, Job.app_id, Job.name, Job.criticality, Job.down_since, Job.down_reason,
                     Job.escalation_policy_id, Job.alert_key)

_TIMES = ("now", "cutoff", "recorded")


def _statement(sql: str):
    return text(sql).bindparams(*(bindparam(name, type_=UTCDateTime()) for name in _TIMES if f":{name}" in sql))


def move_overdue_down(now: datetime, cutoff: datetime, claim: str | None = None) -> tuple[dict[str, int], list]:
    """Every overdue job down at the moment it went down, with its lines: (how many went late and down, the rows
    claimed for the grouped page under `claim`, as catch_up.claim_all returns them; none without `claim`)."""
    params = {"now": now, "cutoff": cutoff, "recorded": utcnow(), "claim": claim, "policy_suffix": POLICY_SUFFIX,
              "late_text": f"up → late: {WHY['late']}", "down_text": f"late → down: {WHY['missed']}"}
    if db.session.get_bind().dialect.name == "postgresql":
        moved = db.session.execute(_statement(_PG_MOVE).columns(*_RETURNED_COLUMNS, column("was", String)),
                                   params).all()
        late, down = sum(row.was == "up" for row in moved), len(moved)
    else:
        late = db.session.execute(_statement(_SQLITE_LATE_LINES), params).rowcount
        down = db.session.execute(_statement(_SQLITE_DOWN_LINES), params).rowcount
        moved = db.session.execute(_statement(_SQLITE_MOVE).columns(*_RETURNED_COLUMNS), params).all()
    counts = {state: count for state, count in (("late", late), ("down", down)) if count}
    return counts, [row for row in moved if row.alert_key is not None]
