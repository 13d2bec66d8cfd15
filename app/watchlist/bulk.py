"""Set-based writes of the detector: many jobs changed by one statement, their timeline lines by one multi-row
insert.

Each change stays compare-and-set per job: the UPDATE touches a job only when its state and deadline are still
the ones read. On PostgreSQL a batch is one UPDATE joined to arrays of what was read (unnest), whose RETURNING
names the jobs won; the detector also read them FOR UPDATE SKIP LOCKED, so another scheduler skips them. On
SQLite (one scheduler) a batch is one executemany, and a ping can land between the read and the write: when
fewer rows were touched than asked, the jobs are read back and the pass won those now holding exactly what it
wrote (a ping writes another deadline).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, text, update

from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.models import Job, JobEvent, JobState

JOBS, EVENTS = Job.__table__, JobEvent.__table__
_COMPARED = (JOBS.c.id == bindparam("b_id"), JOBS.c.state == bindparam("b_state"),
             JOBS.c.next_deadline == bindparam("b_deadline"))
MARK_DOWN = update(JOBS).where(*_COMPARED).values(
    state=JobState.DOWN.value, state_changed_at=bindparam("b_moment"), down_since=bindparam("b_moment"),
    down_reason=bindparam("b_reason"), next_deadline=bindparam("b_moment"), alert_key=None, due_at=None)
MARK_LATE = update(JOBS).where(*_COMPARED).values(
    state=JobState.LATE.value, state_changed_at=bindparam("b_moment"), next_deadline=bindparam("b_next"))


# PostgreSQL: each batch is ONE statement over arrays (unnest), and RETURNING names the jobs it won. The
# "id = ANY(ids)" lets the planner find the jobs by primary key whatever it guesses of the unnest's size.
PG_MARK_DOWN = text("""
UPDATE watch_jobs AS j SET state = 'down', state_changed_at = v.moment, down_since = v.moment, down_reason = v.reason,
       next_deadline = v.moment, alert_key = NULL, due_at = NULL
FROM unnest(CAST(:b_id AS integer[]), CAST(:b_state AS text[]), CAST(:b_deadline AS timestamptz[]),
            CAST(:b_moment AS timestamptz[]), CAST(:b_reason AS text[])) AS v(id, old_state, old_deadline, moment, reason)
WHERE j.id = ANY(CAST(:b_id AS integer[])) AND j.id = v.id AND j.state = v.old_state
  AND j.next_deadline = v.old_deadline RETURNING j.id""")
PG_MARK_LATE = text("""
UPDATE watch_jobs AS j SET state = 'late', state_changed_at = v.moment, next_deadline = v.next
FROM unnest(CAST(:b_id AS integer[]), CAST(:b_state AS text[]), CAST(:b_deadline AS timestamptz[]),
            CAST(:b_moment AS timestamptz[]), CAST(:b_next AS timestamptz[])) AS v(id, old_state, old_deadline, moment, next)
WHERE j.id = ANY(CAST(:b_id AS integer[])) AND j.id = v.id AND j.state = v.old_state
  AND j.next_deadline = v.old_deadline RETURNING j.id""")
PG_STATEMENTS = {id(MARK_DOWN): PG_MARK_DOWN, id(MARK_LATE): PG_MARK_LATE}


def _apply(statement, params: list[dict], wrote: dict[int, tuple], columns: tuple) -> set[int]:
    """Run `statement` for every parameter set; the ids whose `columns` now hold what was written (`wrote[id]`)."""
    if not params:
        return set()
    if db.session.get_bind().dialect.name == "postgresql":
        arrays = {name: [row[name] for row in params] for name in params[0]}
        return set(db.session.execute(PG_STATEMENTS[id(statement)], arrays).scalars())
    touched = db.session.execute(statement, params).rowcount
    if touched == len(params):
        return set(wrote)
    rows = db.session.execute(select(JOBS.c.id, *columns).where(JOBS.c.id.in_(list(wrote))))
    return {row[0] for row in rows if tuple(row[1:]) == wrote[row[0]]}


def mark_down(changes: list[tuple[int, str, datetime, datetime, str]]) -> set[int]:
    """[(id, state read, deadline read, moment, reason)] -> down since `moment`, page due; the ids won."""
    params = [{"b_id": i, "b_state": s, "b_deadline": d, "b_moment": m, "b_reason": r} for i, s, d, m, r in changes]
    return _apply(MARK_DOWN, params, {i: (JobState.DOWN.value, m, m) for i, _s, _d, m, _r in changes},
                  (JOBS.c.state, JOBS.c.down_since, JOBS.c.next_deadline))


def mark_late(changes: list[tuple[int, str, datetime, datetime, datetime]]) -> set[int]:
    """[(id, state read, deadline read, moment, next deadline)] -> late since `moment`; the ids won."""
    params = [{"b_id": i, "b_state": s, "b_deadline": d, "b_moment": m, "b_next": n} for i, s, d, m, n in changes]
    return _apply(MARK_LATE, params, {i: (JobState.LATE.value, m, n) for i, _s, _d, m, n in changes},
                  (JOBS.c.state, JOBS.c.state_changed_at, JOBS.c.next_deadline))


def record_many(events: list[dict]) -> None:
    """Timeline lines ({job_id, at, kind, text, from_state?, to_state?}) in one multi-row insert."""
    if not events:
        return
    recorded = utcnow()
    db.session.execute(insert(EVENTS), [
        {"job_id": e["job_id"], "at": e["at"], "recorded_at": recorded, "kind": e["kind"], "text": e["text"][:500],
         "detail": "", "from_state": e.get("from_state"), "to_state": e.get("to_state")} for e in events])
