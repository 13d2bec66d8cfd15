"""Catch-up after downtime, set-based: every job that went down while no detection pass ran is moved to down,
with its timeline lines, by a fixed number of statements whatever their number (no row travels through Python).

A job is overdue when its deadline is older than the catch-up cutoff and its final state is already known:
an up job whose grace also ran out (late at its deadline, down at deadline + grace) or a late job past its
deadline (down then). The change is still compare-and-set: the rows are chosen by the statement that writes
them, from their current state. On PostgreSQL one statement locks them (SKIP LOCKED: another scheduler takes
the others), moves them and writes their lines; on SQLite (one writer at a time) the lines are inserted and the
jobs moved by statements with the same condition in one write transaction, which no ping can enter.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, text

from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow
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
_LINE_COLUMNS = "INSERT INTO watch_job_events (job_id, at, recorded_at, kind, from_state, to_state, text, detail) "

_PG_MOVE = f"""
WITH went AS (
  SELECT id, state AS was, next_deadline AS deadline, {_DOWN_AT['postgresql']} AS down_at FROM watch_jobs
  WHERE {_OVERDUE.format(down_at=_DOWN_AT['postgresql'])} FOR UPDATE SKIP LOCKED),
moved AS (
  UPDATE watch_jobs AS j SET state = 'down', state_changed_at = went.down_at, down_since = went.down_at,
         down_reason = 'missed', next_deadline = went.down_at, alert_key = NULL, due_at = NULL
  FROM went WHERE j.id = went.id RETURNING j.id, went.was, went.deadline, went.down_at),
lines AS (
  {_LINE_COLUMNS}
  SELECT id, deadline, :recorded, 'state', 'up', 'late', :late_text, '' FROM moved WHERE was = 'up'
  UNION ALL
  SELECT id, down_at, :recorded, 'state', 'late', 'down', :down_text, '' FROM moved
  RETURNING to_state)
SELECT to_state, count(*) FROM lines GROUP BY to_state"""

_SQLITE_CONDITION = _OVERDUE.format(down_at=_DOWN_AT["sqlite"])
_SQLITE_LATE_LINES = (f"{_LINE_COLUMNS} SELECT id, next_deadline, :recorded, 'state', 'up', 'late', :late_text, '' "
                      f"FROM watch_jobs WHERE {_SQLITE_CONDITION} AND state = 'up'")
_SQLITE_DOWN_LINES = (f"{_LINE_COLUMNS} SELECT id, {_DOWN_AT['sqlite']}, :recorded, 'state', 'late', 'down', "
                      f":down_text, '' FROM watch_jobs WHERE {_SQLITE_CONDITION}")
# SQLite evaluates every SET expression on the row as it was before the update.
_SQLITE_MOVE = (f"UPDATE watch_jobs SET state = 'down', state_changed_at = {_DOWN_AT['sqlite']}, "
                f"down_since = {_DOWN_AT['sqlite']}, down_reason = 'missed', next_deadline = {_DOWN_AT['sqlite']}, "
                f"alert_key = NULL, due_at = NULL WHERE {_SQLITE_CONDITION}")

_TIMES = ("now", "cutoff", "recorded")


def _statement(sql: str):
    return text(sql).bindparams(*(bindparam(name, type_=UTCDateTime()) for name in _TIMES if f":{name}" in sql))


def move_overdue_down(now: datetime, cutoff: datetime) -> dict[str, int]:
    """Every overdue job down at the moment it went down, with its lines; how many went late and down."""
    params = {"now": now, "cutoff": cutoff, "recorded": utcnow(),
              "late_text": f"up → late: {WHY['late']}", "down_text": f"late → down: {WHY['missed']}"}
    if db.session.get_bind().dialect.name == "postgresql":
        return {state: count for state, count in db.session.execute(_statement(_PG_MOVE), params)}
    late = db.session.execute(_statement(_SQLITE_LATE_LINES), params).rowcount
    down = db.session.execute(_statement(_SQLITE_DOWN_LINES), params).rowcount
    db.session.execute(_statement(_SQLITE_MOVE), params)
    return {state: count for state, count in (("late", late), ("down", down)) if count}
