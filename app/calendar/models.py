"""Regions: where people work, their business hours and public holidays."""
from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache

from sqlalchemy import CheckConstraint, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.models import Audited
from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import BusinessCalendar, utcnow


@lru_cache(maxsize=64)
def business_calendar(country: str | None, subdivision: str | None) -> BusinessCalendar:
    """Holiday tables are costly to build; one per country and subdivision is enough."""
    return BusinessCalendar(country, subdivision)


class Region(Audited, db.Model):
    __tablename__ = "regions"
    __table_args__ = (CheckConstraint("business_start < business_end", name="business_hours_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    business_start: Mapped[time] = mapped_column(Time())
    business_end: Mapped[time] = mapped_column(Time())
    holiday_country: Mapped[str | None] = mapped_column(String(2))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def calendar(self) -> BusinessCalendar:
        return business_calendar(self.holiday_country, self.holiday_subdivision)

    @property
    def business_hours(self) -> str:
        return f"{self.business_start:%H:%M}–{self.business_end:%H:%M}"
