"""Alerts, their timelines and reply codes, and a record of every message Quarterdeck sends, with its outcome.

An alert is a small state machine kept in the database (triggered -> acknowledged -> resolved); the outbox
is `outbound_messages`: a row is written before each send (status pending with a due time), claimed by one
engine process, sent, and left with its outcome. Delivery reports only move a message forward.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow

REDACTED = "(withheld: it held a verification code)"


class AlertStatus(enum.StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


SOURCES = ("job", "incident", "api", "webhook", "manual", "system")
SEVERITIES = ("critical", "high", "medium", "low")


class Alert(db.Model):
    """Something that needs a human. Every update is compare-and-set on `version` (two engines, a web click)."""

    __tablename__ = "alerts"
    __table_args__ = (
        # At most one open alert per dedup key: a second raise merges into it, even when two arrive at once.
        Index("uq_alerts_open_dedup_key", "dedup_key", unique=True,
              sqlite_where=text("status != 'resolved' AND dedup_key IS NOT NULL"),
              postgresql_where=text("status != 'resolved' AND dedup_key IS NOT NULL")),
        Index("ix_alerts_status_next_escalation", "status", "next_escalation_at"),
        # The alert list's filters, each in the list's newest-first order within a status.
        Index("ix_alerts_status_created", "status", "created_at", "id"),
        Index("ix_alerts_severity_created", "severity", "created_at", "id"),
        Index("ix_alerts_status_ack_deadline", "status", "ack_deadline"),
        CheckConstraint(f"source IN {SOURCES!r}", name="source"),
        CheckConstraint(f"severity IN {SEVERITIES!r}", name="severity"),
        CheckConstraint("status IN ('triggered', 'acknowledged', 'resolved')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8), default="critical")
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=AlertStatus.TRIGGERED.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_policies.id", ondelete="SET NULL"),
                                                  index=True)
    # The policy as it was when the alert started (or was re-triggered): editing the policy cannot reach it.
    policy_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    escalation_step: Mapped[int] = mapped_column(default=0)  # the next step to run
    escalation_round: Mapped[int] = mapped_column(default=0)  # how many times the policy has started over
    escalation_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalation_exhausted: Mapped[bool] = mapped_column(default=False)
    ack_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    merged_count: Mapped[int] = mapped_column(default=0)
    last_merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Its policy ran out with nobody acknowledging: the organisation's fallback policy was paged once.
    unanswered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    events: Mapped[list[AlertEvent]] = relationship(back_populates="alert", order_by="AlertEvent.id",
                                                    cascade="all, delete-orphan", passive_deletes=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.RESOLVED


class AlertEvent(db.Model):
    """One line of an alert's timeline: a state change, a notification attempt or a delivery report."""

    __tablename__ = "alert_events"
    # An alert's timeline in its page order, the id breaking ties.
    __table_args__ = (Index("ix_alert_events_alert_at_id", "alert_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(120), default="")  # a person's name, "scheduler", "Twilio"
    text: Mapped[str] = mapped_column(String(500), default="")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id", ondelete="SET NULL"))

    alert: Mapped[Alert] = relationship(back_populates="events")


class ReplyCode(db.Model):
    """The short number a phone uses to answer about one alert (`12a`). Free for another alert once this one is
    resolved; the row stays until then, so a late reply still names the alert it meant."""

    __tablename__ = "alert_reply_codes"
    __table_args__ = (UniqueConstraint("phone", "code"), UniqueConstraint("phone", "alert_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    code: Mapped[int] = mapped_column()
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # in the outbox, waiting for due_at
    # Claimed by one engine process until lease_until. A message whose lease runs out with no outcome and
    # no delivery report may or may not have left (the process died, or the database went away): it is
    # sent again then, never sooner. A page folded into a bundle stays here until the bundle is recorded.
    SENDING = "sending"
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider reported it reached the handset (or the call was answered)
    FAILED = "failed"
    DROPPED = "dropped"  # not sent on purpose: the alert was acknowledged or resolved first
    BUNDLED = "bundled"  # went out inside another message ("3 open alerts: ...")


class OutboundMessage(db.Model):
    __tablename__ = "outbound_messages"
    # Someone's messages and an alert's messages, each in its page order, the id breaking ties.
    __table_args__ = (Index("ix_outbound_messages_user_created_id", "user_id", "created_at", "id"),
                      Index("ix_outbound_messages_alert_created_id", "alert_id", "created_at", "id"),
                      Index("ix_outbound_messages_status_due", "status", "due_at"),
                      Index("ix_outbound_messages_method_sent", "contact_method_id", "sent_at"),
                      Index("ix_outbound_messages_status_lease", "status", "lease_until"),
                      Index("ix_outbound_messages_bundled_into_id", "bundled_into_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    contact_method_id: Mapped[int | None] = mapped_column(ForeignKey("contact_methods.id", ondelete="SET NULL"),
                                                          index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))  # sms | voice | email
    address: Mapped[str] = mapped_column(String(254))
    # verification | shift_reminder | handoff | contact_reminder | alert | test | sms_reply | engine_health
    purpose: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=MessageStatus.PENDING.value)
    # 0: the first page of a new alert; 1: everything else. Lower goes first when the outbox is busy.
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Holds a secret (a verification code): its text is withheld once sent, and never logged.
    sensitive: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    permanent_failure: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_ref: Mapped[str | None] = mapped_column(String(64))
    delivery_status: Mapped[str | None] = mapped_column(String(16))  # the provider's last word
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bundled_into_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id", ondelete="SET NULL"))

    alert: Mapped[Alert | None] = relationship(foreign_keys=[alert_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
