"""Schedules, their layers and overrides: the rules for changing them.

Rotations are app/oncall/rotations.py. Who is on call and the timeline are app/oncall/coverage.py,
re-exported here so other domains have one door: `from app.oncall.schedules import who_is_on_call`.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.oncall.coverage import (FULL_SCHEDULE, Timeline, load_schedule, schedule_spec,  # noqa: F401 (re-export)
                                 schedule_timeline, who_is_on_call)
from app.oncall.models import (EscalationPolicy, EscalationStep, EscalationTarget, OverrideMode, Rotation, Schedule,
                               ScheduleLayer, ScheduleOverride)
from app.database import commit_or_conflict
from app.oncall.schedule_rules import check_year, check_zone, clean_name, moved, people, reposition
from app.timeutil import UTC, as_utc, utcnow

MAX_OVERRIDE = timedelta(days=90)
MAX_LAYERS = 20


def list_schedules() -> list[Schedule]:
    return list(db.session.scalars(select(Schedule).order_by(Schedule.name).options(*FULL_SCHEDULE)))


def get_schedule(schedule_id: int) -> Schedule:
    schedule = load_schedule(schedule_id)
    if schedule is None:
        raise NotFound("No such schedule.")
    return schedule


def _apply_schedule(schedule: Schedule, *, name: str, description: str, time_zone: str) -> None:
    name = clean_name(name)
    clash = db.session.scalar(select(Schedule.id).where(Schedule.name == name))
    if clash is not None and clash != schedule.id:
        raise Conflict(f"A schedule named {name} already exists.", "name")
    schedule.name, schedule.description, schedule.time_zone = name, (description or "").strip(), check_zone(time_zone)


def create_schedule(*, name: str, time_zone: str = "UTC", description: str = "") -> Schedule:
    """Create an empty schedule (nobody on call until it has layers); refuse a taken name or unknown zone."""
    schedule = Schedule()
    _apply_schedule(schedule, name=name, description=description, time_zone=time_zone)
    db.session.add(schedule)
    commit_or_conflict(field="name")
    return schedule


def update_schedule(schedule: Schedule, *, name: str, time_zone: str, description: str = "") -> Schedule:
    _apply_schedule(schedule, name=name, description=description, time_zone=time_zone)
    commit_or_conflict(field="name")
    return schedule


def delete_schedule(schedule: Schedule) -> None:
    """Delete a schedule with its layers and overrides, unless an escalation policy pages it."""
    policies = list(db.session.scalars(
        select(EscalationPolicy.name).join(EscalationStep, EscalationStep.policy_id == EscalationPolicy.id)
        .join(EscalationTarget, EscalationTarget.step_id == EscalationStep.id)
        .where(EscalationTarget.schedule_id == schedule.id).distinct()))
    if policies:
        raise Conflict(f"Schedule {schedule.name} is paged by escalation policy {', '.join(sorted(policies))}; "
                       "take it out of those policies first.")
    db.session.delete(schedule)
    commit_or_conflict()


def get_layer(schedule: Schedule, layer_id: int) -> ScheduleLayer:
    for layer in schedule.layers:
        if layer.id == layer_id:
            return layer
    raise NotFound("No such layer in this schedule.")


def _apply_layer(layer: ScheduleLayer, *, rotation_id: int, time_zone: str, days: Sequence[int],
                 start_time: time, end_time: time) -> None:
    rotation = db.session.get(Rotation, rotation_id) if rotation_id is not None else None
    if rotation is None:
        raise Invalid("Choose an existing rotation.", "rotation_id")
    days = sorted(set(days or ()))
    if not days:
        raise Invalid("Pick at least one day of the week.", "days")
    if days[0] < 0 or days[-1] > 6:
        raise Invalid("Days are 0 (Monday) to 6 (Sunday).", "days")
    if start_time is None or end_time is None:
        raise Invalid("Give the window's start and end.", "start_time" if start_time is None else "end_time")
    layer.rotation, layer.time_zone = rotation, check_zone(time_zone)
    layer.days = sum(1 << day for day in days)
    layer.start_time = start_time.replace(second=0, microsecond=0)
    layer.end_time = end_time.replace(second=0, microsecond=0)


def add_layer(schedule: Schedule, **fields) -> ScheduleLayer:
    """Add a layer (last, or at `position`); refuse an unknown rotation, no days or an unknown zone."""
    layer = new_layer(schedule, **fields)
    commit_or_conflict()
    return layer


def new_layer(schedule: Schedule, *, rotation_id: int, time_zone: str, days: Sequence[int], start_time: time,
              end_time: time, position: int | None = None) -> ScheduleLayer:
    """add_layer without the commit (the demo writes its schedule in one transaction)."""
    if len(schedule.layers) >= MAX_LAYERS:
        raise Invalid(f"A schedule holds at most {MAX_LAYERS} layers.", "rotation_id")
    layer = ScheduleLayer()
    _apply_layer(layer, rotation_id=rotation_id, time_zone=time_zone, days=days, start_time=start_time,
                 end_time=end_time)
    stored = list(schedule.layers)
    wanted = stored[:]
    wanted.insert(len(stored) if position is None else min(max(position, 0), len(stored)), layer)
    reposition(ScheduleLayer, stored, wanted)
    schedule.layers = wanted
    return layer


def update_layer(schedule: Schedule, layer: ScheduleLayer, *, rotation_id: int, time_zone: str,
                 days: Sequence[int], start_time: time, end_time: time, position: int | None = None) -> ScheduleLayer:
    """Change a layer under add_layer's rules; `position` moves it (0 = first)."""
    _apply_layer(layer, rotation_id=rotation_id, time_zone=time_zone, days=days, start_time=start_time,
                 end_time=end_time)
    if position is not None and position != layer.position:
        stored = list(schedule.layers)
        wanted = [other for other in stored if other is not layer]
        wanted.insert(min(max(position, 0), len(wanted)), layer)
        reposition(ScheduleLayer, stored, wanted)
        schedule.layers = wanted
    commit_or_conflict()
    return layer


def move_layer(schedule: Schedule, layer: ScheduleLayer, direction: str) -> None:
    """Move a layer one place up (decides earlier) or down."""
    stored = list(schedule.layers)
    wanted = moved(stored, layer, direction)
    reposition(ScheduleLayer, stored, wanted)
    schedule.layers = wanted
    commit_or_conflict()


def remove_layer(schedule: Schedule, layer: ScheduleLayer) -> None:
    stored = list(schedule.layers)
    wanted = [other for other in stored if other is not layer]
    reposition(ScheduleLayer, stored, wanted)
    schedule.layers = wanted
    commit_or_conflict()



def _instant(value: datetime | None, field: str) -> datetime:
    """An aware UTC instant; a naive value is refused (its form or API decided the zone before it came here)."""
    if value is None:
        raise Invalid("Give a date and time.", field)
    if value.tzinfo is None:
        raise Invalid("Give the time with its UTC offset.", field)
    check_year(value.date(), field)
    return as_utc(value)


def create_override(schedule: Schedule, *, user_id: int, mode: str, start_at: datetime | None,
                    end_at: datetime | None, replaces_user_id: int | None = None,
                    reason: str = "") -> ScheduleOverride:
    """Add an override between two aware instants. Refuse a reversed, over-long or finished range."""
    start, end = _instant(start_at, "start_at"), _instant(end_at, "end_at")
    if end <= start:
        raise Invalid("The end must be after the start.", "end_at")
    if end - start > MAX_OVERRIDE:
        raise Invalid(f"An override lasts at most {MAX_OVERRIDE.days} days.", "end_at")
    if end <= utcnow():
        raise Invalid("That time is already over.", "end_at")
    try:
        mode = OverrideMode(mode)
    except ValueError:
        raise Invalid("Choose replace or add.", "mode") from None
    person = people([user_id], "user_id")[0]
    if replaces_user_id is not None:
        if mode == OverrideMode.ADD:
            raise Invalid("An added person stands beside whoever is on call; leave 'instead of' empty.",
                          "replaces_user_id")
        if replaces_user_id == user_id or db.session.get(User, replaces_user_id) is None:
            raise Invalid("Choose someone else to cover for.", "replaces_user_id")
    override = ScheduleOverride(schedule=schedule, user=person, replaces_user_id=replaces_user_id, mode=mode,
                                start_at=start.astimezone(UTC), end_at=end.astimezone(UTC),
                                reason=(reason or "").strip())
    db.session.add(override)
    commit_or_conflict()
    return override


def upcoming_overrides(schedule: Schedule) -> list[ScheduleOverride]:
    """The overrides not yet over, soonest first."""
    return list(db.session.scalars(
        select(ScheduleOverride).where(ScheduleOverride.schedule_id == schedule.id,
                                       ScheduleOverride.end_at > utcnow())
        .order_by(ScheduleOverride.start_at, ScheduleOverride.id)
        .options(selectinload(ScheduleOverride.user), selectinload(ScheduleOverride.replaces))))


def get_override(override_id: int, schedule_id: int | None = None) -> ScheduleOverride:
    override = db.session.get(ScheduleOverride, override_id)
    if override is None or (schedule_id is not None and override.schedule_id != schedule_id):
        raise NotFound("No such override.")
    return override


def delete_override(override: ScheduleOverride) -> None:
    db.session.delete(override)
    commit_or_conflict()
