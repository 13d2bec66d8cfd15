"""The post-incident review: what happened and why, what went well and badly, its lessons (handed to readiness
as lessons learned) and follow-up actions (handed to the risk register or a quarter's readiness checklist)."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import Audited
from app.auth.models import User
from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import quarter_code, utcnow


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    WAIVED = "waived"


class Review(Audited, db.Model):
    """One per resolved incident, due a number of business days after resolution in the commander's region."""

    __tablename__ = "incident_reviews"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'completed', 'waived')", name="status"),
        CheckConstraint("status <> 'completed' OR completed_at IS NOT NULL", name="completed_has_time"),
        CheckConstraint("status <> 'waived' OR waived_reason <> ''", name="waived_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    due_on: Mapped[date] = mapped_column(Date(), index=True)
    due_region: Mapped[str] = mapped_column(String(40), default="")  # whose business days counted ("" = weekdays)
    status: Mapped[str] = mapped_column(String(12), default=ReviewStatus.PENDING.value, index=True)
    what_happened: Mapped[str] = mapped_column(Text, default="")
    business_impact: Mapped[str] = mapped_column(Text, default="")  # e.g. bookings delayed
    root_cause: Mapped[str] = mapped_column(Text, default="")
    went_well: Mapped[str] = mapped_column(Text, default="")
    went_badly: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    waived_reason: Mapped[str] = mapped_column(Text, default="")
    waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    waived_by: Mapped[User | None] = relationship(foreign_keys=[waived_by_id])
    lessons: Mapped[list[ReviewLesson]] = relationship(order_by="ReviewLesson.id", cascade="all, delete-orphan",
                                                       passive_deletes=True)
    follow_ups: Mapped[list[FollowUp]] = relationship(order_by="FollowUp.id", cascade="all, delete-orphan",
                                                      passive_deletes=True)

    @property
    def is_pending(self) -> bool:
        return self.status == ReviewStatus.PENDING.value

    def audit_label(self) -> str:
        return f"review of INC-{self.incident_id}"


class ReviewLesson(db.Model):
    """A lesson written in the review; on completion it becomes a readiness lesson (`lesson_id`)."""

    __tablename__ = "incident_review_lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("incident_reviews.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    recommendation: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("readiness_lessons.id", ondelete="SET NULL"))

    owner: Mapped[User | None] = relationship()


class FollowUpKind(enum.StrEnum):
    RISK = "risk"  # a risk in the register
    CHECKLIST = "checklist"  # an item of a quarter's readiness checklist


class FollowUp(db.Model):
    """A follow-up action from the review; on completion it becomes a risk or a checklist item, linked back."""

    __tablename__ = "incident_follow_ups"
    __table_args__ = (
        CheckConstraint("kind IN ('risk', 'checklist')", name="kind"),
        CheckConstraint("kind <> 'risk' OR (likelihood BETWEEN 1 AND 5 AND impact BETWEEN 1 AND 5)",
                        name="risk_scores"),
        CheckConstraint("kind <> 'checklist' OR (fiscal_year IS NOT NULL AND quarter BETWEEN 1 AND 4 "
                        "AND bd_offset IS NOT NULL)", name="checklist_quarter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("incident_reviews.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(24), default="")  # risk category, for a risk
    likelihood: Mapped[int | None] = mapped_column(SmallInteger)
    impact: Mapped[int | None] = mapped_column(SmallInteger)
    fiscal_year: Mapped[int | None] = mapped_column(SmallInteger)  # the checklist's quarter, for an item
    quarter: Mapped[int | None] = mapped_column(SmallInteger)
    bd_offset: Mapped[int | None] = mapped_column(SmallInteger)
    risk_id: Mapped[int | None] = mapped_column(ForeignKey("risks.id", ondelete="SET NULL"), index=True)
    checklist_item_id: Mapped[int | None] = mapped_column(ForeignKey("readiness_items.id", ondelete="SET NULL"),
                                                          index=True)

    owner: Mapped[User | None] = relationship()

    @property
    def quarter_code(self) -> str | None:
        if self.fiscal_year is None or self.quarter is None:
            return None
        return quarter_code(self.fiscal_year, self.quarter)
