"""The critical job watch list: applications, their batch jobs, each job's runs, timeline and maintenance windows.

A job's detection state lives on its row: `state`, the slot it is expected at (`due_at`) and `next_deadline`, the
instant the detector must look at it again. Pings rewrite both; the detector reads only jobs whose deadline has
passed (one indexed range query), so a pass costs the same with ten jobs or ten thousand.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String, Text,
                        Time, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import Audited
from app.auth.models import User
from app.database import UTCDateTime
from app.extensions import db
from app.oncall.models import EscalationPolicy
from app.timeutil import utcnow

CRITICALITIES = ("critical", "high", "medium", "low")
LOG_MAX = 10_240  # the first 10 kB of a ping's body is kept


class JobState(enum.StrEnum):
    NEW = "new"  # never pinged: not watched until its first ping
    UP = "up"
    RUNNING = "running"
    LATE = "late"  # past its slot, within the grace period
    DOWN = "down"  # missed, failed or too slow
    PAUSED = "paused"


STATES = tuple(state.value for state in JobState)


class ScheduleKind(enum.StrEnum):
    INTERVAL = "interval"
    CRON = "cron"


class RunOutcome(enum.StrEnum):
    RUNNING = "running"  # started, no end yet
    SUCCESS = "success"
    FAILED = "failed"
    TOO_SLOW = "too_slow"  # still had no end when its maximum duration ran out
    ABANDONED = "abandoned"  # a start without a run id that a later start or end replaced


class WatchedApp(Audited, db.Model):
    """An application whose batch jobs the crisis team watches."""

    __tablename__ = "watch_apps"
    __table_args__ = (CheckConstraint(f"criticality IN {CRITICALITIES!r}", name="criticality"),
                      CheckConstraint("rto_minutes IS NULL OR rto_minutes >= 0", name="rto"),
                      CheckConstraint("rpo_minutes IS NULL OR rpo_minutes >= 0", name="rpo"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    criticality: Mapped[str] = mapped_column(String(8), default="high")
    rto_minutes: Mapped[int | None] = mapped_column(Integer)
    rpo_minutes: Mapped[int | None] = mapped_column(Integer)
    runbook_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User | None] = relationship()
    jobs: Mapped[list[Job]] = relationship(back_populates="app", order_by="Job.name", passive_deletes=True)


class Job(Audited, db.Model):
    """A batch job that pings Quarterdeck; the detector pages its policy when it is late, fails or runs too long."""

    __tablename__ = "watch_jobs"
    __table_args__ = (
        UniqueConstraint("app_id", "name"),
        Index("ix_watch_jobs_state", "state"),  # the watch list's state filter
        Index("ix_watch_jobs_next_deadline", "next_deadline"),
        # Partial: the detector's "alert_key IS NULL" must not pick this index over next_deadline's.
        Index("ix_watch_jobs_alert_key", "alert_key", sqlite_where=text("alert_key IS NOT NULL"),
              postgresql_where=text("alert_key IS NOT NULL")),
        CheckConstraint(f"criticality IN {CRITICALITIES!r}", name="criticality"),
        CheckConstraint(f"state IN {STATES!r}", name="state"),
        CheckConstraint("(schedule_kind = 'interval' AND interval_seconds >= 60 AND cron_expr IS NULL) OR "
                        "(schedule_kind = 'cron' AND cron_expr IS NOT NULL AND interval_seconds IS NULL)",
                        name="schedule"),
        CheckConstraint("grace_seconds >= 0", name="grace"),
        CheckConstraint("max_duration_seconds >= 60", name="max_duration"),
        CheckConstraint("min_duration_seconds IS NULL OR "
                        "(min_duration_seconds >= 0 AND min_duration_seconds < max_duration_seconds)",
                        name="min_duration"),
        CheckConstraint("failures_before_paging >= 1 AND failures_before_paging <= 20", name="failures"),
    )
    # Detection bookkeeping changes on every ping: the audit trail keeps what people edit, not that.
    __audit_ignore__ = frozenset({"state", "state_changed_at", "due_at", "next_deadline", "last_ping_at",
                                  "down_since", "alert_key", "consecutive_failures", "last_run_id"})
    __audit_exclude__ = frozenset({"ping_key", "badge_key"})

    id: Mapped[int] = mapped_column(primary_key=True)
    # Served by the unique (app_id, name) index: one index fewer to write when many jobs change at once.
    app_id: Mapped[int] = mapped_column(ForeignKey("watch_apps.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    criticality: Mapped[str] = mapped_column(String(8), default="high")
    escalation_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL"), index=True)
    schedule_kind: Mapped[str] = mapped_column(String(8), default=ScheduleKind.INTERVAL.value)
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    cron_expr: Mapped[str | None] = mapped_column(String(120))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    grace_seconds: Mapped[int] = mapped_column(Integer, default=900)
    max_duration_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    min_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    failures_before_paging: Mapped[int] = mapped_column(SmallInteger, default=1)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # The secret in the ping URL; the badge has its own key so a wiki page never reveals the ping URL.
    ping_key: Mapped[str] = mapped_column(String(36), unique=True)
    badge_key: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    state: Mapped[str] = mapped_column(String(8), default=JobState.NEW.value)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the slot the next run is expected at
    next_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the detector acts next
    last_ping_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    down_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    down_reason: Mapped[str | None] = mapped_column(String(16))  # missed | failed | too_slow
    # The dedup key of the alert that paged about this outage ("job:7" or a grouped catch-up key); NULL while
    # down means the page is still to be raised (held by a maintenance window, or not raised yet).
    alert_key: Mapped[str | None] = mapped_column(String(200))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_run_id: Mapped[int | None] = mapped_column(Integer)

    app: Mapped[WatchedApp] = relationship(back_populates="jobs")
    owner: Mapped[User | None] = relationship()
    escalation_policy: Mapped[EscalationPolicy | None] = relationship()
    windows: Mapped[list[MaintenanceWindow]] = relationship(
        back_populates="job", order_by="MaintenanceWindow.id", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def dedup_key(self) -> str:
        return f"job:{self.id}"

    def audit_label(self) -> str:
        return self.name


class JobRun(db.Model):
    """One run of a job: a start and its end paired by run id (or by order), with outcome and log excerpt."""

    __tablename__ = "watch_job_runs"
    __table_args__ = (
        Index("ix_watch_job_runs_job_id_id", "job_id", "id"),
        Index("ix_watch_job_runs_job_open", "job_id", "ended_at", "outcome"),
        Index("ix_watch_job_runs_ended_at", "ended_at"),  # the top-jobs page reads the last 30 days of all jobs
        CheckConstraint("exit_code IS NULL OR (exit_code >= 0 AND exit_code <= 255)", name="exit_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("watch_jobs.id", ondelete="CASCADE"))
    rid: Mapped[str | None] = mapped_column(String(36))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(10), default=RunOutcome.RUNNING.value)
    exit_code: Mapped[int | None] = mapped_column(SmallInteger)
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # it answered a slot after the slot had passed
    too_slow: Mapped[bool] = mapped_column(Boolean, default=False)  # longer than the maximum duration
    too_fast: Mapped[bool] = mapped_column(Boolean, default=False)  # shorter than the minimum duration
    log: Mapped[str] = mapped_column(Text, default="")


class JobRunDay(db.Model):
    """A job's runs of one UTC day, rolled up once they are older than WATCHLIST_RUN_RETENTION_DAYS."""

    __tablename__ = "watch_job_run_days"
    __table_args__ = (UniqueConstraint("job_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("watch_jobs.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # failed or too slow
    late: Mapped[int] = mapped_column(Integer, default=0)
    timed: Mapped[int] = mapped_column(Integer, default=0)  # runs with a duration (a start and an end)
    duration_total_seconds: Mapped[float] = mapped_column(default=0.0)
    duration_max_seconds: Mapped[float | None] = mapped_column()


class JobEvent(db.Model):
    """A line of a job's timeline: a state change at the moment it theoretically happened, a page, a log ping."""

    __tablename__ = "watch_job_events"
    __table_args__ = (Index("ix_watch_job_events_job_at", "job_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("watch_jobs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it happened (a deadline, not when it was noticed)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # state | paged | resolved | held | page_failed | log | flag
    from_state: Mapped[str | None] = mapped_column(String(8))
    to_state: Mapped[str | None] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(500), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class WindowKind(enum.StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"
    FREEZE = "freeze"  # every quarter's close: business days BD<bd_start> to BD<bd_end> in the close region


class MaintenanceWindow(Audited, db.Model):
    """A time when a job's gaps and failures do not page: once (two instants), weekly (a local time range) or
    each quarter's close freeze (business-day offsets from BD0, whole local days of the close region)."""

    __tablename__ = "watch_maintenance_windows"
    __table_args__ = (
        CheckConstraint("(kind = 'once' AND starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at > starts_at)"
                        " OR (kind = 'weekly' AND weekday >= 0 AND weekday <= 6 AND start_time IS NOT NULL"
                        " AND end_time IS NOT NULL)"
                        " OR (kind = 'freeze' AND bd_start IS NOT NULL AND bd_end IS NOT NULL AND bd_end >= bd_start"
                        " AND bd_start >= -60 AND bd_end <= 60)", name="shape"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("watch_jobs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    weekday: Mapped[int | None] = mapped_column(SmallInteger)  # 0 = Monday
    # Wall-clock times in `time_zone`; an end at or before the start ends the next day.
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    bd_start: Mapped[int | None] = mapped_column(SmallInteger)  # freeze: first business day, e.g. -2 for BD-2
    bd_end: Mapped[int | None] = mapped_column(SmallInteger)  # freeze: last business day, e.g. 3 for BD+3
    note: Mapped[str] = mapped_column(String(200), default="")

    job: Mapped[Job] = relationship(back_populates="windows")

    def audit_label(self) -> str:
        return f"maintenance window #{self.id}"
