"""DR tests: versioned templates with ordered steps, exercises run from a snapshot of them, evidence, findings,
reminders; business continuity plans and alternate sites."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import Audited
from app.auth.models import User
from app.database import UTCDateTime, value_enum
from app.extensions import db
from app.timeutil import quarter_label, utcnow


class Phase(enum.StrEnum):
    PREPARE = "prepare"
    FAILOVER = "failover"
    VALIDATE = "validate"
    FAILBACK = "failback"
    CLOSE = "close"


PHASE_ORDER = list(Phase)


class ExerciseKind(enum.StrEnum):
    TABLETOP = "tabletop"
    WALKTHROUGH = "walkthrough"
    SIMULATION = "simulation"
    PARALLEL = "parallel"
    FULL_FAILOVER = "full_failover"


class StepState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"


class Outcome(enum.StrEnum):
    OK = "ok"
    OK_WITH_ISSUES = "ok_with_issues"
    FAILED = "failed"
    SKIPPED = "skipped"


class Result(enum.StrEnum):
    PASSED = "passed"
    PASSED_WITH_ISSUES = "passed_with_issues"
    FAILED = "failed"
    INCOMPLETE = "incomplete"


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FindingStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    # Handed over: to the risk register (risk_ref names the risk) or tracked as a mitigation action.
    TO_RISK = "to_risk"
    ACTION = "action"


class DrTemplate(Audited, db.Model):
    """A DR test plan. `version` goes up on every change; exercises copy the steps, so old runs never change."""

    __tablename__ = "dr_templates"
    __table_args__ = (CheckConstraint("rto_minutes > 0 AND rpo_minutes >= 0", name="targets_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # Apps from the watch list, as free text for now (e.g. "ERP, EDI gateway").
    systems: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    rto_minutes: Mapped[int] = mapped_column(Integer)
    rpo_minutes: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    steps: Mapped[list[DrTemplateStep]] = relationship(back_populates="template", order_by="DrTemplateStep.position",
                                                       cascade="all, delete-orphan", passive_deletes=True)

    def audit_label(self) -> str:
        return self.name


class StepFields:
    """Columns shared by a template step and its copy in an exercise."""

    position: Mapped[int] = mapped_column(SmallInteger)  # 1-based, the order steps are shown and run in
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered sanitised
    owner: Mapped[str] = mapped_column(String(120), default="")  # a role or a person, as the team says it
    expected_minutes: Mapped[int] = mapped_column(Integer, default=0)
    phase: Mapped[Phase] = mapped_column(value_enum(Phase, "dr_phase", 20))
    depends_on: Mapped[str] = mapped_column(String(200), default="")  # positions of earlier steps, "1,2"
    counts_toward_recovery: Mapped[bool] = mapped_column(Boolean, default=True)
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)  # its failure fails the exercise

    @property
    def dependency_positions(self) -> list[int]:
        return [int(part) for part in self.depends_on.split(",") if part.strip()]


class DrTemplateStep(StepFields, Audited, db.Model):
    __tablename__ = "dr_template_steps"
    __table_args__ = (UniqueConstraint("template_id", "position"),
                      CheckConstraint("expected_minutes >= 0", name="expected_minutes_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("dr_templates.id", ondelete="CASCADE"), index=True)
    template: Mapped[DrTemplate] = relationship(back_populates="steps")

    def audit_label(self) -> str:
        return f"step {self.position}: {self.title}"


class DrExercise(Audited, db.Model):
    """One run of a template for a fiscal quarter. Signed off means frozen, figures included."""

    __tablename__ = "dr_exercises"
    __table_args__ = (Index("ix_dr_exercises_scheduled", "scheduled_for", "id"),)  # the list's order

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("dr_templates.id", ondelete="SET NULL"), index=True)
    template_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(160))
    systems: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[ExerciseKind] = mapped_column(value_enum(ExerciseKind, "dr_exercise_kind", 20))
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    rto_minutes: Mapped[int] = mapped_column(Integer)  # targets copied from the template version run
    rpo_minutes: Mapped[int] = mapped_column(Integer)
    # The last transaction the standby had when failover began; data loss is measured from it.
    last_replicated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Figures frozen at sign-off, for the trend and the auditor.
    result: Mapped[Result | None] = mapped_column(value_enum(Result, "dr_result", 20))
    recovery_seconds: Mapped[int | None] = mapped_column(Integer)
    failback_seconds: Mapped[int | None] = mapped_column(Integer)
    data_loss_seconds: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic concurrency
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {"version_id_col": version}
    __audit_ignore__ = frozenset({"version"})

    template: Mapped[DrTemplate | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])
    steps: Mapped[list[ExerciseStep]] = relationship(back_populates="exercise", order_by="ExerciseStep.position",
                                                     cascade="all, delete-orphan", passive_deletes=True)
    participants: Mapped[list[ExerciseParticipant]] = relationship(cascade="all, delete-orphan",
                                                                   passive_deletes=True)
    findings: Mapped[list[Finding]] = relationship(back_populates="exercise", order_by="Finding.id",
                                                   cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_signed_off(self) -> bool:
        return self.signed_off_at is not None

    @property
    def quarter_label(self) -> str:
        return quarter_label(self.fiscal_year, self.quarter)

    def audit_label(self) -> str:
        return self.name


class ExerciseParticipant(db.Model):
    __tablename__ = "dr_exercise_participants"
    __table_args__ = (UniqueConstraint("exercise_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("dr_exercises.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user: Mapped[User] = relationship()


class ExerciseStep(StepFields, Audited, db.Model):
    __tablename__ = "dr_exercise_steps"
    __table_args__ = (UniqueConstraint("exercise_id", "position"),
                      CheckConstraint("completed_at IS NULL OR started_at IS NULL OR completed_at >= started_at",
                                      name="completed_after_start"))

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("dr_exercises.id", ondelete="CASCADE"), index=True)
    state: Mapped[StepState] = mapped_column(value_enum(StepState, "dr_step_state", 20), default=StepState.PENDING)
    outcome: Mapped[Outcome | None] = mapped_column(value_enum(Outcome, "dr_outcome", 20))
    skip_reason: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic concurrency

    # The UPDATE carries "AND version = <loaded>", so a write racing another one fails instead of overwriting.
    __mapper_args__ = {"version_id_col": version}
    __audit_ignore__ = frozenset({"version"})

    exercise: Mapped[DrExercise] = relationship(back_populates="steps")
    started_by: Mapped[User | None] = relationship(foreign_keys=[started_by_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    evidence: Mapped[list[Evidence]] = relationship(back_populates="step", order_by="Evidence.id",
                                                    cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_finished(self) -> bool:
        return self.state in (StepState.DONE, StepState.SKIPPED)

    def audit_label(self) -> str:
        return f"step {self.position}: {self.title}"


class Evidence(db.Model):
    """A file kept under the instance folder, or a link; never changed once recorded."""

    __tablename__ = "dr_evidence"
    __table_args__ = (CheckConstraint("(stored_name IS NULL) <> (url IS NULL)", name="file_or_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("dr_exercise_steps.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str | None] = mapped_column(String(1000))
    filename: Mapped[str | None] = mapped_column(String(200))
    stored_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    step: Mapped[ExerciseStep] = relationship(back_populates="evidence")
    added_by: Mapped[User | None] = relationship()


class Finding(Audited, db.Model):
    __tablename__ = "dr_findings"
    __table_args__ = (Index("ix_dr_findings_status_due", "status", "due_date", "id"),)  # the list's filter and order

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("dr_exercises.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("dr_exercise_steps.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[Severity] = mapped_column(value_enum(Severity, "dr_severity", 20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[FindingStatus] = mapped_column(value_enum(FindingStatus, "dr_finding_status", 20),
                                                  default=FindingStatus.OPEN)
    # Set by the risk register when it takes the finding over (its own id, as text: no import either way).
    risk_ref: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    exercise: Mapped[DrExercise] = relationship(back_populates="findings")
    owner: Mapped[User | None] = relationship()

    def audit_label(self) -> str:
        return self.title


class DrNotice(db.Model):
    """A reminder or quarter flag sent by the scheduler, once per key; the outcome is what happened."""

    __tablename__ = "dr_notices"
    __table_args__ = (UniqueConstraint("kind", "key", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # exercise_reminder | quarter_flag
    key: Mapped[str] = mapped_column(String(60))  # "exercise:12" or "FY27Q3"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(20))  # sent | failed | no_method | flagged
    message_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QuarterFlag(db.Model):
    """A fiscal quarter that had no DR exercise scheduled by BD-30 when the scheduler looked."""

    __tablename__ = "dr_quarter_flags"
    __table_args__ = (UniqueConstraint("fiscal_year", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def quarter_label(self) -> str:
        return quarter_label(self.fiscal_year, self.quarter)
