"""Clock, time-zone, fiscal-quarter and business-day helpers for Quarterdeck.

Pure module: no Flask, no config reads. Callers pass zone names, fiscal start
months and holiday regions in explicitly, which keeps everything here easy to test.
"""

from __future__ import annotations

import re
import threading
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import holidays

UTC = timezone.utc

_ONE_DAY = timedelta(days=1)


def utcnow() -> datetime:
    """Return the current instant as an aware UTC datetime.

    This is the only function in the project that reads the clock, so tests can
    move time for everything at once with time-machine.
    """
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # Scanning the zone database takes ~50 ms; the set cannot change while we run.
    return frozenset(available_timezones())


def is_valid_zone(name: str) -> bool:
    """True if `name` is an IANA zone known to zoneinfo; never raises."""
    # Membership in the official list (rather than "does ZoneInfo(name) load")
    # rejects path tricks and non-zone files such as "posixrules" outright.
    return isinstance(name, str) and name in _known_zones()


def _zone(name: str) -> ZoneInfo:
    if not is_valid_zone(name):
        raise ValueError(f"unknown time zone {name!r}; expected an IANA name like 'Europe/London'")
    return ZoneInfo(name)


def today_in(zone: str) -> date:
    """The current calendar date in IANA `zone`; ValueError for an unknown zone."""
    return utcnow().astimezone(_zone(zone)).date()


def date_in(at: datetime, zone: str) -> date:
    """The calendar date in IANA `zone` at instant `at` (naive `at` is taken as UTC)."""
    return to_zone(at, zone).date()


def wall_clock_to_utc(day: date, wall: time, zone: str) -> datetime:
    """The aware UTC instant at which clocks in IANA `zone` show `wall` on `day`.

    The project's one DST rule, for hand-offs, schedule windows, the review slot, cron slots, maintenance
    windows and reminders alike: a time the clocks skip (spring forward: 02:30 on 2027-03-14 in Los Angeles)
    happens at the instant the clocks jump (10:00 UTC); a time that happens twice (fall back: 01:30 on
    2026-11-01 in Los Angeles) happens at its first occurrence (08:30 UTC). ValueError for an unknown zone or
    a `wall` that carries its own tzinfo.
    """
    if wall.tzinfo is not None:
        raise ValueError("wall_clock_to_utc takes a wall-clock time without tzinfo; the zone says where")
    tz = _zone(zone)
    local = datetime.combine(day, wall)
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == local:
        return first  # it exists (fold=0 is the first occurrence when it exists twice)
    # In a gap: fold=1 reads it with the offset after the change (an instant before the jump), fold=0 with the
    # offset before it (an instant after). The jump lies between; find its exact second.
    low, high = local.replace(tzinfo=tz, fold=1).astimezone(UTC), first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) > local:
            high = middle
        else:
            low = middle
    whole = high.replace(microsecond=0)  # zone changes happen on whole seconds
    return whole if whole > low else high


def instant_from_local(local: datetime, zone: str) -> datetime:
    """A naive wall-clock date and time in IANA `zone` as an aware UTC instant, by wall_clock_to_utc's rule."""
    return wall_clock_to_utc(local.date(), local.time().replace(tzinfo=None), zone)


def start_of_day(day: date, zone: str) -> datetime:
    """The UTC instant `day` begins in IANA `zone` (00:00 there, or when the clocks reach the day)."""
    return wall_clock_to_utc(day, time(0), zone)


def zone_place(zone: str) -> str:
    """The place part of an IANA name, for people: "America/Los_Angeles" -> "Los Angeles"."""
    if zone in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal"):
        return ""
    if zone.startswith("Etc/"):
        return zone  # "Etc/GMT+5" has no place to name; its own name is the clearest
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def utc_offset_label(offset: timedelta | None, *, plain: bool = False) -> str:
    """"UTC", "UTC+8", "UTC−8", "UTC+5:30": a real minus sign, or with `plain` an ASCII hyphen (SMS is GSM-7)."""
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes > 0 else ("-" if plain else "\u2212")
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(zone: str, at: datetime | None = None, *, plain: bool = False) -> str:
    """A zone as people read it: its UTC offset at `at` (default now) and its place, e.g. "UTC−8, Los Angeles"
    (with `plain`, ASCII only: "UTC-8, Los Angeles", for messages).

    Never a %Z abbreviation: "PST" is both Pacific Standard Time and Philippine Standard Time.
    """
    moment = utcnow() if at is None else as_utc(at)
    offset = utc_offset_label(moment.astimezone(_zone(zone)).utcoffset(), plain=plain)
    place = zone_place(zone)
    return f"{offset}, {place}" if place else offset


def format_in_zone(value: datetime, zone: str, fmt: str, *, plain: bool = False) -> str:
    """`value` shown in IANA `zone` with strftime `fmt`, where %Z names the zone by offset and place ("UTC−8, Los
    Angeles"; ASCII with `plain`), never by an abbreviation: "PST" is both Los Angeles and Manila."""
    if "%Z" in fmt:
        fmt = fmt.replace("%Z", zone_label(zone, value, plain=plain).replace("%", "%%"))
    return to_zone(value, zone).strftime(fmt)


def as_utc(dt: datetime) -> datetime:
    """Return `dt` as an aware UTC datetime; a naive value is taken to already be UTC."""
    # The app stores UTC everywhere; naive values (e.g. read back from SQLite,
    # which drops tzinfo) can therefore only mean UTC.
    if dt.tzinfo is None or dt.utcoffset() is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_zone(dt: datetime, zone: str) -> datetime:
    """The same instant as `dt` shown in IANA `zone` (naive `dt` is treated as UTC)."""
    return as_utc(dt).astimezone(_zone(zone))


def _check_start_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal start month must be 1..12, got {start_month!r}")


def _quarter_bounds(fiscal_year: int, quarter: int, start_month: int) -> tuple[date, date]:
    _check_start_month(start_month)
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1..4, got {quarter!r}")
    # The fiscal year is named by the year it ends in, so unless it starts in
    # January it began in the previous calendar year.
    start_year = fiscal_year if start_month == 1 else fiscal_year - 1
    # Count months from year 0 so the year roll-over falls out of divmod.
    first_index = start_year * 12 + (start_month - 1) + 3 * (quarter - 1)
    last_index = first_index + 2
    first_year, first_month0 = divmod(first_index, 12)
    last_year, last_month0 = divmod(last_index, 12)
    last_dom = monthrange(last_year, last_month0 + 1)[1]
    return date(first_year, first_month0 + 1, 1), date(last_year, last_month0 + 1, last_dom)


def quarter_label(fiscal_year: int, quarter: int) -> str:
    """A quarter as people read it everywhere: "Q4 FY27" (two-digit fiscal year)."""
    return f"Q{quarter} FY{fiscal_year % 100:02d}"


def quarter_code(fiscal_year: int, quarter: int) -> str:
    """A quarter as URLs and the API name it: "FY27-Q4" (the readiness parse_quarter reads it back)."""
    return f"FY{fiscal_year % 100:02d}-Q{quarter}"


def quarter_key(quarter: FiscalQuarter) -> str:
    """A quarter in the keys of reminders already sent: "FY27Q4". Stored: changing it would send them again."""
    return f"FY{quarter.fiscal_year % 100:02d}Q{quarter.quarter}"


@dataclass(frozen=True)
class FiscalQuarter:
    """One fiscal quarter; build it with `fiscal_quarter` or `fiscal_quarter_for`."""

    fiscal_year: int  # named by the calendar year in which the fiscal year ends
    quarter: int  # 1..4
    first_day: date
    last_day: date  # the close date: calendar last day of the quarter
    start_month: int  # fiscal year start month (1..12) used to build it

    def __post_init__(self) -> None:
        # Guarantee the fields are mutually consistent even if constructed by hand.
        expected = _quarter_bounds(self.fiscal_year, self.quarter, self.start_month)
        if (self.first_day, self.last_day) != expected:
            raise ValueError(f"{self.label} with start month {self.start_month} spans {expected[0]}..{expected[1]}")

    @property
    def label(self) -> str:
        """Short display name such as "Q4 FY27" (two-digit fiscal year)."""
        return quarter_label(self.fiscal_year, self.quarter)

    def contains(self, d: date) -> bool:
        """True if `d` falls on or between the first and last day."""
        return self.first_day <= d <= self.last_day

    def next(self) -> FiscalQuarter:
        """The following quarter, rolling into the next fiscal year after Q4."""
        if self.quarter == 4:
            return fiscal_quarter(self.fiscal_year + 1, 1, self.start_month)
        return fiscal_quarter(self.fiscal_year, self.quarter + 1, self.start_month)

    def previous(self) -> FiscalQuarter:
        """The preceding quarter, rolling back into the prior fiscal year before Q1."""
        if self.quarter == 1:
            return fiscal_quarter(self.fiscal_year - 1, 4, self.start_month)
        return fiscal_quarter(self.fiscal_year, self.quarter - 1, self.start_month)


def fiscal_quarter(fiscal_year: int, quarter: int, start_month: int = 2) -> FiscalQuarter:
    """Build a quarter from its name; ValueError for quarter outside 1..4 or a bad start month."""
    first, last = _quarter_bounds(fiscal_year, quarter, start_month)
    return FiscalQuarter(fiscal_year, quarter, first, last, start_month)


def fiscal_quarter_for(d: date, start_month: int = 2) -> FiscalQuarter:
    """The fiscal quarter containing `d`; ValueError for start_month outside 1..12."""
    _check_start_month(start_month)
    months_in = (d.month - start_month) % 12  # months since the fiscal year began
    start_year = d.year if d.month >= start_month else d.year - 1
    fiscal_year = start_year if start_month == 1 else start_year + 1
    return fiscal_quarter(fiscal_year, months_in // 3 + 1, start_month)


class BusinessCalendar:
    """Which days are business days for a region: weekends + public holidays of a country (holidays package)."""

    def __init__(self, country: str | None = None, subdivision: str | None = None, weekend: tuple[int, ...] = (5, 6)):
        days = set(weekend)
        if not days <= set(range(7)) or len(days) == 7:
            # Seven weekend days would make every business-day search loop forever.
            raise ValueError(f"weekend must be weekday numbers 0..6 (Mon=0) leaving a working day, got {weekend!r}")
        self.weekend = frozenset(days)
        self.country = country.strip().upper() if country else None
        self.subdivision = subdivision
        self._holidays: holidays.HolidayBase | None = None
        # Lookups fill the holidays dict lazily; a shared calendar in a threaded server
        # must not iterate it while another request is adding a year.
        self._lock = threading.Lock()
        if self.country is None:
            if subdivision:
                raise ValueError("a holiday subdivision needs a country")
            return
        try:
            # No `years=`: the object starts empty and fills each year on first lookup.
            self._holidays = holidays.country_holidays(self.country, subdiv=subdivision)
        except NotImplementedError as exc:  # how the package reports unknown countries/subdivisions
            raise ValueError(f"unknown holiday region {self.country!r}/{subdivision!r}: {exc}") from exc

    def _load_years(self, first: int, last: int) -> None:
        # Point lookups expand years on their own, but iterating the object only
        # sees years already loaded, so touch each year of a range before listing it.
        assert self._holidays is not None
        for year in range(first, last + 1):
            if year not in self._holidays.years:
                _ = date(year, 1, 1) in self._holidays  # membership test triggers population

    def holiday_name(self, d: date) -> str | None:
        """The holiday name(s) on `d` ("; "-joined if several), or None."""
        if self._holidays is None:
            return None
        with self._lock:
            return self._holidays.get(d)

    def is_business_day(self, d: date) -> bool:
        """True unless `d` is a weekend day or a public holiday."""
        return d.weekday() not in self.weekend and self.holiday_name(d) is None

    def holidays_between(self, start: date, end: date) -> list[tuple[date, str]]:
        """Holidays with start <= date <= end, sorted by date; empty if end < start."""
        if self._holidays is None or end < start:
            return []
        with self._lock:
            self._load_years(start.year, end.year)
            return sorted((d, name) for d, name in self._holidays.items() if start <= d <= end)

    def business_days_between(self, start: date, end: date) -> int:
        """Count business days d with start < d <= end; negated if end < start, 0 if equal."""
        if end < start:
            return -self.business_days_between(end, start)
        # Whole weeks contribute a fixed number of working weekdays, so only the
        # leftover (< 7 days) and the holidays need looking at individually.
        weeks, extra = divmod((end - start).days, 7)
        count = weeks * (7 - len(self.weekend))
        count += sum((start + timedelta(days=i)).weekday() not in self.weekend for i in range(1, extra + 1))
        if start < end:
            # Holidays that fall on a weekend were never counted, so skip those.
            count -= sum(d.weekday() not in self.weekend for d, _ in self.holidays_between(start + _ONE_DAY, end))
        return count

    def add_business_days(self, d: date, n: int) -> date:
        """The n-th business day after `d` (n > 0) or before it (n < 0).

        n == 0 returns `d` if it is a business day, else the previous business day.
        """
        if n == 0:
            return self.last_business_day_on_or_before(d)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:  # O(|n|) days; offsets in a close calendar are small
            d += step
            if self.is_business_day(d):
                remaining -= 1
        return d

    def last_business_day_on_or_before(self, d: date) -> date:
        """`d` itself if it is a business day, otherwise the closest earlier business day."""
        while not self.is_business_day(d):
            d -= _ONE_DAY
        return d


MAX_BD_OFFSET = 999  # far beyond any real close calendar; bounds the day-stepping loops
_BD_PATTERN = re.compile(r"BD([+-]?)(\d{1,3})", re.IGNORECASE | re.ASCII)


def close_day(quarter: FiscalQuarter, calendar: BusinessCalendar) -> date:
    """BD0: the last business day on or before the quarter's last calendar day."""
    return calendar.last_business_day_on_or_before(quarter.last_day)


def business_day_offset(quarter: FiscalQuarter, offset: int, calendar: BusinessCalendar) -> date:
    """The date of BD<offset>: BD-5 is the 5th business day before BD0, BD+10 the 10th after."""
    return calendar.add_business_days(close_day(quarter, calendar), offset)


def parse_bd_offset(text: str) -> int:
    """Parse "BD0", "BD-5", "BD+10" (any case, outer whitespace ok; "BD5" == 5); ValueError otherwise."""
    if not isinstance(text, str):
        raise TypeError(f"BD offset must be a string, got {type(text).__name__}")
    match = _BD_PATTERN.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"invalid business-day offset {text!r}; expected e.g. 'BD0', 'BD-5' or 'BD+10' "
                         f"with at most {MAX_BD_OFFSET} days")
    sign, digits = match.groups()
    return -int(digits) if sign == "-" else int(digits)


def format_bd_offset(offset: int) -> str:
    """Canonical text for an offset: 0 -> "BD0", -5 -> "BD-5", 10 -> "BD+10"."""
    return "BD0" if offset == 0 else f"BD{offset:+d}"


def business_day_label(d: date, quarter: FiscalQuarter, calendar: BusinessCalendar) -> str:
    """The BD label of `d` relative to the quarter's BD0, e.g. "BD-3".

    A non-business day gets the label of the business day before it (a Saturday
    after BD-1 reads "BD-1"), so every date maps to exactly one label.
    """
    anchor = calendar.last_business_day_on_or_before(d)
    return format_bd_offset(calendar.business_days_between(close_day(quarter, calendar), anchor))
