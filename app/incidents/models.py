"""Incidents: severities (admin-editable rows), the incident with its roles and instants, its timeline, status
updates to subscribers, attached alerts, what it touches, runbooks in use, tasks, and every message sent for it.

The post-incident review and its lessons and follow-ups are in review_models.py.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.alerting.models import OutboundMessage
from app.audit.models import Audited
from app.auth.models import User
from app.database import UTCDateTime
from app.extensions import db
from app.oncall.models import EscalationPolicy
from app.timeutil import utcnow


class Status(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)
OPEN_STATUS_VALUES = tuple(status.value for status in OPEN_STATUSES)
STATUS_VALUES = tuple(status.value for status in Status)

# The roles people hold on an incident: column on the incident, words for people.
ROLES = {"commander": "Incident commander", "communications": "Communications lead", "scribe": "Scribe",
         "operations": "Operations lead"}

# The instants that matter, in the order they happen; each is editable with a reason.
INSTANTS = {"started_at": "Started", "detected_at": "Detected", "declared_at": "Declared",
            "acknowledged_at": "Acknowledged", "mitigated_at": "Mitigated", "resolved_at": "Resolved",
            "closed_at": "Closed"}


class Severity(Audited, db.Model):
    """SEV1..SEV4: what each means, how often its stakeholders are updated, and (SEV1/SEV2) whom to page."""

    __tablename__ = "incident_severities"
    __table_args__ = (
        CheckConstraint("rank >= 1 AND rank <= 4", name="rank_range"),
        CheckConstraint("update_interval_minutes IS NULL OR (update_interval_minutes >= 5 "
                        "AND update_interval_minutes <= 1440)", name="interval_range"),
        CheckConstraint("rank <= 2 OR escalation_policy_id IS NULL", name="policy_only_sev1_sev2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # SEV1
    rank: Mapped[int] = mapped_column(SmallInteger, unique=True)  # 1 is the worst
    description: Mapped[str] = mapped_column(String(300), default="")
    update_interval_minutes: Mapped[int | None] = mapped_column(SmallInteger)  # None: no update cadence
    escalation_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL"))

    escalation_policy: Mapped[EscalationPolicy | None] = relationship()

    @property
    def pages_policy(self) -> bool:
        return self.rank <= 2

    def audit_label(self) -> str:
        return self.code


class IncidentSettings(Audited, db.Model):
    """The incident rules an administrator changes in the app; one row (id 1), created with the defaults."""

    __tablename__ = "incident_settings"
    __table_args__ = (CheckConstraint("review_business_days >= 1 AND review_business_days <= 30",
                                      name="review_days_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_business_days: Mapped[int] = mapped_column(SmallInteger, default=5)

    def audit_label(self) -> str:
        return "incident settings"


class Incident(Audited, db.Model):
    """A crisis being worked: who leads it, how bad it is, where it stands, and when each thing happened."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUS_VALUES!r}", name="status"),
        CheckConstraint("status NOT IN ('resolved', 'closed') OR (resolved_at IS NOT NULL AND resolution <> '')",
                        name="resolved_has_resolution"),
        CheckConstraint("status <> 'closed' OR closed_at IS NOT NULL", name="closed_has_time"),
        Index("ix_incidents_status_severity", "status", "severity_id"),
    )
    __audit_ignore__ = frozenset({"last_update_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    severity_id: Mapped[int] = mapped_column(ForeignKey("incident_severities.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default=Status.INVESTIGATING.value)
    resolution: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the last status update sent
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    commander_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    communications_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scribe_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    operations_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    severity: Mapped[Severity] = relationship(lazy="joined")
    commander: Mapped[User] = relationship(foreign_keys=[commander_id], lazy="joined")
    communications: Mapped[User | None] = relationship(foreign_keys=[communications_id])
    scribe: Mapped[User | None] = relationship(foreign_keys=[scribe_id])
    operations: Mapped[User | None] = relationship(foreign_keys=[operations_id])
    declared_by: Mapped[User | None] = relationship(foreign_keys=[declared_by_id])

    @property
    def code(self) -> str:
        return f"INC-{self.id}"

    @property
    def state(self) -> Status:
        return Status(self.status)

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    def audit_label(self) -> str:
        return f"{self.code} {self.title}" if self.id else self.title


class IncidentEvent(db.Model):
    """One line of the timeline: `at` is when it happened (a note may say it happened earlier), `recorded_at`
    when it was written."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident_at", "incident_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text, default="")


class IncidentUpdate(db.Model):
    """A status update: the status it set and its words, sent to the subscribers (`recipients` of them)."""

    __tablename__ = "incident_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120), default="")
    recipients: Mapped[int] = mapped_column(default=0)


class IncidentMessage(db.Model):
    """A message written to someone about an incident (an update, a reminder, a role), and the outbox row that
    carries it. A reminder's unique (incident, purpose, key, person) makes a second scheduler send nothing."""

    __tablename__ = "incident_messages"
    __table_args__ = (UniqueConstraint("incident_id", "purpose", "key", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    update_id: Mapped[int | None] = mapped_column(ForeignKey("incident_updates.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(24))  # update | update_overdue | review_due | review_overdue | role
    key: Mapped[str] = mapped_column(String(80))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    message: Mapped[OutboundMessage | None] = relationship()


class IncidentAlert(db.Model):
    """An alert that is part of an incident: the one it was declared from, one attached later, or a page the
    incident raised. An alert belongs to one incident at most."""

    __tablename__ = "incident_alerts"
    __table_args__ = (CheckConstraint("role IN ('declared_from', 'attached', 'page')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attached_by: Mapped[str] = mapped_column(String(120), default="")


LINK_KINDS = ("job", "app", "vendor", "site", "risk")


class IncidentLink(db.Model):
    """Something the incident touches: a watched job or app, a vendor, a continuity site or operation room, a
    risk that materialised. By kind and id (the record lives in its own domain); the label is its name then."""

    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "target_id"),
                      CheckConstraint(f"kind IN {LINK_KINDS!r}", name="kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    target_id: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by: Mapped[str] = mapped_column(String(120), default="")


class IncidentRunbook(db.Model):
    """A runbook in use, by its slug in the runbook catalog (a string: the catalog keeps its own records)."""

    __tablename__ = "incident_runbooks"
    __table_args__ = (UniqueConstraint("incident_id", "runbook_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    runbook_slug: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(300), default="")  # the latest use's outcome, in words
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by: Mapped[str] = mapped_column(String(120), default="")


class IncidentSubscription(db.Model):
    """Who gets the incident's status updates. A row with subscribed false is someone who unsubscribed: they
    are not subscribed again automatically (executives are, for SEV1 and SEV2)."""

    __tablename__ = "incident_subscriptions"
    __table_args__ = (UniqueConstraint("incident_id", "user_id"),
                      CheckConstraint("source IN ('auto', 'self', 'added')", name="source"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(8), default="self")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class IncidentPreference(db.Model):
    """A person's choice of channel for incident updates: email, and SMS for SEV1 when they opt in."""

    __tablename__ = "incident_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sms_for_sev1: Mapped[bool] = mapped_column(Boolean, default=False)


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class IncidentTask(db.Model):
    """An action item during the incident: who does what by when."""

    __tablename__ = "incident_tasks"
    __table_args__ = (CheckConstraint("status IN ('open', 'done', 'dropped')", name="status"),
                      Index("ix_incident_tasks_owner_status", "owner_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(8), default=TaskStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str] = mapped_column(String(120), default="")

    owner: Mapped[User | None] = relationship()
    incident: Mapped[Incident] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN.value
