"""Checks and bookkeeping shared by the rotation and schedule services."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select, update

from app.auth.models import User
from app.errors import Invalid
from app.extensions import db
from app.timeutil import is_valid_zone

# Far enough for any real rota; keeps the hand-off arithmetic away from datetime's year 1..9999 limits.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("Give it a name.", "name")
    return name


def check_zone(zone: str, field: str = "time_zone") -> str:
    if not is_valid_zone(zone):
        raise Invalid("Unknown time zone; use an IANA name such as Europe/London.", field)
    return zone


def check_year(day: date, field: str) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Invalid(f"Use a date between {FIRST_YEAR} and {LAST_YEAR}.", field)


def people(user_ids: Sequence[int], field: str, staying: frozenset[int] = frozenset()) -> list[User]:
    """The users with these ids, in the order given; each person at most once.

    Newcomers must be active; people in `staying` (already members) may stay after being deactivated, so an
    unrelated edit is not refused because of them.
    """
    if len(set(user_ids)) != len(user_ids):
        raise Invalid("A person may appear only once.", field)
    found = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(list(user_ids))))}
    for user_id in user_ids:
        if user_id not in found or not (found[user_id].active or user_id in staying):
            raise Invalid(f"No active person with id {user_id}.", field)
    return [found[user_id] for user_id in user_ids]


def reposition(model, stored: Sequence, wanted: Sequence) -> None:
    """Number `wanted` 0..n-1 in order; `stored` are the parent's rows as the database holds them now.

    Positions are unique per parent and a flush writes rows in an order of its own choosing, so every stored
    row that moves or goes is first parked at a negative position with a plain UPDATE. The audit trail does
    not see that statement, so it records each row's old and new position only.
    """
    place = {id(row): index for index, row in enumerate(wanted)}
    moving = [row.id for row in stored if row.id is not None and place.get(id(row)) != row.position]
    if moving:
        table = model.__table__
        db.session.execute(update(table).where(table.c.id.in_(moving)).values(position=-1 - table.c.id))
    for index, row in enumerate(wanted):
        row.position = index


def moved(rows: Sequence, row, direction: str) -> list:
    """`rows` with `row` moved one place "up" (earlier) or "down" (unchanged at either end)."""
    ordered = list(rows)
    index = ordered.index(row)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    return ordered
