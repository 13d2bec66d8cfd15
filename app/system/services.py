"""Health of the running system: database reachable, scheduler alive."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.system.models import SchedulerHeartbeat
from app.timeutil import utcnow

SCHEDULER_NAME = "scheduler"


def record_heartbeat(name: str = SCHEDULER_NAME) -> SchedulerHeartbeat:
    """Record that the scheduler process `name` is alive now."""
    beat = db.session.get(SchedulerHeartbeat, name)
    if beat is None:
        beat = SchedulerHeartbeat(name=name)
        db.session.add(beat)
    beat.beat_at, beat.host, beat.pid = utcnow(), socket.gethostname()[:255], os.getpid()
    db.session.commit()
    return beat


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
