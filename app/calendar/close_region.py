"""The close region: the zone whose dates decide the company's current quarter and BD0, and its business days.

Pure, like timeutil: no Flask, no config reads; `app.calendar.services.close_region()` builds it from the
configuration (CLOSE_TIME_ZONE and CLOSE_WINDOW_COUNTRY).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.timeutil import (BusinessCalendar, FiscalQuarter, business_day_offset, close_day, date_in,
                          fiscal_quarter_for, start_of_day, utcnow)

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class CloseRegion:
    """Where the quarter closes: the zone whose dates decide the current quarter and BD0, and its business days.

    Every company-wide close rule reads its dates here: the quarter readiness judges, BD0 and its end (when a
    quarter's readiness is frozen), the close window, close-freeze maintenance windows.
    """

    zone: str
    calendar: BusinessCalendar
    start_month: int  # fiscal year start month

    def today(self, at: datetime | None = None) -> date:
        """The close region's date at `at` (default now)."""
        return date_in(utcnow() if at is None else at, self.zone)

    def quarter_at(self, at: datetime | None = None) -> FiscalQuarter:
        """The fiscal quarter the close region is in at `at` (default now)."""
        return fiscal_quarter_for(self.today(at), self.start_month)

    def close_day(self, quarter: FiscalQuarter) -> date:
        """BD0 of `quarter` on the close region's calendar."""
        return close_day(quarter, self.calendar)

    def business_day(self, quarter: FiscalQuarter, offset: int) -> date:
        """The date of BD<offset> of `quarter` on the close region's calendar."""
        return business_day_offset(quarter, offset, self.calendar)

    def span(self, quarter: FiscalQuarter, first_offset: int, last_offset: int) -> tuple[datetime, datetime]:
        """From the start of BD<first_offset> to the end of BD<last_offset>, local days of the close region.

        The end is exclusive: the instant the day after BD<last_offset> begins there.
        """
        first = self.business_day(quarter, first_offset)
        last = self.business_day(quarter, last_offset)
        return start_of_day(first, self.zone), start_of_day(last + _ONE_DAY, self.zone)

    def end_of_close_day(self, quarter: FiscalQuarter) -> datetime:
        """The instant BD0 of `quarter` ends in the close region: from then on the quarter is closed."""
        return start_of_day(self.close_day(quarter) + _ONE_DAY, self.zone)

    def spans_overlapping(self, first_offset: int, last_offset: int, start: datetime,
                          end: datetime) -> list[tuple[FiscalQuarter, datetime, datetime]]:
        """Every quarter's BD<first>..BD<last> span that overlaps [start, end), in order."""
        quarter = self.quarter_at(start).previous().previous()  # offsets reach at most ~60 business days back
        found = []
        for _ in range(400):
            opens, closes = self.span(quarter, first_offset, last_offset)
            if opens >= end:
                break
            if closes > start:
                found.append((quarter, opens, closes))
            quarter = quarter.next()
        return found
