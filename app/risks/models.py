"""The risk register: risks, their mitigation actions, score history, comments, links and the register's settings.

A risk's `level` (from its residual score) and `inherent_level` are stored, not computed on read, so the register
filters and sorts by them in SQL; they are rewritten whenever a score or the grid changes. Every change of score,
level or status closes the risk's current RiskScore row and opens a new one: the rows are the periods a risk spent
in each state, which is what the trend and "score changed since the last review" read.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Numeric, SmallInteger, String,
                        Text, Time, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import Audited
from app.auth.models import User
from app.database import UTCDateTime, value_enum
from app.extensions import db
from app.timeutil import quarter_label, utcnow


class RiskCategory(enum.StrEnum):
    CAPACITY = "capacity"
    OUTAGE = "outage"
    SINGLE_POINT_OF_FAILURE = "single_point_of_failure"
    DATA = "data"
    VENDOR = "vendor"
    LINEARITY = "linearity"
    PIPELINE_DEAL = "pipeline_deal"
    DEFECT = "defect"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class RiskSource(enum.StrEnum):
    PEOPLE = "people"
    PROCESS = "process"
    TECHNOLOGY = "technology"
    EXTERNAL = "external"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return LEVEL_ORDER.index(self)

    @property
    def label(self) -> str:
        return self.value.capitalize()


LEVEL_ORDER = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL)


class RiskStatus(enum.StrEnum):
    OPEN = "open"
    MITIGATING = "mitigating"
    MITIGATED = "mitigated"
    CLOSED = "closed"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# Not closed: on the heat map, in the trend and in the weekly review.
LIVE_STATUSES = (RiskStatus.OPEN, RiskStatus.MITIGATING, RiskStatus.MITIGATED, RiskStatus.ACCEPTED)
# Reviewed by cadence and chased when stale; an accepted risk waits for its expiry instead.
WORKED_STATUSES = (RiskStatus.OPEN, RiskStatus.MITIGATING, RiskStatus.MITIGATED)


class ActionStatus(enum.StrEnum):
    TO_DO = "todo"  # a status (to do, doing, done), stored as "todo"
    DOING = "doing"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return {"todo": "To do", "doing": "Doing", "done": "Done", "dropped": "Dropped"}[self.value]


PENDING_ACTION_STATUSES = (ActionStatus.TO_DO, ActionStatus.DOING)

_SCORES = ("inherent_likelihood", "inherent_impact", "likelihood", "impact")


def _score_checks(prefix: str = "") -> tuple[CheckConstraint, ...]:
    return tuple(CheckConstraint(f"{column} >= 1 AND {column} <= 5", name=f"{prefix}{column}_range")
                 for column in _SCORES)


class Risk(Audited, db.Model):
    """Something that could stop the quarter closing cleanly. Likelihood and impact without a prefix are residual."""

    __tablename__ = "risks"
    __table_args__ = (
        *_score_checks(),
        CheckConstraint("quarter >= 1 AND quarter <= 4", name="quarter_range"),
        CheckConstraint("exposure IS NULL OR exposure >= 0", name="exposure_positive"),
        # An acceptance is never without its approver, reason and expiry, and the owner never approves it.
        CheckConstraint("status <> 'accepted' OR (accepted_by_id IS NOT NULL AND acceptance_expires_on IS NOT NULL "
                        "AND acceptance_reason <> '')", name="acceptance_complete"),
        CheckConstraint("accepted_by_id IS NULL OR owner_id IS NULL OR accepted_by_id <> owner_id",
                        name="approver_not_owner"),
        CheckConstraint("status <> 'closed' OR close_reason <> ''", name="close_reason_given"),
        Index("ix_risks_status_level", "status", "level"),
        Index("ix_risks_score", "likelihood", "impact"),
        Index("ix_risks_quarter", "fiscal_year", "quarter"),  # the register's quarter filter
        Index("ix_risks_title_id", "title", "id"),  # the register's title sort, in keyset order
    )
    # Bookkeeping that changes with every touch; the trail already shows what changed.
    __audit_ignore__ = frozenset({"updated_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[RiskCategory] = mapped_column(value_enum(RiskCategory, "risk_category", 24), index=True)
    source: Mapped[RiskSource] = mapped_column(value_enum(RiskSource, "risk_source", 24))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The fiscal quarter whose close it threatens.
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    exposure: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # amount of the close at risk
    inherent_likelihood: Mapped[int] = mapped_column(SmallInteger)
    inherent_impact: Mapped[int] = mapped_column(SmallInteger)
    likelihood: Mapped[int] = mapped_column(SmallInteger)  # residual: after the mitigations in place
    impact: Mapped[int] = mapped_column(SmallInteger)
    inherent_level: Mapped[RiskLevel] = mapped_column(value_enum(RiskLevel, "risk_inherent_level", 24))
    level: Mapped[RiskLevel] = mapped_column(value_enum(RiskLevel, "risk_level", 24), index=True)
    status: Mapped[RiskStatus] = mapped_column(value_enum(RiskStatus, "risk_status", 24), default=RiskStatus.OPEN)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acceptance_reason: Mapped[str] = mapped_column(Text, default="")
    acceptance_expires_on: Mapped[date | None] = mapped_column(Date(), index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_review_on: Mapped[date | None] = mapped_column(Date(), index=True)  # None while closed or accepted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    actions: Mapped[list[RiskAction]] = relationship(
        back_populates="risk", order_by="RiskAction.due_on, RiskAction.id", cascade="all, delete-orphan",
        passive_deletes=True)
    links: Mapped[list[RiskLink]] = relationship(back_populates="risk", order_by="RiskLink.id",
                                                 cascade="all, delete-orphan", passive_deletes=True)

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def inherent_score(self) -> int:
        return self.inherent_likelihood * self.inherent_impact

    @property
    def quarter_label(self) -> str:
        return quarter_label(self.fiscal_year, self.quarter)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def audit_label(self) -> str:
        return f"R-{self.id} {self.title}" if self.id else self.title


class RiskAction(Audited, db.Model):
    """A mitigation step: who does what by when."""

    __tablename__ = "risk_actions"
    __table_args__ = (CheckConstraint("status <> 'dropped' OR drop_reason <> ''", name="drop_reason_given"),
                      Index("ix_risk_actions_status_due", "status", "due_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[date] = mapped_column(Date())
    status: Mapped[ActionStatus] = mapped_column(value_enum(ActionStatus, "risk_action_status", 24), default=ActionStatus.TO_DO)
    drop_reason: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    risk: Mapped[Risk] = relationship(back_populates="actions")
    owner: Mapped[User | None] = relationship()

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_ACTION_STATUSES

    def audit_label(self) -> str:
        text = self.description if len(self.description) <= 60 else self.description[:57] + "..."
        return f"R-{self.risk_id} action: {text}"


class RiskScore(db.Model):
    """One period of a risk's history: its scores, level and status from `valid_from` until `valid_to` (open: now)."""

    __tablename__ = "risk_scores"
    __table_args__ = (*_score_checks(), Index("ix_risk_scores_risk_from", "risk_id", "valid_from"),
                      CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period_order"))

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    inherent_likelihood: Mapped[int] = mapped_column(SmallInteger)
    inherent_impact: Mapped[int] = mapped_column(SmallInteger)
    likelihood: Mapped[int] = mapped_column(SmallInteger)
    impact: Mapped[int] = mapped_column(SmallInteger)
    level: Mapped[RiskLevel] = mapped_column(value_enum(RiskLevel, "risk_score_level", 24))
    status: Mapped[RiskStatus] = mapped_column(value_enum(RiskStatus, "risk_score_status", 24))
    # True when a likelihood or impact changed (not only the status, or the level through a grid edit).
    score_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    cause: Mapped[str] = mapped_column(String(16))  # created | edit | status | review | import | grid
    actor_label: Mapped[str] = mapped_column(String(200), default="")

    @property
    def score(self) -> int:
        return self.likelihood * self.impact


class RiskTrendPoint(db.Model):
    """Live risks of one level at one past week boundary, for the register's trend.

    Computed from the score history the first time a page needs it, then kept: the past periods it counts never
    change (changes open new periods now), so the trend costs the same whatever the size of the history.
    """

    __tablename__ = "risk_trend_points"
    __table_args__ = (UniqueConstraint("at", "level"), CheckConstraint("count >= 0", name="count_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    level: Mapped[RiskLevel] = mapped_column(value_enum(RiskLevel, "risk_trend_level", 24))
    count: Mapped[int] = mapped_column()


class RiskComment(db.Model):
    """A dated note on a risk; the author's name is kept as text so it survives the account."""

    __tablename__ = "risk_comments"
    __table_args__ = (Index("ix_risk_comments_risk_created", "risk_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RiskLink(Audited, db.Model):
    """A link to something the risk is about (an app, a job, a vendor), by kind and id, with its name at the time."""

    __tablename__ = "risk_links"
    __table_args__ = (CheckConstraint("kind IN ('app', 'job', 'vendor')", name="kind_known"),
                      UniqueConstraint("risk_id", "kind", "target_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(200))

    risk: Mapped[Risk] = relationship(back_populates="links")

    def audit_label(self) -> str:
        return f"R-{self.risk_id} link {self.kind}: {self.label}"


class RiskSettings(Audited, db.Model):
    """The register's rules an administrator can change: the level grid, review cadence and the review's slot.

    One row (id 1), created with the defaults on first use.
    """

    __tablename__ = "risk_settings"
    __table_args__ = (
        *(CheckConstraint(f"cadence_{level.value}_days >= 1 AND cadence_{level.value}_days <= 366",
                          name=f"cadence_{level.value}_range") for level in LEVEL_ORDER),
        CheckConstraint("review_weekday >= 0 AND review_weekday <= 6", name="weekday_range"),
        CheckConstraint("stale_days >= 1 AND stale_days <= 365", name="stale_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # grid[likelihood - 1][impact - 1] is a level name.
    grid: Mapped[list[list[str]]] = mapped_column(JSON)
    cadence_critical_days: Mapped[int] = mapped_column(SmallInteger)
    cadence_high_days: Mapped[int] = mapped_column(SmallInteger)
    cadence_medium_days: Mapped[int] = mapped_column(SmallInteger)
    cadence_low_days: Mapped[int] = mapped_column(SmallInteger)
    stale_days: Mapped[int] = mapped_column(SmallInteger)
    review_weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 Monday .. 6 Sunday
    review_time: Mapped[time] = mapped_column(Time())
    review_zone: Mapped[str] = mapped_column(String(64))

    def cadence_days(self, level: RiskLevel) -> int:
        return getattr(self, f"cadence_{RiskLevel(level).value}_days")

    def audit_label(self) -> str:
        return "risk register settings"
