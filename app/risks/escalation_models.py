"""Escalations of risks to the executives, and who was told about each (risks domain models, kept apart to keep
models.py readable)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.alerting.models import OutboundMessage
from app.audit.models import Audited
from app.database import UTCDateTime, value_enum
from app.extensions import db
from app.risks.models import Risk, RiskLevel
from app.timeutil import utcnow


class RiskEscalation(Audited, db.Model):
    """A risk put in front of the executives (the weekly review's "escalate"): each active executive is notified
    once, and it shows on the executive page under "escalated to you" until one of them acknowledges it."""

    __tablename__ = "risk_escalations"
    __table_args__ = (CheckConstraint("acknowledged_at IS NULL OR acknowledged_by_name <> ''",
                                      name="acknowledged_by_someone"),
                      Index("ix_risk_escalations_open", "acknowledged_at", "escalated_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(120), default="")  # e.g. "Weekly risk review 2026-W47"
    text: Mapped[str] = mapped_column(Text, default="")  # the decision, as the meeting put it
    level: Mapped[RiskLevel] = mapped_column(value_enum(RiskLevel, "risk_escalation_level", 24))  # when escalated
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    escalated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    escalated_by_name: Mapped[str] = mapped_column(String(120), default="")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_by_name: Mapped[str] = mapped_column(String(120), default="")
    acknowledgement: Mapped[str] = mapped_column(Text, default="")  # what the executive said, if anything

    risk: Mapped[Risk] = relationship()
    notices: Mapped[list[RiskEscalationNotice]] = relationship(
        back_populates="escalation", order_by="RiskEscalationNotice.id", cascade="all, delete-orphan",
        passive_deletes=True)

    def audit_label(self) -> str:
        # The risk's history finds its escalations by this prefix (like its links).
        return f"R-{self.risk_id} escalation"


class RiskEscalationNotice(db.Model):
    """One executive told about one escalation by one method: at most once (the unique key)."""

    __tablename__ = "risk_escalation_notices"
    __table_args__ = (UniqueConstraint("escalation_id", "user_id", "kind"),
                      CheckConstraint("kind IN ('email', 'sms')", name="kind_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("risk_escalations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(8))
    # The outbox message (its status says whether it left); None: there was no verified method to use.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id", ondelete="SET NULL"))

    escalation: Mapped[RiskEscalation] = relationship(back_populates="notices")
    message: Mapped[OutboundMessage | None] = relationship(lazy="joined")

    @property
    def outcome(self) -> str:
        if self.message is None:
            return "not sent: no verified number" if self.kind == "sms" else "not sent"
        return self.message.status + (f": {self.message.last_error}" if self.message.last_error else "")
