"""Business continuity plans, their simulation tests, and alternate sites and operation rooms."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.models import Audited
from app.auth.models import User
from app.database import UTCDateTime, value_enum
from app.extensions import db


class SimulationResult(enum.StrEnum):
    PASSED = "passed"
    PASSED_WITH_ISSUES = "passed_with_issues"
    FAILED = "failed"


plan_sites = db.Table(
    "bc_plan_sites", db.metadata,
    db.Column("plan_id", ForeignKey("bc_plans.id", ondelete="CASCADE"), primary_key=True),
    db.Column("site_id", ForeignKey("bc_sites.id", ondelete="CASCADE"), primary_key=True))


class Site(Audited, db.Model):
    """An alternate site or operation room, with its last readiness check."""

    __tablename__ = "bc_sites"
    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    city: Mapped[str] = mapped_column(String(120), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    capacity: Mapped[int] = mapped_column(Integer, default=0)  # seats
    operation_room: Mapped[str] = mapped_column(Text, default="")  # room, bridge line, equipment, access
    last_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_check_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_check_notes: Mapped[str] = mapped_column(String(500), default="")

    last_check_by: Mapped[User | None] = relationship()

    def audit_label(self) -> str:
        return self.name


class ContinuityPlan(Audited, db.Model):
    """A business continuity plan (e.g. order fulfilment): who owns it, what it covers, where it runs from."""

    __tablename__ = "bc_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    teams: Mapped[str] = mapped_column(String(500), default="")
    review_due: Mapped[date | None] = mapped_column(Date)

    owner: Mapped[User | None] = relationship()
    sites: Mapped[list[Site]] = relationship(secondary=plan_sites, order_by="Site.name")
    tests: Mapped[list[SimulationTest]] = relationship(back_populates="plan", order_by="SimulationTest.held_on.desc()",
                                                       cascade="all, delete-orphan", passive_deletes=True)

    @property
    def last_test(self) -> SimulationTest | None:
        return self.tests[0] if self.tests else None

    def audit_label(self) -> str:
        return self.name


class SimulationTest(Audited, db.Model):
    __tablename__ = "bc_simulation_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("bc_plans.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    result: Mapped[SimulationResult] = mapped_column(value_enum(SimulationResult, "bc_simulation_result", 20))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    plan: Mapped[ContinuityPlan] = relationship(back_populates="tests")

    def audit_label(self) -> str:
        return f"simulation {self.held_on}"
