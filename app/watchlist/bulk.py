"""Set-based writes of the detector: a batch of jobs moved on, and the timeline lines of those it won, at once.

Each change stays compare-and-set per job: the UPDATE touches a job only when its state and deadline are still
the ones read, and only the jobs it touched get their lines.

- PostgreSQL: the whole batch is ONE statement. Its two UPDATEs (down, late) join the rows read, sent as JSON
  documents, and RETURN the jobs they won; the INSERT of the lines takes only those. The detector read the jobs FOR
  UPDATE SKIP LOCKED, so another scheduler skips them.
- SQLite (one scheduler): each UPDATE is one executemany, and a ping can land between the read and the write: when
  fewer rows were touched than asked, the jobs are read back and the pass won those now holding exactly what it
  wrote (a ping writes another deadline). Then one multi-row insert of the lines.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, insert, select, text, update

from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.models import Job, JobEvent, JobState

JOBS, EVENTS = Job.__table__, JobEvent.__table__
_INSTANT = UTCDateTime()
Down = tuple[int, str, datetime, datetime, str]  # (id, state read, deadline read, moment, reason)
Late = tuple[int, str, datetime, datetime, datetime]  # (id, state read, deadline read, moment, next deadline)

_COMPARED = (JOBS.c.id == bindparam("b_id"), JOBS.c.state == bindparam("b_state"),
             JOBS.c.next_deadline == bindparam("b_deadline"))
MARK_DOWN = update(JOBS).where(*_COMPARED).values(
    state=JobState.DOWN.value, state_changed_at=bindparam("b_moment"), down_since=bindparam("b_moment"),
    down_reason=bindparam("b_reason"), next_deadline=bindparam("b_moment"), alert_key=None, due_at=None)
MARK_LATE = update(JOBS).where(*_COMPARED).values(
    state=JobState.LATE.value, state_changed_at=bindparam("b_moment"), next_deadline=bindparam("b_next"))

# JSON rather than one array parameter per column: psycopg builds array literals element by element in Python,
# which took more CPU than the rest of a 100-job pass together; json.dumps is done in C. Down jobs' page is due
# at the moment they went down; alert_key stays empty until it is raised.
_READ = "id integer, old_state text, old_deadline timestamptz, moment timestamptz"
PG_ADVANCE = text(f"""
WITH down AS (
    UPDATE watch_jobs AS j SET state = 'down', state_changed_at = v.moment, down_since = v.moment,
           down_reason = v.reason, next_deadline = v.moment, alert_key = NULL, due_at = NULL
    FROM jsonb_to_recordset(CAST(:down AS jsonb)) AS v({_READ}, reason text)
    WHERE j.id = v.id AND j.state = v.old_state AND j.next_deadline = v.old_deadline RETURNING j.id
), late AS (
    UPDATE watch_jobs AS j SET state = 'late', state_changed_at = v.moment, next_deadline = v.next
    FROM jsonb_to_recordset(CAST(:late AS jsonb)) AS v({_READ}, next timestamptz)
    WHERE j.id = v.id AND j.state = v.old_state AND j.next_deadline = v.old_deadline RETURNING j.id
), won AS (
    SELECT id FROM down UNION ALL SELECT id FROM late
), lines AS (
    INSERT INTO watch_job_events (job_id, at, recorded_at, kind, text, detail, from_state, to_state)
    SELECT e.job_id, e.at, CAST(:recorded_at AS timestamptz), e.kind, e.text, '', e.from_state, e.to_state
    FROM jsonb_to_recordset(CAST(:lines AS jsonb))
         AS e(job_id integer, at timestamptz, kind text, text text, from_state text, to_state text)
    WHERE e.job_id IN (SELECT id FROM won)
)
SELECT id FROM won""")


def advance(going_down: list[Down], going_late: list[Late], lines: list[dict]) -> set[int]:
    """Move the jobs read on (down, late) and record `lines` ({job_id, at, kind, text, from_state?, to_state?}) of
    the jobs won; returns the ids won."""
    if not going_down and not going_late:
        return set()
    if db.session.get_bind().dialect.name == "postgresql":
        return set(db.session.execute(PG_ADVANCE, {
            "down": _json([{"id": i, "old_state": s, "old_deadline": d, "moment": m, "reason": r}
                           for i, s, d, m, r in going_down]),
            "late": _json([{"id": i, "old_state": s, "old_deadline": d, "moment": m, "next": n}
                           for i, s, d, m, n in going_late]),
            "lines": _json([_line(e) for e in lines]), "recorded_at": utcnow()}).scalars())
    won = _mark_down(going_down) | _mark_late(going_late)
    _record([{**_line(e), "recorded_at": utcnow(), "detail": ""} for e in lines if e["job_id"] in won])
    return won


def _line(event: dict) -> dict:
    return {"job_id": event["job_id"], "at": event["at"], "kind": event["kind"], "text": event["text"][:500],
            "from_state": event.get("from_state"), "to_state": event.get("to_state")}


def _json_value(value):
    """Instants as ISO 8601 in UTC, by the rule every instant column binds with (UTCDateTime: naive is refused)."""
    if isinstance(value, datetime):
        return _INSTANT.process_bind_param(value, db.session.get_bind().dialect).isoformat()
    raise TypeError(f"{type(value).__name__} is not a detector value")


def _json(rows: list[dict]) -> str:
    return json.dumps(rows, default=_json_value, ensure_ascii=False)


def _apply(statement, params: list[dict], wrote: dict[int, tuple], columns: tuple) -> set[int]:
    """SQLite: run `statement` for every parameter set; the ids whose `columns` now hold what was written."""
    if not params:
        return set()
    touched = db.session.execute(statement, params).rowcount
    if touched == len(params):
        return set(wrote)
    rows = db.session.execute(select(JOBS.c.id, *columns).where(JOBS.c.id.in_(list(wrote))))
    return {row[0] for row in rows if tuple(row[1:]) == wrote[row[0]]}


def _mark_down(changes: list[Down]) -> set[int]:
    params = [{"b_id": i, "b_state": s, "b_deadline": d, "b_moment": m, "b_reason": r} for i, s, d, m, r in changes]
    return _apply(MARK_DOWN, params, {i: (JobState.DOWN.value, m, m) for i, _s, _d, m, _r in changes},
                  (JOBS.c.state, JOBS.c.down_since, JOBS.c.next_deadline))


def _mark_late(changes: list[Late]) -> set[int]:
    params = [{"b_id": i, "b_state": s, "b_deadline": d, "b_moment": m, "b_next": n} for i, s, d, m, n in changes]
    return _apply(MARK_LATE, params, {i: (JobState.LATE.value, m, n) for i, _s, _d, m, n in changes},
                  (JOBS.c.state, JOBS.c.state_changed_at, JOBS.c.next_deadline))


def _record(rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(EVENTS), rows)
