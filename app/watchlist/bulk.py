"""Set-based writes of the detector: many jobs changed by one statement, their timeline lines by one insert.

Each change stays compare-and-set per job: the UPDATE joins a VALUES list of (id, state read, deadline read, ...)
and touches a job only when its state and deadline are still the ones read; RETURNING says which jobs this pass
won. A ping or another scheduler that changed a job first is simply not in the answer.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, column, insert, update, values

from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.models import Job, JobEvent, JobState

JOBS, EVENTS = Job.__table__, JobEvent.__table__


def _rows(name: str, columns: list, data: list[tuple]):
    # A CTE, not "(VALUES ...) AS name (columns)": SQLite knows no column list on a FROM alias.
    return values(*columns, name=name).data(data).cte(name)


def mark_down(changes: list[tuple[int, str, datetime, datetime, str]]) -> set[int]:
    """[(id, state read, deadline read, moment, reason)] -> down since `moment`, page due; the ids won."""
    if not changes:
        return set()
    due = _rows("due", [column("id", Integer), column("old_state", String), column("old_deadline", UTCDateTime()),
                        column("moment", UTCDateTime()), column("reason", String)], changes)
    statement = update(JOBS).where(JOBS.c.id == due.c.id, JOBS.c.state == due.c.old_state,
                                   JOBS.c.next_deadline == due.c.old_deadline).values(
        state=JobState.DOWN.value, state_changed_at=due.c.moment, down_since=due.c.moment, down_reason=due.c.reason,
        next_deadline=due.c.moment, alert_key=None, due_at=None).returning(JOBS.c.id)
    return set(db.session.execute(statement).scalars())


def mark_late(changes: list[tuple[int, str, datetime, datetime, datetime]]) -> set[int]:
    """[(id, state read, deadline read, moment, next deadline)] -> late since `moment`; the ids won."""
    if not changes:
        return set()
    due = _rows("due", [column("id", Integer), column("old_state", String), column("old_deadline", UTCDateTime()),
                        column("moment", UTCDateTime()), column("deadline", UTCDateTime())], changes)
    statement = update(JOBS).where(JOBS.c.id == due.c.id, JOBS.c.state == due.c.old_state,
                                   JOBS.c.next_deadline == due.c.old_deadline).values(
        state=JobState.LATE.value, state_changed_at=due.c.moment, next_deadline=due.c.deadline).returning(JOBS.c.id)
    return set(db.session.execute(statement).scalars())


def claim_pages(claims: list[tuple[int, datetime, str]]) -> set[int]:
    """[(id, deadline read, alert key)] -> each down job still unpaged at that deadline takes its key; the ids won."""
    if not claims:
        return set()
    due = _rows("due", [column("id", Integer), column("old_deadline", UTCDateTime()), column("key", String)], claims)
    statement = update(JOBS).where(JOBS.c.id == due.c.id, JOBS.c.state == JobState.DOWN.value,
                                   JOBS.c.alert_key.is_(None), JOBS.c.next_deadline == due.c.old_deadline) \
        .values(alert_key=due.c.key).returning(JOBS.c.id)
    return set(db.session.execute(statement).scalars())


def record_many(events: list[dict]) -> None:
    """Timeline lines ({job_id, at, kind, text, from_state?, to_state?}) in one multi-row insert."""
    if not events:
        return
    recorded = utcnow()
    db.session.execute(insert(EVENTS), [
        {"job_id": e["job_id"], "at": e["at"], "recorded_at": recorded, "kind": e["kind"], "text": e["text"][:500],
         "detail": "", "from_state": e.get("from_state"), "to_state": e.get("to_state")} for e in events])
