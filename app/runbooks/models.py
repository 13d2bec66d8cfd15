"""The runbook index and what people did with each runbook: reviews, runs with their steps, acknowledgements.

The Markdown files in RUNBOOKS_DIR are the only source of a runbook's text; a `Runbook` row is the index entry
of one file (where it is, its content hash, its parsed front matter and whether it is valid). Reviews, runs and
acknowledgements each carry the content hash of the version they were about.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow


class ReviewOutcome(enum.StrEnum):
    REVIEWED = "reviewed"
    CHANGES_REQUESTED = "changes_requested"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return {"reviewed": "Reviewed", "changes_requested": "Changes requested", "retired": "Retired"}[self.value]


class RunOutcome(enum.StrEnum):
    WORKED = "worked"
    DEVIATIONS = "deviations"  # worked, but only after doing something the runbook does not say
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"worked": "Worked", "deviations": "Worked with deviations", "failed": "Failed"}[self.value]


class StepOutcome(enum.StrEnum):
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Runbook(db.Model):
    """One Markdown file of RUNBOOKS_DIR as last indexed. `removed_at` is set when its file disappears; the row
    (and its history) stays, and comes back to life if the file does."""

    __tablename__ = "runbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    path: Mapped[str] = mapped_column(String(500), unique=True)  # relative to RUNBOOKS_DIR, "/" separated
    title: Mapped[str] = mapped_column(String(200), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")  # sha256 of the file's bytes
    file_mtime_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    file_size: Mapped[int] = mapped_column(BigInteger, default=0)
    front_matter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
    invalid_reason: Mapped[str] = mapped_column(String(500), default="")
    invalid_line: Mapped[int | None] = mapped_column(Integer)
    listed: Mapped[bool] = mapped_column(Boolean, default=False)  # linked from the folder's README.md
    owner_email: Mapped[str] = mapped_column(String(254), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    review_every_days: Mapped[int | None] = mapped_column(Integer)
    # Links in the file to other files of the folder, as written: [{"href": ..., "target": ..., "line": ...}]
    local_links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    step_titles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # content hash last changed
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[User | None] = relationship()

    def field(self, name: str, default: Any = None) -> Any:
        return (self.front_matter or {}).get(name, default)

    def names(self, name: str) -> list[str]:
        """A list field of the front matter (systems, jobs, alerts, ...), always a list of strings."""
        value = (self.front_matter or {}).get(name) or []
        return [str(item) for item in value] if isinstance(value, list) else [str(value)]


class RunbookReview(db.Model):
    __tablename__ = "runbook_reviews"
    __table_args__ = (CheckConstraint(_in("outcome", ReviewOutcome), name="outcome"),
                      Index("ix_runbook_reviews_runbook_at", "runbook_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    runbook_id: Mapped[int] = mapped_column(ForeignKey("runbooks.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    by_name: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    runbook: Mapped[Runbook] = relationship()


class RunbookRun(db.Model):
    """One use of a runbook in run mode: who, when, against which version, and how it went."""

    __tablename__ = "runbook_runs"
    __table_args__ = (CheckConstraint(f"outcome IS NULL OR {_in('outcome', RunOutcome)}", name="outcome"),
                      CheckConstraint("finished_at IS NULL OR outcome IS NOT NULL", name="finished_has_outcome"),
                      Index("ix_runbook_runs_runbook_started", "runbook_id", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    runbook_id: Mapped[int] = mapped_column(ForeignKey("runbooks.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    step_titles: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the checklist as it was at the start
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    started_by_name: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("watch_jobs.id", ondelete="SET NULL"), index=True)
    # No foreign key: incidents keep their own table, and a run outlives whatever it was linked to.
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)

    runbook: Mapped[Runbook] = relationship()
    steps: Mapped[list[RunbookRunStep]] = relationship(back_populates="run", order_by="RunbookRunStep.position",
                                                       cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_open(self) -> bool:
        return self.finished_at is None


class RunbookRunStep(db.Model):
    __tablename__ = "runbook_run_steps"
    __table_args__ = (UniqueConstraint("run_id", "position"),
                      CheckConstraint(_in("outcome", StepOutcome), name="outcome"),
                      CheckConstraint("position >= 1", name="position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runbook_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_name: Mapped[str] = mapped_column(String(120), default="")

    run: Mapped[RunbookRun] = relationship(back_populates="steps")


class RunbookAcknowledgement(db.Model):
    """Someone confirmed they read one version of a runbook; a new content hash leaves it behind (lapsed)."""

    __tablename__ = "runbook_acknowledgements"
    __table_args__ = (UniqueConstraint("runbook_id", "user_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    runbook_id: Mapped[int] = mapped_column(ForeignKey("runbooks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RunbookReminder(db.Model):
    """A review reminder claimed before it is queued: one per runbook, kind and due date, whatever runs twice."""

    __tablename__ = "runbook_reminders"
    __table_args__ = (UniqueConstraint("runbook_id", "kind", "due_on"),
                      CheckConstraint("kind IN ('due_soon', 'overdue')", name="kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    runbook_id: Mapped[int] = mapped_column(ForeignKey("runbooks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    due_on: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(16))  # queued | no_owner | no_method
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RunbookSettings(db.Model):
    """The administrator's "needs review" threshold; one row (id 1), created with the defaults when first read."""

    __tablename__ = "runbook_settings"
    __table_args__ = (CheckConstraint("error_rate_percent >= 1 AND error_rate_percent <= 100", name="rate"),
                      CheckConstraint("min_runs >= 1 AND min_runs <= 1000", name="min_runs"))

    id: Mapped[int] = mapped_column(primary_key=True)
    error_rate_percent: Mapped[int] = mapped_column(SmallInteger, default=20)
    min_runs: Mapped[int] = mapped_column(SmallInteger, default=3)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")


class RunbookReportSnapshot(db.Model):
    """The catalog report's counts for one fiscal quarter, kept up to date while the quarter lasts (the trend)."""

    __tablename__ = "runbook_report_snapshots"
    __table_args__ = (UniqueConstraint("fiscal_year", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
