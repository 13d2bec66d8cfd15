"""The weekly risk review: one per week, its agenda items and decisions, who attended, and the messages it sent.

`week_key` is unique, so a week cannot have two reviews even when two schedulers build it at the same moment.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, Text, \
    UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.alerting.models import OutboundMessage
from app.audit.models import Audited
from app.auth.models import User
from app.database import UTCDateTime, value_enum
from app.extensions import db
from app.risks.models import Risk
from app.timeutil import utcnow


class ReviewStatus(enum.StrEnum):
    PLANNED = "planned"  # agenda built, meeting not started
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"  # minutes are final

    @property
    def label(self) -> str:
        return {"planned": "Planned", "in_progress": "In progress", "finished": "Finished"}[self.value]


class Decision(enum.StrEnum):
    KEEP = "keep"
    CHANGE_SCORE = "change_score"
    ADD_ACTION = "add_action"
    ACCEPT = "accept"
    CLOSE = "close"
    ESCALATE = "escalate"

    @property
    def label(self) -> str:
        return DECISION_LABELS[self]


DECISION_LABELS = {Decision.KEEP: "Keep as is", Decision.CHANGE_SCORE: "Change the score",
                   Decision.ADD_ACTION: "Add an action", Decision.ACCEPT: "Accept",
                   Decision.CLOSE: "Close", Decision.ESCALATE: "Escalate"}
DECISIONS = tuple(d.value for d in Decision)


class RiskReview(Audited, db.Model):
    __tablename__ = "risk_reviews"
    __table_args__ = (CheckConstraint("finished_at IS NULL OR status = 'finished'", name="finished_when_done"),)
    __audit_ignore__ = frozenset({"pre_read_sent_at", "reminders_sent_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    week_key: Mapped[str] = mapped_column(String(8), unique=True)  # ISO week of the meeting, e.g. 2026-W47
    week_start: Mapped[date] = mapped_column(Date(), index=True)  # its Monday
    meeting_on: Mapped[date] = mapped_column(Date())
    # The agenda covers what happened in (since, built_at]: since is the previous review's built_at.
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    built_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    built_by: Mapped[str] = mapped_column(String(200), default="scheduler")
    status: Mapped[ReviewStatus] = mapped_column(value_enum(ReviewStatus, "risk_review_status", 16),
                                                 default=ReviewStatus.PLANNED)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chaired_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(Text, default="")
    pre_read_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminders_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[ReviewItem]] = relationship(back_populates="review", order_by="ReviewItem.position",
                                                   cascade="all, delete-orphan", passive_deletes=True)
    attendees: Mapped[list[ReviewAttendee]] = relationship(order_by="ReviewAttendee.name",
                                                           cascade="all, delete-orphan", passive_deletes=True)
    chaired_by: Mapped[User | None] = relationship()

    @property
    def title(self) -> str:
        return f"Risk review {self.week_key}"

    def audit_label(self) -> str:
        return self.title


class ReviewItem(db.Model):
    """One risk on one agenda: why it is there, what it looked like then, and what the meeting decided (one or
    more decisions: accept the risk and add an action, say)."""

    __tablename__ = "risk_review_items"
    __table_args__ = (UniqueConstraint("review_id", "risk_id"), UniqueConstraint("review_id", "position"),
                      Index("ix_risk_review_items_risk", "risk_id", "review_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("risk_reviews.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    # The risk as the agenda saw it (title, level, scores, owner, the actions that put it there), so the agenda
    # and the minutes read the same later, whatever happens to the risk.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    review: Mapped[RiskReview] = relationship(back_populates="items")
    risk: Mapped[Risk] = relationship()
    decisions: Mapped[list[ReviewDecision]] = relationship(
        back_populates="item", order_by="ReviewDecision.id", cascade="all, delete-orphan", passive_deletes=True,
        lazy="selectin")

    @property
    def decided(self) -> bool:
        return bool(self.decisions)

    @property
    def decision_values(self) -> list[str]:
        return [decision.decision for decision in self.decisions]

    @property
    def decision_label(self) -> str:
        """"Accept; Add an action", or "Not discussed"."""
        return "; ".join(decision.label for decision in self.decisions) or "Not discussed"

    @property
    def outcome(self) -> str:
        """What the decisions changed, in words, one after the other."""
        return " ".join(decision.outcome for decision in self.decisions if decision.outcome)

    @property
    def notes(self) -> str:
        return " / ".join(decision.note for decision in self.decisions if decision.note)


class ReviewDecision(db.Model):
    """One decision the meeting took on an agenda item; an item can take several (each also on the risk's history).

    The same decision twice on one item is refused by the database (a double click, two people at once), except
    adding an action: a meeting may add several.
    """

    __tablename__ = "risk_review_decisions"
    __table_args__ = (CheckConstraint(f"decision IN {DECISIONS!r}", name="decision_known"),
                      Index("uq_risk_review_decisions_item_decision", "item_id", "decision", unique=True,
                            sqlite_where=text("decision <> 'add_action'"),
                            postgresql_where=text("decision <> 'add_action'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("risk_review_items.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")  # what the decision changed, in words
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_name: Mapped[str] = mapped_column(String(120), default="")

    item: Mapped[ReviewItem] = relationship(back_populates="decisions")

    @property
    def label(self) -> str:
        return Decision(self.decision).label


class ReviewAttendee(db.Model):
    __tablename__ = "risk_review_attendees"
    __table_args__ = (UniqueConstraint("review_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("risk_reviews.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120))  # kept as text: the minutes outlive accounts


class ReviewMessage(db.Model):
    """A pre-read or a reminder for one person and one review: sent once, with its outcome."""

    __tablename__ = "risk_review_messages"
    __table_args__ = (UniqueConstraint("review_id", "user_id", "purpose"),
                      CheckConstraint("purpose IN ('pre_read', 'reminder')", name="purpose_known"))

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("risk_reviews.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(16))
    # pending (queued in the outbox) | failed (nobody to send it to); the outbox message says the rest
    status: Mapped[str] = mapped_column(String(12), default="pending")
    error: Mapped[str] = mapped_column(String(500), default="")
    detail: Mapped[str] = mapped_column(Text, default="")  # e.g. the overdue actions a reminder listed
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    message: Mapped[OutboundMessage | None] = relationship(lazy="joined")

    @property
    def outcome(self) -> str:
        """What became of it: the outbox message's status (pending, sending, sent, delivered, failed)."""
        return self.message.status if self.message is not None else self.status

    @property
    def outcome_error(self) -> str:
        return (self.message.last_error or "") if self.message is not None else self.error
