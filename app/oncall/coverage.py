"""Who is on call: schedules read from the database into the rotation engine, and its answers as people.

The arithmetic (and the DST rule) is app/oncall/rotation.py; this module only loads, converts and names.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.calendar.services import list_regions
from app.errors import Invalid
from app.extensions import db
from app.oncall.models import Rotation, Schedule, ScheduleLayer
from app.oncall.rotation import (LayerSpec, OverrideSpec, RotationSpec, ScheduleSpec, local_of, on_call,
                                 timeline)
from app.oncall.services import users_without_verified_phone
from app.timeutil import as_utc, start_of_day, utcnow

# Everything schedule_spec reads, in four SELECTs whatever the number of layers, rotations and people.
FULL_SCHEDULE = (
    selectinload(Schedule.layers).selectinload(ScheduleLayer.rotation).selectinload(Rotation.members),
    selectinload(Schedule.overrides),
)
MAX_TIMELINE_DAYS = 31


def load_schedule(schedule_id: int) -> Schedule | None:
    return db.session.scalar(select(Schedule).where(Schedule.id == schedule_id).options(*FULL_SCHEDULE))


def load_schedules() -> list[Schedule]:
    return list(db.session.scalars(select(Schedule).order_by(Schedule.name).options(*FULL_SCHEDULE)))


def rotation_spec(rotation: Rotation) -> RotationSpec:
    return RotationSpec(zone=rotation.time_zone, start_local=rotation.start_local, kind=rotation.handoff_kind.value,
                        length=rotation.shift_length, members=tuple(member.user_id for member in rotation.members))


def schedule_spec(schedule: Schedule) -> ScheduleSpec:
    """The engine's view of a schedule (load it with FULL_SCHEDULE to avoid a query per layer)."""
    rotations: dict[int, RotationSpec] = {}
    layers = []
    for layer in schedule.layers:
        if layer.rotation_id not in rotations:
            rotations[layer.rotation_id] = rotation_spec(layer.rotation)
        layers.append(LayerSpec(rotation=rotations[layer.rotation_id], zone=layer.time_zone, days=layer.weekdays,
                                start=layer.start_time, end=layer.end_time))
    overrides = tuple(OverrideSpec(user=override.user_id, start=as_utc(override.start_at),
                                   end=as_utc(override.end_at), mode=override.mode.value,
                                   replaces=override.replaces_user_id)
                      for override in sorted(schedule.overrides, key=lambda o: (o.start_at, o.id)))
    return ScheduleSpec(layers=tuple(layers), overrides=overrides)


def users_by_id(ids: Iterable[int]) -> dict[int, User]:
    ids = set(ids)
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def who_is_on_call(schedule: Schedule, at: datetime | None = None) -> list[User]:
    """The people on call in `schedule` at `at` (default now), in order; empty during a gap."""
    ids = on_call(schedule_spec(schedule), as_utc(at) if at else utcnow())
    people = users_by_id(ids)
    return [people[user_id] for user_id in ids if user_id in people]


@dataclass(frozen=True)
class TimelineSegment:
    start: datetime
    end: datetime
    users: tuple[User, ...]

    @property
    def is_gap(self) -> bool:
        return not self.users


@dataclass(frozen=True)
class Holiday:
    day: date
    region: str
    name: str


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    segments: list[TimelineSegment]
    holidays: list[Holiday]
    unreachable: list[User]  # people on the schedule without a verified SMS or voice method

    @property
    def gaps(self) -> list[TimelineSegment]:
        return [segment for segment in self.segments if segment.is_gap]


def region_holidays(start: datetime, end: datetime) -> list[Holiday]:
    """Every region's public holidays on the local dates that [start, end) touches in that region."""
    found = []
    for region in list_regions():
        first = local_of(start, region.time_zone).date()
        last = local_of(end - timedelta(microseconds=1), region.time_zone).date()
        found.extend(Holiday(day, region.name, name) for day, name in region.calendar.holidays_between(first, last))
    return sorted(found, key=lambda holiday: (holiday.day, holiday.region))


def without_phone(user_ids: Iterable[int]) -> set[int]:
    """Which of these people have no verified SMS or voice method (the contacts module decides)."""
    return users_without_verified_phone(set(user_ids))


def people_on(schedule: Schedule) -> set[int]:
    """Everyone in a rotation of the schedule's layers, and everyone in its overrides."""
    return ({member.user_id for layer in schedule.layers for member in layer.rotation.members}
            | {override.user_id for override in schedule.overrides})


def unreachable_on(schedule: Schedule) -> list[User]:
    """The people on the schedule who cannot be phoned, by name."""
    people = users_by_id(people_on(schedule))
    return sorted((people[p] for p in without_phone(people) if p in people), key=lambda user: user.name)


def schedule_timeline(schedule: Schedule, start: datetime, days: int = 14, *, end: datetime | None = None) -> Timeline:
    """Who is on call from `start` for `days` days (of 24 hours; or until `end`, e.g. a local midnight), with the
    gaps, the regions' holidays and who cannot be phoned."""
    if not isinstance(days, int) or not 1 <= days <= MAX_TIMELINE_DAYS:
        raise Invalid(f"Ask for 1 to {MAX_TIMELINE_DAYS} days.", "days")
    start = as_utc(start)
    end = as_utc(end) if end is not None else start + timedelta(days=days)
    spec = schedule_spec(schedule)
    segments = timeline(spec, start, end)
    people = users_by_id(people_on(schedule) | {person for segment in segments for person in segment.people})
    unreachable = without_phone(people)
    return Timeline(
        start=start, end=end,
        segments=[TimelineSegment(segment.start, segment.end,
                                  tuple(people[p] for p in segment.people if p in people)) for segment in segments],
        holidays=region_holidays(start, end),
        unreachable=sorted((people[p] for p in unreachable if p in people), key=lambda user: user.name),
    )


@dataclass(frozen=True)
class DayRow:
    start: datetime  # in the viewer's zone
    end: datetime
    users: tuple[User, ...]
    until_midnight: bool  # the row runs to the end of the day ("24:00", not "00:00")

    @property
    def is_gap(self) -> bool:
        return not self.users


@dataclass(frozen=True)
class TimelineDay:
    day: date
    holidays: list[Holiday]
    rows: list[DayRow]


def timeline_days(shown: Timeline, zone: str) -> list[TimelineDay]:
    """The timeline cut into local days of `zone`, for a page that lists each day's stretches."""
    tz = ZoneInfo(zone)
    day = local_of(shown.start, zone).date()
    last = local_of(shown.end - timedelta(microseconds=1), zone).date()
    days = []
    while day <= last:
        opens = start_of_day(day, zone)
        closes = start_of_day(day + timedelta(days=1), zone)
        rows = [DayRow(max(segment.start, opens).astimezone(tz), min(segment.end, closes).astimezone(tz),
                       segment.users, segment.end >= closes)
                for segment in shown.segments if segment.start < closes and segment.end > opens]
        days.append(TimelineDay(day, [holiday for holiday in shown.holidays if holiday.day == day], rows))
        day += timedelta(days=1)
    return days


def rotation_now(rotation: Rotation, at: datetime | None = None) -> int | None:
    """The user id holding the rotation's shift at `at` (default now); None before it starts or when empty."""
    return rotation_spec(rotation).member_at(as_utc(at) if at else utcnow())


def next_handoffs(rotation: Rotation, count: int = 8) -> list[tuple[datetime, int | None]]:
    """The next `count` hand-off instants after now, each with the user id who takes over."""
    spec = rotation_spec(rotation)
    current = spec.shift_index(utcnow())
    first = 0 if current is None else current + 1
    return [(spec.handoff(k), spec.members[k % len(spec.members)] if spec.members else None)
            for k in range(first, first + count)]
