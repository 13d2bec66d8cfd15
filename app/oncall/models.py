"""On-call: contact methods and notification rules, rotations, schedules, overrides, escalation policies."""
from __future__ import annotations

import enum
from datetime import datetime, time

from sqlalchemy import (Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, SmallInteger, String,
                        Text, Time, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import Audited
from app.auth.models import User
from app.database import UTCDateTime, value_enum
from app.extensions import db
from app.timeutil import utcnow


class ContactKind(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"

    @property
    def is_phone(self) -> bool:
        return self in (ContactKind.SMS, ContactKind.VOICE)


class ContactMethod(Audited, db.Model):
    """A way to reach a person. Unusable until verified with a code sent through it."""

    __tablename__ = "contact_methods"
    __table_args__ = (UniqueConstraint("user_id", "kind", "address"),)
    __audit_exclude__ = frozenset({"code_hash"})
    # The verification bookkeeping changes on every attempt; the trail keeps verified_at instead.
    __audit_ignore__ = frozenset({"code_hash", "code_expires_at", "code_attempts", "code_sent_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ContactKind] = mapped_column(value_enum(ContactKind, "contact_kind", 16))
    address: Mapped[str] = mapped_column(String(254))  # E.164 for phones, lower-case for email
    label: Mapped[str] = mapped_column(String(60), default="")
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_attempts: Mapped[int] = mapped_column(default=0)
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a provider says the address can never work (invalid number, opted out).
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    rules: Mapped[list[NotificationRule]] = relationship(back_populates="method", cascade="all, delete-orphan",
                                                         passive_deletes=True)

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def is_usable(self) -> bool:
        return self.verified_at is not None and self.disabled_at is None

    def audit_label(self) -> str:
        return f"{self.kind.value} {self.address}"


class NotificationRule(Audited, db.Model):
    """Reach this person through `method`, `delay_minutes` after they are first paged."""

    __tablename__ = "notification_rules"
    __table_args__ = (UniqueConstraint("contact_method_id", "delay_minutes"),
                      CheckConstraint("delay_minutes >= 0 AND delay_minutes <= 1440", name="delay_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    contact_method_id: Mapped[int] = mapped_column(ForeignKey("contact_methods.id", ondelete="CASCADE"), index=True)
    delay_minutes: Mapped[int] = mapped_column(Integer)

    method: Mapped[ContactMethod] = relationship(back_populates="rules")

    def audit_label(self) -> str:
        return f"rule +{self.delay_minutes} min"


class ContactConfirmation(db.Model):
    """A person confirmed their contact details for one fiscal quarter."""

    __tablename__ = "contact_confirmations"
    __table_args__ = (UniqueConstraint("user_id", "fiscal_year", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HandoffKind(enum.StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    CUSTOM = "custom"  # every `shift_length` hours


class Rotation(Audited, db.Model):
    __tablename__ = "rotations"
    __table_args__ = (CheckConstraint("shift_length >= 1 AND shift_length <= 1000", name="shift_length_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    # A wall-clock time in `time_zone`, deliberately naive: hand-offs follow the local clock across DST.
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    handoff_kind: Mapped[HandoffKind] = mapped_column(value_enum(HandoffKind, "handoff_kind", 16))
    shift_length: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[RotationMember]] = relationship(
        back_populates="rotation", order_by="RotationMember.position", cascade="all, delete-orphan",
        passive_deletes=True)


class RotationMember(Audited, db.Model):
    __tablename__ = "rotation_members"
    __table_args__ = (UniqueConstraint("rotation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    rotation: Mapped[Rotation] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    def audit_label(self) -> str:
        return f"member #{self.position + 1}"


class Schedule(Audited, db.Model):
    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")  # how its timeline is shown by default
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    layers: Mapped[list[ScheduleLayer]] = relationship(
        back_populates="schedule", order_by="ScheduleLayer.position", cascade="all, delete-orphan",
        passive_deletes=True)
    overrides: Mapped[list[ScheduleOverride]] = relationship(
        back_populates="schedule", order_by="ScheduleOverride.start_at", cascade="all, delete-orphan",
        passive_deletes=True)


class ScheduleLayer(Audited, db.Model):
    """One rotation on duty on some days, between two local times; the first covering layer decides."""

    __tablename__ = "schedule_layers"
    __table_args__ = (UniqueConstraint("schedule_id", "position"),
                      CheckConstraint("days > 0 AND days < 128", name="days_mask"))

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column()
    time_zone: Mapped[str] = mapped_column(String(64))
    days: Mapped[int] = mapped_column(SmallInteger)  # bit 0 = Monday ... bit 6 = Sunday
    start_time: Mapped[time] = mapped_column(Time())
    end_time: Mapped[time] = mapped_column(Time())  # <= start_time: runs past midnight (equal: all day)

    schedule: Mapped[Schedule] = relationship(back_populates="layers")
    rotation: Mapped[Rotation] = relationship()

    @property
    def weekdays(self) -> frozenset[int]:
        return frozenset(day for day in range(7) if self.days & (1 << day))

    def audit_label(self) -> str:
        return f"layer #{self.position + 1}"


class OverrideMode(enum.StrEnum):
    REPLACE = "replace"
    ADD = "add"


class ScheduleOverride(Audited, db.Model):
    """PTO, holiday cover or a swap: `user_id` replaces `replaces_user_id` (or everyone), or is added."""

    __tablename__ = "schedule_overrides"
    __table_args__ = (CheckConstraint("start_at < end_at", name="time_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    replaces_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[OverrideMode] = mapped_column(value_enum(OverrideMode, "override_mode", 16))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")

    schedule: Mapped[Schedule] = relationship(back_populates="overrides")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    replaces: Mapped[User | None] = relationship(foreign_keys=[replaces_user_id])

    def audit_label(self) -> str:
        return f"override {self.reason or self.mode.value}"


class EscalationPolicy(Audited, db.Model):
    __tablename__ = "escalation_policies"
    __table_args__ = (CheckConstraint("repeat >= 0 AND repeat <= 9", name="repeat_range"),
                      CheckConstraint("close_mode_max_delay >= 1 AND close_mode_max_delay <= 60",
                                      name="close_delay_range"),
                      CheckConstraint("ack_timeout_minutes >= 0 AND ack_timeout_minutes <= 1440",
                                      name="ack_timeout_range"),
                      Index("uq_escalation_policies_fallback", "is_fallback", unique=True,
                            sqlite_where=text("is_fallback"), postgresql_where=text("is_fallback")))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    repeat: Mapped[int] = mapped_column(default=0)  # times the whole policy runs again after its last step
    # In the quarter-close window: every delay is capped at close_mode_max_delay and voice is used at once.
    close_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    close_mode_max_delay: Mapped[int] = mapped_column(default=5)
    # An acknowledged alert not resolved within this many minutes pages again (0: never).
    ack_timeout_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    # The organisation's fallback: pages alerts that have no policy of their own, and alerts whose policy
    # ran out with nobody acknowledging. At most one policy is the fallback (a partial unique index).
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    steps: Mapped[list[EscalationStep]] = relationship(
        back_populates="policy", order_by="EscalationStep.position", cascade="all, delete-orphan",
        passive_deletes=True)


class EscalationStep(Audited, db.Model):
    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("policy_id", "position"),
                      CheckConstraint("delay_minutes >= 1 AND delay_minutes <= 1440", name="delay_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("escalation_policies.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    delay_minutes: Mapped[int] = mapped_column()  # wait this long before the next step

    policy: Mapped[EscalationPolicy] = relationship(back_populates="steps")
    targets: Mapped[list[EscalationTarget]] = relationship(back_populates="step", cascade="all, delete-orphan",
                                                           passive_deletes=True, order_by="EscalationTarget.id")

    def audit_label(self) -> str:
        return f"step #{self.position + 1}"


class EscalationTarget(Audited, db.Model):
    """Exactly one of: whoever is on call in a schedule, or a named person."""

    __tablename__ = "escalation_targets"
    __table_args__ = (CheckConstraint("(schedule_id IS NULL) <> (user_id IS NULL)", name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("escalation_steps.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    step: Mapped[EscalationStep] = relationship(back_populates="targets")
    schedule: Mapped[Schedule | None] = relationship()
    user: Mapped[User | None] = relationship()

    def audit_label(self) -> str:
        return f"target schedule {self.schedule_id}" if self.schedule_id else f"target user {self.user_id}"


class CalendarFeed(db.Model):
    """A person's secret iCalendar URL for their own shifts; deleting the row revokes it."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OncallNotice(db.Model):
    """A reminder already sent (pre-shift, hand-off, contact confirmation), so the scheduler sends each once."""

    __tablename__ = "oncall_notices"
    __table_args__ = (UniqueConstraint("user_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
