"""Rotations: ordered people handing off on a rule (hourly, daily, weekly or custom) from a local start."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.oncall.models import HandoffKind, Rotation, RotationMember, Schedule, ScheduleLayer
from app.database import commit_or_conflict
from app.oncall.schedule_rules import check_year, check_zone, clean_name, moved, people, reposition


def list_rotations() -> list[Rotation]:
    return list(db.session.scalars(select(Rotation).order_by(Rotation.name).options(
        selectinload(Rotation.members).selectinload(RotationMember.user))))


def get_rotation(rotation_id: int) -> Rotation:
    rotation = db.session.get(Rotation, rotation_id, options=[
        selectinload(Rotation.members).selectinload(RotationMember.user)])
    if rotation is None:
        raise NotFound("No such rotation.")
    return rotation


def _set_members(rotation: Rotation, members: list[User]) -> None:
    stored = list(rotation.members)
    by_user = {member.user_id: member for member in stored}
    wanted = [by_user.get(user.id) or RotationMember(user_id=user.id, user=user) for user in members]
    reposition(RotationMember, stored, wanted)
    rotation.members = wanted  # members left out are deleted (delete-orphan)


def _apply_rotation(rotation: Rotation, *, name: str, description: str, time_zone: str, start_date: date,
                    start_time: time, handoff_kind: str, shift_length: int,
                    member_ids: Sequence[int] | None) -> None:
    name = clean_name(name)
    clash = db.session.scalar(select(Rotation.id).where(Rotation.name == name))
    if clash is not None and clash != rotation.id:
        raise Conflict(f"A rotation named {name} already exists.", "name")
    check_zone(time_zone)
    if start_date is None or start_time is None:
        raise Invalid("Give the first hand-off's date and time.", "start_date" if start_date is None else "start_time")
    check_year(start_date, "start_date")
    try:
        kind = HandoffKind(handoff_kind)
    except ValueError:
        raise Invalid("Choose hourly, daily, weekly or custom.", "handoff_kind") from None
    if not isinstance(shift_length, int) or not 1 <= shift_length <= 1000:
        raise Invalid("A shift lasts 1 to 1000 hours, days or weeks.", "shift_length")
    staying = frozenset(member.user_id for member in rotation.members) if rotation.id else frozenset()
    chosen = people(member_ids, "member_ids", staying) if member_ids is not None else None
    rotation.name, rotation.description, rotation.time_zone = name, (description or "").strip(), time_zone
    rotation.start_local = datetime.combine(start_date, start_time.replace(second=0, microsecond=0))
    rotation.handoff_kind, rotation.shift_length = kind, shift_length
    if chosen is not None:
        _set_members(rotation, chosen)


def create_rotation(**fields) -> Rotation:
    """Create a rotation; refuse a taken name, an unknown zone, a bad length, or a person listed twice or inactive."""
    rotation = new_rotation(**fields)
    commit_or_conflict(field="name")
    return rotation


def new_rotation(*, name: str, time_zone: str, start_date: date, start_time: time, handoff_kind: str,
                 shift_length: int, member_ids: Sequence[int] = (), description: str = "") -> Rotation:
    """create_rotation without the commit (the demo writes its rotations in one transaction)."""
    rotation = Rotation()
    _apply_rotation(rotation, name=name, description=description, time_zone=time_zone, start_date=start_date,
                    start_time=start_time, handoff_kind=handoff_kind, shift_length=shift_length,
                    member_ids=list(member_ids))
    db.session.add(rotation)
    return rotation


def update_rotation(rotation: Rotation, *, name: str, time_zone: str, start_date: date, start_time: time,
                    handoff_kind: str, shift_length: int, member_ids: Sequence[int] | None = None,
                    description: str = "") -> Rotation:
    """Change a rotation under create_rotation's rules; `member_ids` None keeps its people and their order."""
    _apply_rotation(rotation, name=name, description=description, time_zone=time_zone, start_date=start_date,
                    start_time=start_time, handoff_kind=handoff_kind, shift_length=shift_length,
                    member_ids=None if member_ids is None else list(member_ids))
    commit_or_conflict(field="name")
    return rotation


def add_member(rotation: Rotation, user_id: int) -> Rotation:
    """Put a person at the end of the rotation."""
    current = [member.user for member in rotation.members]
    if user_id in {person.id for person in current}:
        raise Invalid("This person is already in the rotation.", "user_id")
    _set_members(rotation, current + people([user_id], "user_id"))
    commit_or_conflict()
    return rotation


def _member(rotation: Rotation, member_id: int) -> RotationMember:
    for member in rotation.members:
        if member.id == member_id:
            return member
    raise NotFound("No such person in this rotation.")


def move_member(rotation: Rotation, member_id: int, direction: str) -> Rotation:
    """Move a person one place earlier ("up") or later ("down") in the hand-off order."""
    order = moved(rotation.members, _member(rotation, member_id), direction)
    _set_members(rotation, [member.user for member in order])
    commit_or_conflict()
    return rotation


def remove_member(rotation: Rotation, member_id: int) -> Rotation:
    gone = _member(rotation, member_id)
    _set_members(rotation, [member.user for member in rotation.members if member is not gone])
    commit_or_conflict()
    return rotation


def delete_rotation(rotation: Rotation) -> None:
    """Delete a rotation that no schedule layer uses."""
    using = list(db.session.scalars(select(Schedule.name).join(Schedule.layers)
                                    .where(ScheduleLayer.rotation_id == rotation.id).distinct()))
    if using:
        raise Conflict(f"Rotation {rotation.name} is used by schedule {', '.join(sorted(using))}; "
                       "remove it from the schedule's layers first.")
    db.session.delete(rotation)
    commit_or_conflict()
