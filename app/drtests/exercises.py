"""Exercises: scheduled from a template version for a fiscal quarter, the replication point, sign-off, trend."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from app.auth.models import User
from app.auth.roles import EDITORS, Role
from app.calendar.services import close_region
from app.drtests.models import (DrExercise, DrTemplate, ExerciseKind, ExerciseParticipant, ExerciseStep, Result,
                                StepState)
from app.drtests.results import figures
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.timeutil import fiscal_quarter, utcnow


# The latest scheduled first; the id breaks ties, which keyset pages need (ix_dr_exercises_scheduled serves it).
EXERCISE_ORDER = [DrExercise.scheduled_for.desc(), DrExercise.id.desc()]


def exercises_query(*, template_id: int | None = None):
    query = select(DrExercise).order_by(*EXERCISE_ORDER)
    return query.where(DrExercise.template_id == template_id) if template_id else query


def get_exercise(exercise_id: int) -> DrExercise:
    exercise = db.session.get(DrExercise, exercise_id)
    if exercise is None:
        raise NotFound("No such DR exercise.")
    return exercise


def _people(ids: list[int] | None) -> list[User]:
    people = []
    for user_id in dict.fromkeys(ids or []):
        person = db.session.get(User, user_id)
        if person is None or not person.active:
            raise Invalid(f"No active user with id {user_id}.", field="participant_ids")
        people.append(person)
    return people


def _quarter_of(scheduled_for: datetime, fiscal_year: int | None, quarter: int | None):
    """The quarter named, or else the one the date falls in (the close region's date at that instant)."""
    region = close_region()
    if fiscal_year is None or quarter is None:
        return region.quarter_at(scheduled_for)
    try:
        return fiscal_quarter(fiscal_year, quarter, region.start_month)
    except ValueError as error:
        raise Invalid(str(error), field="quarter") from error


def schedule_exercise(*, template: DrTemplate, kind: str | ExerciseKind, scheduled_for: datetime,
                      owner_id: int | None, participant_ids: list[int] | None = None, name: str = "",
                      fiscal_year: int | None = None, quarter: int | None = None) -> DrExercise:
    """An exercise with a copy of the template's current steps and targets; later template edits leave it alone."""
    if not template.steps:
        raise Invalid("This template has no steps yet.", field="template_id")
    if owner_id is not None and db.session.get(User, owner_id) is None:
        raise Invalid("No such user.", field="owner_id")
    fq = _quarter_of(scheduled_for, fiscal_year, quarter)
    exercise = DrExercise(template_id=template.id, template_version=template.version,
                          name=(name or "").strip() or f"{template.name} {fq.label}", systems=template.systems,
                          kind=ExerciseKind(kind), fiscal_year=fq.fiscal_year, quarter=fq.quarter,
                          scheduled_for=scheduled_for, owner_id=owner_id, rto_minutes=template.rto_minutes,
                          rpo_minutes=template.rpo_minutes)
    for step in template.steps:
        exercise.steps.append(ExerciseStep(
            position=step.position, title=step.title, instructions=step.instructions, owner=step.owner,
            expected_minutes=step.expected_minutes, phase=step.phase, depends_on=step.depends_on,
            counts_toward_recovery=step.counts_toward_recovery, evidence_required=step.evidence_required,
            critical=step.critical))
    for person in _people(participant_ids):
        exercise.participants.append(ExerciseParticipant(user_id=person.id))
    db.session.add(exercise)
    db.session.commit()
    return exercise


def has_started(exercise: DrExercise) -> bool:
    return exercise.started_at is not None or any(step.state != StepState.PENDING for step in exercise.steps)


def _check_plan_open(exercise: DrExercise) -> None:
    if has_started(exercise):
        raise Conflict("This exercise has started: its plan no longer changes (its record is the evidence).")


def update_exercise(exercise: DrExercise, *, kind: str | ExerciseKind, scheduled_for: datetime,
                    owner_id: int | None, participant_ids: list[int] | None = None, name: str = "",
                    fiscal_year: int | None = None, quarter: int | None = None,
                    version: int | None = None) -> DrExercise:
    """Reschedule an exercise, or change its type, name, owner or participants, until its first step starts.

    The steps and targets stay those copied from the template when it was scheduled."""
    _check_plan_open(exercise)
    check_version(exercise, version, "The exercise")
    if owner_id is not None and db.session.get(User, owner_id) is None:
        raise Invalid("No such user.", field="owner_id")
    fq = _quarter_of(scheduled_for, fiscal_year, quarter)
    people = _people(participant_ids)
    exercise.kind, exercise.scheduled_for, exercise.owner_id = ExerciseKind(kind), scheduled_for, owner_id
    exercise.fiscal_year, exercise.quarter = fq.fiscal_year, fq.quarter
    exercise.name = (name or "").strip() or exercise.name
    exercise.participants[:] = [p for p in exercise.participants if p.user_id in {x.id for x in people}]
    kept = {p.user_id for p in exercise.participants}
    exercise.participants.extend(ExerciseParticipant(user_id=x.id) for x in people if x.id not in kept)
    # Written even when only the participants changed, so the version goes up and older pages are stale.
    flag_modified(exercise, "scheduled_for")
    db.session.commit()
    return exercise


def cancel_exercise(exercise: DrExercise, *, version: int | None = None) -> None:
    """Remove an exercise that has not started (called off or scheduled by mistake), with its findings."""
    _check_plan_open(exercise)
    check_version(exercise, version, "The exercise")
    db.session.delete(exercise)
    db.session.commit()


def check_not_frozen(exercise: DrExercise) -> None:
    if exercise.is_signed_off:
        raise Conflict("This exercise is signed off; its record is frozen.")


def check_version(record, version: int | None, what: str) -> None:
    """Refuse a write made from a page or JSON older than the record (another person changed it since)."""
    if version is not None and version != record.version:
        raise Conflict(f"{what} was changed by someone else since you loaded it. Reload to see their update, "
                       f"then try again.", field="version")


# Who works an exercise's steps: the crisis team, admins and responders (the people in the war room).
# Executives read the page and the report; they sign off only an exercise they own.
EXECUTORS = EDITORS | {Role.RESPONDER}


def can_execute(exercise: DrExercise, user: User) -> bool:
    return user.is_authenticated and user.role in EXECUTORS


def check_can_execute(exercise: DrExercise, user: User) -> None:
    if not can_execute(exercise, user):
        raise Forbidden("Only the crisis team, admins and responders work an exercise's steps.")


def record_replication(exercise: DrExercise, *, last_replicated_at: datetime, version: int | None,
                       user: User) -> DrExercise:
    """Record the time of the last transaction the standby held at failover; data loss is measured from it."""
    check_can_execute(exercise, user)
    check_not_frozen(exercise)
    check_version(exercise, version, "The exercise")
    exercise.last_replicated_at = last_replicated_at
    db.session.commit()
    return exercise


def can_sign(exercise: DrExercise, user: User) -> bool:
    """The owner signs; an exercise without an owner is signed by the crisis team or an admin."""
    if exercise.is_signed_off:
        return False
    return user.id == exercise.owner_id if exercise.owner_id is not None else user.role in EDITORS


def sign_off(exercise: DrExercise, *, user: User, version: int | None) -> DrExercise:
    """The owner signs the finished exercise off: the computed figures are stored and nothing changes after."""
    check_not_frozen(exercise)
    check_version(exercise, version, "The exercise")
    if not can_sign(exercise, user):
        raise Forbidden("Only the exercise owner signs it off.")
    if any(step.state in (StepState.PENDING, StepState.RUNNING) for step in exercise.steps):
        raise Conflict("Every step must be completed or skipped before sign-off.")
    now = utcnow()
    result = figures(exercise, now=now)
    exercise.result = result.result
    exercise.recovery_seconds = _seconds(result.recovery)
    exercise.failback_seconds = _seconds(result.failback)
    exercise.data_loss_seconds = _seconds(result.data_loss)
    exercise.signed_off_at, exercise.signed_off_by_id = now, user.id
    db.session.commit()
    return exercise


def _seconds(value) -> int | None:
    return None if value is None else int(value.total_seconds())


@dataclass(frozen=True)
class TrendPoint:
    quarter_label: str
    exercise: DrExercise
    recovery_seconds: int | None
    rto_minutes: int
    result: Result | None


def recovery_trend(template: DrTemplate) -> list[TrendPoint]:
    """Recovery time per signed-off exercise of the template, quarter by quarter, oldest first."""
    rows = db.session.scalars(select(DrExercise).where(DrExercise.template_id == template.id,
                                                       DrExercise.signed_off_at.is_not(None))
                              .order_by(DrExercise.fiscal_year, DrExercise.quarter, DrExercise.id)
                              .options(selectinload(DrExercise.steps)))
    return [TrendPoint(e.quarter_label, e, e.recovery_seconds, e.rto_minutes, e.result) for e in rows]
