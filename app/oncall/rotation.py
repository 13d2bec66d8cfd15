"""Who is on call at an instant: the rotation and schedule arithmetic, pure and database-free.

The rules, in words:
- A rotation hands off every N hours (hourly, custom: elapsed time) or every N days or weeks at the same
  wall-clock time in its own zone (daily, weekly). Member k (0-based) holds shift k; the list wraps.
- DST: a wall-clock hand-off that does not exist (spring forward) happens at the first valid instant
  after it, which is the moment the clocks jump; one that happens twice (fall back) happens at the first
  occurrence. `timeutil.wall_clock_to_utc()` is the one place that applies this rule, for hand-offs, layer
  windows and every other wall-clock time in the project.
- A schedule is an ordered list of layers (rotation + days of week + a time-of-day window in a zone). At
  any instant the first layer whose window covers it decides who is on call ("follow the sun": put the
  regional layers first and an all-day after-hours layer last).
- Overrides come on top: "replace" puts its person in place of the person it names (or of everyone when it
  names nobody); "add" puts its person beside whoever is on call.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.timeutil import wall_clock_to_utc

HOURLY, DAILY, WEEKLY, CUSTOM = "hourly", "daily", "weekly", "custom"
WALL_CLOCK_KINDS = {DAILY, WEEKLY}


def instant_of(local: datetime, zone: str) -> datetime:
    """The UTC instant of a naive wall-clock date and time in `zone`, by the DST rule above."""
    return wall_clock_to_utc(local.date(), local.time(), zone)


def local_of(at: datetime, zone: str) -> datetime:
    return at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@dataclass(frozen=True)
class RotationSpec:
    zone: str
    start_local: datetime  # naive wall-clock time of the first hand-off, in `zone`
    kind: str  # hourly | daily | weekly | custom (custom: `length` hours)
    length: int  # units of `kind`
    members: tuple[int, ...]  # user ids in order

    @property
    def step(self) -> timedelta:
        if self.kind == DAILY:
            return timedelta(days=self.length)
        if self.kind == WEEKLY:
            return timedelta(weeks=self.length)
        return timedelta(hours=self.length)

    def handoff(self, k: int) -> datetime:
        """The instant shift k starts."""
        if self.kind in WALL_CLOCK_KINDS:
            return instant_of(self.start_local + k * self.step, self.zone)
        return instant_of(self.start_local, self.zone) + k * self.step

    def shift_index(self, at: datetime) -> int | None:
        """The shift running at `at`, or None before the rotation starts."""
        if at < self.handoff(0):
            return None
        if self.kind in WALL_CLOCK_KINDS:
            elapsed = local_of(at, self.zone) - self.start_local
        else:
            elapsed = at - self.handoff(0)
        k = max(math.floor(elapsed / self.step), 0)
        # The estimate can be one off around a DST change; the real hand-off instants decide.
        while self.handoff(k + 1) <= at:
            k += 1
        while k > 0 and self.handoff(k) > at:
            k -= 1
        return k

    def member_at(self, at: datetime) -> int | None:
        k = self.shift_index(at)
        if k is None or not self.members:
            return None
        return self.members[k % len(self.members)]

    def handoffs_between(self, start: datetime, end: datetime) -> list[datetime]:
        """Every hand-off instant in [start, end)."""
        first = self.shift_index(start)
        # Shift `first` began at or before `start`: it counts when it began exactly at `start`.
        k = 0 if first is None else first
        found = []
        while (instant := self.handoff(k)) < end:
            if instant >= start:
                found.append(instant)
            k += 1
        return found


@dataclass(frozen=True)
class LayerSpec:
    rotation: RotationSpec
    zone: str
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time  # end <= start means the window runs past midnight (equal: 24 hours)

    def windows_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC window that opens on local `day`, if the layer works that weekday."""
        if day.weekday() not in self.days:
            return None
        opens = wall_clock_to_utc(day, self.start, self.zone)
        closes_day = day if self.end > self.start else day + timedelta(days=1)
        closes = wall_clock_to_utc(closes_day, self.end, self.zone)
        return opens, closes

    def covers(self, at: datetime) -> bool:
        today = local_of(at, self.zone).date()
        for day in (today, today - timedelta(days=1)):
            window = self.windows_on(day)
            if window and window[0] <= at < window[1]:
                return True
        return False

    def boundaries_between(self, start: datetime, end: datetime) -> list[datetime]:
        first = local_of(start, self.zone).date() - timedelta(days=1)
        last = local_of(end, self.zone).date()
        found = []
        day = first
        while day <= last:
            window = self.windows_on(day)
            if window:
                found.extend(instant for instant in window if start <= instant < end)
            day += timedelta(days=1)
        return found


REPLACE, ADD = "replace", "add"


@dataclass(frozen=True)
class OverrideSpec:
    user: int
    start: datetime
    end: datetime
    mode: str = REPLACE
    replaces: int | None = None  # with REPLACE: the person covered for; None covers for everyone


@dataclass(frozen=True)
class ScheduleSpec:
    layers: tuple[LayerSpec, ...]
    overrides: tuple[OverrideSpec, ...] = ()


def on_call(schedule: ScheduleSpec, at: datetime) -> list[int]:
    """The user ids on call at `at`, in order, without duplicates."""
    people: list[int] = []
    for layer in schedule.layers:
        if layer.covers(at):
            member = layer.rotation.member_at(at)
            people = [member] if member is not None else []
            break
    for override in schedule.overrides:
        if not override.start <= at < override.end:
            continue
        if override.mode == ADD:
            people.append(override.user)
        elif override.replaces is None:
            people = [override.user]
        elif override.replaces in people:
            people = [override.user if person == override.replaces else person for person in people]
    return list(dict.fromkeys(people))


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    people: tuple[int, ...] = field(default=())

    @property
    def is_gap(self) -> bool:
        return not self.people


def timeline(schedule: ScheduleSpec, start: datetime, end: datetime) -> list[Segment]:
    """Who is on call from `start` to `end`, as consecutive segments (neighbours never hold the same people)."""
    cuts: set[datetime] = {start, end}
    for layer in schedule.layers:
        cuts.update(layer.boundaries_between(start, end))
        cuts.update(layer.rotation.handoffs_between(start, end))
    for override in schedule.overrides:
        cuts.update(instant for instant in (override.start, override.end) if start <= instant < end)
    ordered = sorted(cuts)
    segments: list[Segment] = []
    for begin, finish in zip(ordered, ordered[1:]):
        people = tuple(on_call(schedule, begin))
        if segments and segments[-1].people == people and segments[-1].end == begin:
            segments[-1] = Segment(segments[-1].start, finish, people)
        else:
            segments.append(Segment(begin, finish, people))
    return segments


def gaps(segments: Iterable[Segment]) -> list[Segment]:
    return [segment for segment in segments if segment.is_gap]


def shifts_of(user: int, segments: Sequence[Segment]) -> list[tuple[datetime, datetime]]:
    """The continuous stretches in which `user` is on call."""
    shifts: list[tuple[datetime, datetime]] = []
    for segment in segments:
        if user not in segment.people:
            continue
        if shifts and shifts[-1][1] == segment.start:
            shifts[-1] = (shifts[-1][0], segment.end)
        else:
            shifts.append((segment.start, segment.end))
    return shifts
