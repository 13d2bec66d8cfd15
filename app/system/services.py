"""Health of the running system: database reachable, scheduler alive."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.system.models import SchedulerHeartbeat
from app.timeutil import utcnow

SCHEDULER_NAME = "scheduler"


_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def record_heartbeat(name: str = SCHEDULER_NAME) -> SchedulerHeartbeat:
    """Record that the scheduler process `name` is alive now.

    One upsert, not read-then-insert: two schedulers starting together (PostgreSQL) both found no row, and the
    second insert failed on the first one's key."""
    values = {"beat_at": utcnow(), "host": socket.gethostname()[:255], "pid": os.getpid()}
    upsert = _UPSERTS[db.session.get_bind().dialect.name](SchedulerHeartbeat).values(name=name, **values)
    db.session.execute(upsert.on_conflict_do_update(index_elements=[SchedulerHeartbeat.name],
                                                    set_={key: upsert.excluded[key] for key in values}))
    db.session.commit()
    return db.session.get(SchedulerHeartbeat, name, populate_existing=True)


@dataclass(frozen=True)
class Health:
    database_ok: bool
    scheduler_age_seconds: float | None
    scheduler_max_age_seconds: int
    database_error: str | None = None

    @property
    def scheduler_ok(self) -> bool:
        return self.scheduler_age_seconds is not None and self.scheduler_age_seconds <= self.scheduler_max_age_seconds

    @property
    def healthy(self) -> bool:
        return self.database_ok and self.scheduler_ok


def check_health() -> Health:
    """Probe the database and read the freshest scheduler heartbeat; never raises."""
    max_age = int(current_app.config["HEALTH_MAX_HEARTBEAT_AGE"])
    try:
        db.session.execute(text("SELECT 1"))
        last_beat = db.session.scalar(
            select(SchedulerHeartbeat.beat_at).order_by(SchedulerHeartbeat.beat_at.desc()).limit(1))
    except SQLAlchemyError as error:
        db.session.rollback()
        return Health(False, None, max_age, database_error=error.__class__.__name__)
    age = None if last_beat is None else max((utcnow() - last_beat).total_seconds(), 0.0)
    return Health(True, age, max_age)
