"""Quarter-close readiness: checklist templates, each quarter's checklist, lessons learned, daily snapshots."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.alerting.models import OutboundMessage
from app.audit.models import Audited
from app.auth.models import User
from app.calendar.models import Region
from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow


class Track(enum.StrEnum):
    RISKS = "risks"
    JOBS = "jobs"
    VENDORS = "vendors"
    DRTEST = "drtest"
    PEOPLE = "people"
    CHECKLIST = "checklist"
    LESSONS = "lessons"
    RUNBOOKS = "runbooks"
    INCIDENTS = "incidents"  # assessed by the incidents domain, which registers its assessor (providers.py)

    @property
    def label(self) -> str:
        return TRACK_LABELS[self]


TRACK_LABELS = {Track.RISKS: "Risks", Track.JOBS: "Critical jobs", Track.VENDORS: "Vendors",
                Track.DRTEST: "DR test", Track.PEOPLE: "People and contacts", Track.CHECKLIST: "Checklist",
                Track.LESSONS: "Lessons learned", Track.RUNBOOKS: "Runbooks", Track.INCIDENTS: "Incidents"}
TRACK_VALUES = tuple(track.value for track in Track)


class ItemStatus(enum.StrEnum):
    TO_DO = "todo"  # a status (to do, doing, done), stored as "todo"
    DOING = "doing"
    DONE = "done"
    NOT_APPLICABLE = "na"

    @property
    def label(self) -> str:
        return {"todo": "To do", "doing": "Doing", "done": "Done", "na": "Not applicable"}[self.value]

    @property
    def is_open(self) -> bool:
        return self in (ItemStatus.TO_DO, ItemStatus.DOING)


OPEN_ITEM_STATUSES = (ItemStatus.TO_DO.value, ItemStatus.DOING.value)


def _owner_check() -> CheckConstraint:
    # An item is owned by a person or a role (or both: the role says who covers when the person is away).
    return CheckConstraint("owner_id IS NOT NULL OR owner_role <> ''", name="has_owner")


class ChecklistTemplateItem(Audited, db.Model):
    """One line of the readiness template; copied into each quarter's checklist when that quarter starts."""

    __tablename__ = "readiness_template_items"
    __table_args__ = (CheckConstraint("bd_offset >= -120 AND bd_offset <= 60", name="bd_offset_range"),
                      _owner_check())

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    track: Mapped[str] = mapped_column(String(12))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    owner_role: Mapped[str] = mapped_column(String(80), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="SET NULL"))
    bd_offset: Mapped[int] = mapped_column(SmallInteger)
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # retired lines stay for the history
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User | None] = relationship()
    region: Mapped[Region | None] = relationship()

    def audit_label(self) -> str:
        return self.title


class ReadinessQuarter(db.Model):
    """A fiscal quarter whose checklist exists; its unique key makes instantiation happen once."""

    __tablename__ = "readiness_quarters"
    __table_args__ = (UniqueConstraint("fiscal_year", "quarter"),
                      CheckConstraint("quarter >= 1 AND quarter <= 4", name="quarter_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    instantiated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    instantiated_by: Mapped[str] = mapped_column(String(120), default="")


class Lesson(Audited, db.Model):
    """A lesson learned at a close, carried into the target quarter's checklist until its item is done."""

    __tablename__ = "readiness_lessons"
    __table_args__ = (CheckConstraint("status IN ('open', 'closed')", name="status"),
                      CheckConstraint("target_quarter >= 1 AND target_quarter <= 4", name="target_quarter_range"),
                      CheckConstraint("from_quarter >= 1 AND from_quarter <= 4", name="from_quarter_range"),
                      # The lessons page's order (open first, latest target first); serves "open lessons" too.
                      Index("ix_readiness_lessons_order", "status", "target_fiscal_year", "target_quarter", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    recommendation: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    from_fiscal_year: Mapped[int] = mapped_column(SmallInteger)  # the close it was learned at
    from_quarter: Mapped[int] = mapped_column(SmallInteger)
    target_fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    target_quarter: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(8), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def audit_label(self) -> str:
        return self.title


class ChecklistItem(Audited, db.Model):
    """One item of one quarter's checklist: a copy of a template line (or a carried lesson) with a due date."""

    __tablename__ = "readiness_items"
    __table_args__ = (
        UniqueConstraint("fiscal_year", "quarter", "template_item_id"),
        UniqueConstraint("fiscal_year", "quarter", "lesson_id"),
        CheckConstraint("status IN ('todo', 'doing', 'done', 'na')", name="status"),
        CheckConstraint("status <> 'done' OR done_at IS NOT NULL", name="done_has_time"),
        CheckConstraint("status <> 'na' OR na_reason <> ''", name="na_has_reason"),
        CheckConstraint("quarter >= 1 AND quarter <= 4", name="quarter_range"),
        _owner_check(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger, index=True)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    template_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("readiness_template_items.id", ondelete="SET NULL"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("readiness_lessons.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    track: Mapped[str] = mapped_column(String(12))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    owner_role: Mapped[str] = mapped_column(String(80), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="SET NULL"))
    bd_offset: Mapped[int] = mapped_column(SmallInteger)
    due_on: Mapped[date] = mapped_column(Date())  # BD<offset> in the owner's region, fixed when instantiated
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default=ItemStatus.TO_DO.value)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evidence: Mapped[str] = mapped_column(Text, default="")  # a note or a link
    na_reason: Mapped[str] = mapped_column(Text, default="")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_outcome: Mapped[str | None] = mapped_column(String(12))  # queued | no_owner | no_method (sent/failed: older rows)
    reminder_message_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])
    region: Mapped[Region | None] = relationship()
    lesson: Mapped[Lesson | None] = relationship()
    reminder_message: Mapped[OutboundMessage | None] = relationship(
        primaryjoin="foreign(ChecklistItem.reminder_message_id) == OutboundMessage.id", viewonly=True,
        lazy="selectin")

    @property
    def reminder_delivery(self) -> str | None:
        """What became of the overdue reminder, in words: the outbox message's status once queued."""
        if self.reminder_outcome == "queued" and self.reminder_message is not None:
            return self.reminder_message.status
        return self.reminder_outcome.replace("_", " ") if self.reminder_outcome else None

    @property
    def item_status(self) -> ItemStatus:
        return ItemStatus(self.status)

    @property
    def owner_label(self) -> str:
        if self.owner is not None:
            return self.owner.name + (f" ({self.owner_role})" if self.owner_role else "")
        return self.owner_role

    def audit_label(self) -> str:
        return self.title


class ReadinessSnapshot(db.Model):
    """The readiness score and every track's score on one day; one row per day (the trend)."""

    __tablename__ = "readiness_snapshots"
    __table_args__ = (UniqueConstraint("day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date())
    fiscal_year: Mapped[int] = mapped_column(SmallInteger, index=True)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[int] = mapped_column(SmallInteger)
    colour: Mapped[str] = mapped_column(String(6))
    tracks: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"risks": 80, ...}; null for a track not tracked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReadinessFrozenQuarter(db.Model):
    """A closed quarter's readiness as it stood at the end of its BD0 (in the close region), kept for good.

    The page for that quarter shows this, not a recomputation from today's data: `detail` holds every track with
    its score, colour, note and reasons, the gates and the top risks, as they were.
    """

    __tablename__ = "readiness_frozen_quarters"
    __table_args__ = (UniqueConstraint("fiscal_year", "quarter"),
                      CheckConstraint("quarter >= 1 AND quarter <= 4", name="quarter_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    close_day: Mapped[date] = mapped_column(Date())  # BD0 on the close region's calendar
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())  # the end of BD0 in the close region
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # when the scheduler stored it
    score: Mapped[int | None] = mapped_column(SmallInteger)
    colour: Mapped[str] = mapped_column(String(6))
    score_colour: Mapped[str] = mapped_column(String(6))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
