"""Regions and the fiscal calendar as the rest of Quarterdeck sees it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.calendar.models import Region, business_calendar
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.timeutil import (FiscalQuarter, business_day_offset, close_day, fiscal_quarter_for, format_bd_offset,
                          is_valid_zone, today_in)

# The milestones every readiness plan is built around (PRODUCT.md, quarter-close readiness).
MILESTONE_OFFSETS = (-30, -20, -10, -5, 0, 10)


def fiscal_start_month() -> int:
    return int(current_app.config["FISCAL_YEAR_START_MONTH"])


def quarter_for(day: date) -> FiscalQuarter:
    """The fiscal quarter containing `day` under the configured fiscal year start."""
    return fiscal_quarter_for(day, fiscal_start_month())


def current_quarter(zone: str = "UTC") -> FiscalQuarter:
    return quarter_for(today_in(zone))


def list_regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.name)))


def get_region(region_id: int) -> Region:
    region = db.session.get(Region, region_id)
    if region is None:
        raise NotFound("No such region.")
    return region


def _validate_region(*, name: str, time_zone: str, business_start: time, business_end: time,
                     holiday_country: str | None, holiday_subdivision: str | None, region_id: int | None) -> None:
    if not is_valid_zone(time_zone):
        raise Invalid("Unknown time zone; use an IANA name such as Asia/Manila.", "time_zone")
    if business_start >= business_end:
        raise Invalid("Business hours must end after they start.", "business_end")
    if holiday_subdivision and not holiday_country:
        raise Invalid("A subdivision needs a country.", "holiday_country")
    # The country alone first: an unknown country must be blamed on the country even when a subdivision is given.
    for field, subdivision in (("holiday_country", None), ("holiday_subdivision", holiday_subdivision)):
        try:
            business_calendar(holiday_country, subdivision)
        except ValueError as error:
            raise Invalid(str(error), field) from None
    clash = db.session.scalar(select(Region).where(Region.name == name))
    if clash is not None and clash.id != region_id:
        raise Conflict(f"A region named {name} already exists.", "name")


def _clean(code: str | None) -> str | None:
    return code.strip().upper() or None if code else None


def create_region(*, name: str, time_zone: str, business_start: time, business_end: time,
                  holiday_country: str | None = None, holiday_subdivision: str | None = None) -> Region:
    """Create a region; refuse an unknown zone or holiday country, inverted hours or a taken name."""
    name, country, subdivision = name.strip(), _clean(holiday_country), _clean(holiday_subdivision)
    _validate_region(name=name, time_zone=time_zone, business_start=business_start, business_end=business_end,
                     holiday_country=country, holiday_subdivision=subdivision, region_id=None)
    region = Region(name=name, time_zone=time_zone, business_start=business_start, business_end=business_end,
                    holiday_country=country, holiday_subdivision=subdivision)
    db.session.add(region)
    db.session.commit()
    return region


def update_region(region: Region, *, name: str, time_zone: str, business_start: time, business_end: time,
                  holiday_country: str | None = None, holiday_subdivision: str | None = None) -> Region:
    """Change a region under the same rules as create_region."""
    name, country, subdivision = name.strip(), _clean(holiday_country), _clean(holiday_subdivision)
    _validate_region(name=name, time_zone=time_zone, business_start=business_start, business_end=business_end,
                     holiday_country=country, holiday_subdivision=subdivision, region_id=region.id)
    region.name, region.time_zone = name, time_zone
    region.business_start, region.business_end = business_start, business_end
    region.holiday_country, region.holiday_subdivision = country, subdivision
    db.session.commit()
    return region


def delete_region(region: Region) -> None:
    """Delete a region; its people keep their accounts and lose the region (each change audited)."""
    for user in db.session.scalars(select(User).where(User.region_id == region.id)):
        user.region_id = None
    db.session.delete(region)
    db.session.commit()


@dataclass(frozen=True)
class RegionClose:
    region: Region
    close_day: date
    business_days_left: int
    milestones: list[tuple[str, date]]
    holidays: list[tuple[date, str]]


def region_close(region: Region, quarter: FiscalQuarter, today: date) -> RegionClose:
    """When the quarter closes for one region (BD0), how many business days remain, and its milestones."""
    calendar = region.calendar
    bd0 = close_day(quarter, calendar)
    milestones = [(format_bd_offset(offset), business_day_offset(quarter, offset, calendar))
                  for offset in MILESTONE_OFFSETS]
    return RegionClose(
        region=region,
        close_day=bd0,
        business_days_left=max(calendar.business_days_between(today, bd0), 0),
        milestones=milestones,
        holidays=calendar.holidays_between(quarter.first_day, quarter.last_day),
    )


def quarter_overview(quarter: FiscalQuarter, today: date) -> list[RegionClose]:
    """The close of `quarter` seen from every region."""
    return [region_close(region, quarter, today) for region in list_regions()]
