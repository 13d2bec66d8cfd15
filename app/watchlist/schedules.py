"""When a job is expected, and when its maintenance windows are: pure arithmetic, no database.

Rules, in words:
- An interval job is expected `interval` after its last successful ping (elapsed time: DST cannot move it).
- A cron job is expected at the slots of its expression (five fields, or a nickname such as @daily), read as
  wall-clock times in its own IANA zone and turned into instants by `timeutil.wall_clock_to_utc`, the project's
  one DST rule: a slot that does not exist (spring forward: 02:30 on the second Sunday of March in Los Angeles)
  happens at the moment the clocks jump; a slot that happens twice (fall back: 01:30 on the first Sunday of
  November) happens once, at its first occurrence. An expression with no fixed time of day (every hour, every
  few minutes) counts elapsed time instead, as cron daemons do.
- A ping up to `tolerance` before a slot counts for that slot: a job whose clock runs a little fast does not
  go late at the slot it has just answered.
- A weekly maintenance window is a wall-clock range on one weekday in its zone (an end at or before the start
  ends the next day); its edges follow the same DST rule. A close-freeze window covers business days
  BD<start>..BD<end> of every quarter, whole local days of the close region.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from app.calendar.close_region import CloseRegion
from app.timeutil import UTC, format_bd_offset, format_in_zone, wall_clock_to_utc, zone_label

# A slot further away than this is treated as "never" (an expression for 30 February never fires).
HORIZON = timedelta(days=366 * 5)


class ScheduleError(ValueError):
    """The cron expression cannot be used; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class ScheduleSpec:
    kind: str  # interval | cron
    interval: timedelta | None = None
    cron: str | None = None
    zone: str = "UTC"


# The nicknames cron daemons accept, as the five fields they stand for (@reboot has no schedule to watch).
ALIASES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def expand_cron(expression: str) -> str:
    """The five fields an expression stands for: a nickname such as @daily expanded, otherwise unchanged."""
    return ALIASES.get(expression.strip().lower(), expression)


def check_cron(expression: str, zone: str = "UTC") -> str:
    """The expression, normalised (single spaces; a nickname such as @daily in lower case); ScheduleError when
    it is malformed or never fires."""
    normalised = " ".join((expression or "").split())
    if normalised.startswith("@"):
        if normalised.lower() not in ALIASES:
            raise ScheduleError(f"Use one of {', '.join(ALIASES)} or five fields; {normalised.split()[0]} has no "
                                "schedule to watch.")
        normalised = normalised.lower()
    elif len(normalised.split(" ")) != 5:
        raise ScheduleError("Use five fields: minute hour day-of-month month day-of-week, e.g. 30 2 * * 1-5, "
                            "or a nickname such as @daily.")
    try:
        next_cron_slot(normalised, zone, datetime(2024, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ScheduleError(f"Not a cron expression: {str(error).lower() or 'malformed'}.") from None
    except StopIteration:
        raise ScheduleError("This expression never fires.") from None
    return normalised


def is_wall_clock(fields: str) -> bool:
    """True when the expression names fixed times of day (its minute and hour are not wildcards or steps).

    Such slots are wall-clock times resolved by the project's DST rule. An expression that runs every hour or
    every few minutes counts elapsed time instead, as cron daemons do: on the fall-back day it runs in both
    passes through the repeated hour, and on the spring-forward day it simply has one hour fewer.
    """
    minute, hour = fields.split()[:2]
    return not minute.startswith("*") and not hour.startswith("*")


def _wall_clock_slots(fields: str, zone: str, start_local: datetime, reverse: bool):
    """Instants (UTC) of the wall-clock slots after (or before) naive local `start_local`, in order."""
    for local in CronSim(fields, start_local, reverse=reverse):
        yield wall_clock_to_utc(local.date(), local.time(), zone)


def _elapsed_slots(fields: str, zone: str, after: datetime, reverse: bool):
    for slot in CronSim(fields, after.astimezone(ZoneInfo(zone)), reverse=reverse):
        yield slot.astimezone(UTC)


def _slots(expression: str, zone: str, at: datetime, reverse: bool = False):
    fields = expand_cron(expression)
    if is_wall_clock(fields):
        return _wall_clock_slots(fields, zone, at.astimezone(ZoneInfo(zone)).replace(tzinfo=None), reverse)
    return _elapsed_slots(fields, zone, at, reverse)


def next_cron_slot(expression: str, zone: str, after: datetime) -> datetime:
    """The first slot strictly after `after`, as aware UTC (StopIteration when there is none)."""
    slots = _slots(expression, zone, after)
    # Read from the fall-back hour's second pass, a wall-clock slot of that hour resolves to its first pass (an
    # instant already past), and two slots in a spring-forward gap both land on the jump: skip those.
    for _ in range(1000):
        slot = next(slots)
        if slot > after:
            return slot
    raise StopIteration


def previous_cron_slot(expression: str, zone: str, at: datetime) -> datetime | None:
    """The last slot at or before `at`, as aware UTC; None when there is none within the horizon."""
    # CronSim steps back from the second before, so start one second later to include `at` itself.
    slots = _slots(expression, zone, at + timedelta(seconds=1), reverse=True)
    try:
        for _ in range(1000):
            slot = next(slots)
            if slot <= at:
                return slot
    except StopIteration:
        return None
    return None


def next_due(spec: ScheduleSpec, pinged_at: datetime, tolerance: timedelta = timedelta(0)) -> datetime | None:
    """When the run after a successful ping at `pinged_at` is expected.

    Cron: a ping within `tolerance` before a slot answers that slot, so the next one is expected.
    None when a cron expression has no further slot within the horizon.
    """
    if spec.kind == "interval":
        assert spec.interval is not None
        return pinged_at + spec.interval
    assert spec.cron is not None
    try:
        slot = next_cron_slot(spec.cron, spec.zone, pinged_at + tolerance)
    except StopIteration:
        return None
    return slot if slot - pinged_at <= HORIZON else None


def upcoming_slots(spec: ScheduleSpec, after: datetime, count: int) -> list[datetime]:
    """The next `count` cron slots after `after` (an interval job has no fixed slots: empty)."""
    if spec.kind != "cron" or spec.cron is None:
        return []
    slots, at = [], after
    for _ in range(count):
        try:
            at = next_cron_slot(spec.cron, spec.zone, at)
        except StopIteration:
            break
        slots.append(at)
    return slots


# --- maintenance windows ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WindowSpec:
    kind: str  # once | weekly | freeze
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekday: int | None = None  # 0 = Monday
    start_time: time | None = None
    end_time: time | None = None
    zone: str = "UTC"
    bd_start: int | None = None  # freeze: BD<bd_start> .. BD<bd_end> of every quarter
    bd_end: int | None = None
    close: CloseRegion | None = None  # freeze: whose business days and local days


def _weekly_occurrence(spec: WindowSpec, day: date) -> tuple[datetime, datetime]:
    assert spec.start_time is not None and spec.end_time is not None
    start = wall_clock_to_utc(day, spec.start_time, spec.zone)
    end_day = day + timedelta(days=1) if spec.end_time <= spec.start_time else day
    end = wall_clock_to_utc(end_day, spec.end_time, spec.zone)
    return start, end


def occurrences(spec: WindowSpec, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The window's (from, to) instants that overlap [start, end), in order."""
    if spec.kind == "once":
        assert spec.starts_at is not None and spec.ends_at is not None
        return [(spec.starts_at, spec.ends_at)] if spec.starts_at < end and spec.ends_at > start else []
    if spec.kind == "freeze":
        assert spec.close is not None and spec.bd_start is not None and spec.bd_end is not None
        return [(opens, closes) for _quarter, opens, closes in
                spec.close.spans_overlapping(spec.bd_start, spec.bd_end, start, end)]
    tz = ZoneInfo(spec.zone)
    # One day of margin each side: a window that began yesterday evening may still be open.
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    found, day = [], first
    while day <= last:
        if day.weekday() == spec.weekday:
            opens, closes = _weekly_occurrence(spec, day)
            if opens < end and closes > start:
                found.append((opens, closes))
        day += timedelta(days=1)
    return found


def window_at(specs: list[WindowSpec], at: datetime, _depth: int = 0) -> tuple[datetime, datetime] | None:
    """The open window (from, to) containing `at` that closes last, or None; overlapping windows chain."""
    best: tuple[datetime, datetime] | None = None
    for spec in specs:
        for opens, closes in occurrences(spec, at, at + timedelta(seconds=1)):
            if opens <= at < closes and (best is None or closes > best[1]):
                best = (opens, closes)
    if best is not None and _depth < 14:
        # A second window that opens before this one closes extends the quiet time (two weeks at most, so
        # windows that cover every day still end somewhere and the held page is looked at again).
        later = window_at(specs, best[1], _depth + 1)
        if later is not None:
            return best[0], later[1]
    return best


def describe_window(spec: WindowSpec) -> str:
    """"Sundays 01:00–03:00 (UTC+0, London)", a one-off window's two times in its zone, or "Every close, BD-2 to
    BD+3 (UTC−8, Los Angeles)"."""
    if spec.kind == "once":
        assert spec.starts_at is not None and spec.ends_at is not None
        return (f"{format_in_zone(spec.starts_at, spec.zone, '%Y-%m-%d %H:%M')}–"
                f"{format_in_zone(spec.ends_at, spec.zone, '%Y-%m-%d %H:%M')} ({zone_label(spec.zone, spec.starts_at)})")
    if spec.kind == "freeze":
        assert spec.bd_start is not None and spec.bd_end is not None
        where = f" ({zone_label(spec.close.zone)})" if spec.close is not None else ""
        return (f"Every quarter's close, {format_bd_offset(spec.bd_start)} to {format_bd_offset(spec.bd_end)}, whole "
                f"days{where}")
    days = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
    assert spec.start_time is not None and spec.end_time is not None and spec.weekday is not None
    overnight = " (next day)" if spec.end_time <= spec.start_time else ""
    return f"{days[spec.weekday]} {spec.start_time:%H:%M}–{spec.end_time:%H:%M}{overnight} ({zone_label(spec.zone)})"
