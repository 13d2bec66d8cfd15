"""Regions and the fiscal calendar as the rest of Quarterdeck sees it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.calendar.models import Region, business_calendar
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.calendar.close_region import CloseRegion
from app.timeutil import (BusinessCalendar, FiscalQuarter, business_day_offset, close_day,
                          date_in, fiscal_quarter_for, format_bd_offset, is_valid_zone, today_in,
                          utcnow)

# The milestones every readiness plan is built around (PRODUCT.md, quarter-close readiness).
MILESTONE_OFFSETS = (-30, -20, -10, -5, 0, 10)


def fiscal_start_month() -> int:
    return int(current_app.config["FISCAL_YEAR_START_MONTH"])


def quarter_for(day: date) -> FiscalQuarter:
    """The fiscal quarter containing `day` under the configured fiscal year start."""
    return fiscal_quarter_for(day, fiscal_start_month())


def close_region() -> CloseRegion:
    """The close region: CLOSE_TIME_ZONE's dates and CLOSE_WINDOW_COUNTRY's business days (weekends only when unset).

    The current quarter, BD0, the close window and the moment a quarter's readiness freezes are read here.
    """
    config = current_app.config
    return CloseRegion(zone=config["CLOSE_TIME_ZONE"],
                       calendar=business_calendar(config["CLOSE_WINDOW_COUNTRY"] or None, None),
                       start_month=fiscal_start_month())


def current_quarter() -> FiscalQuarter:
    """The quarter the company is in now: by the close region's date."""
    return close_region().quarter_at()


# --- a person's own dates ------------------------------------------------------------------------------------------

def person_zone(person: User | None) -> str:
    """Where a person's dates are read: their region's zone, else their own zone, else the close region's."""
    if person is not None and person.region is not None:
        return person.region.time_zone
    if person is not None:
        return person.time_zone
    return close_region().zone


def person_calendar(person: User | None) -> BusinessCalendar:
    """A person's business days: their region's (with its holidays), else the close region's."""
    if person is not None and person.region is not None:
        return person.region.calendar
    return close_region().calendar


def person_today(person: User | None) -> date:
    """Today's date where the person works (their region's zone, else their own)."""
    return today_in(person_zone(person))


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


def region_today(region: Region, at: datetime | None = None) -> date:
    """The region's own date at `at` (default now): business days left are counted from there."""
    return date_in(utcnow() if at is None else at, region.time_zone)


def quarter_overview(quarter: FiscalQuarter, at: datetime | None = None, *, on: date | None = None
                     ) -> list[RegionClose]:
    """The close of `quarter` seen from every region, each counting from its own date at `at` (default now), or
    from the date `on` for all of them (a what-if).

    The home page and the readiness page both call this, so they agree at every hour in every zone.
    """
    return [region_close(region, quarter, on or region_today(region, at)) for region in list_regions()]


def own_close(person: User, quarter: FiscalQuarter, at: datetime | None = None) -> RegionClose | None:
    """The close of `quarter` in the person's region, counted from the region's own date; None without one."""
    region = person.region
    return region_close(region, quarter, region_today(region, at)) if region is not None else None
