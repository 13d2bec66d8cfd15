"""Escalation policies: ordered steps of schedules and people to notify, saved whole or not at all.

The close window and the snapshot an alert keeps live in app.oncall.close_mode; they are re-exported here so
callers need one import for everything about policies.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.auth.services import find_user_by_email
from app.database import commit_or_conflict
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.oncall.close_mode import (CloseWindow, EffectiveStep, StepTarget, close_window,  # noqa: F401
                                   current_close_window, effective_steps, in_close_window, snapshot_policy,
                                   steps_from_snapshot, window_containing)
from app.oncall.models import (ContactKind, ContactMethod, EscalationPolicy, EscalationStep, EscalationTarget,
                               RotationMember, Schedule, ScheduleLayer)

NAME_MAX = 80
DESCRIPTION_MAX = 2000
REPEAT_RANGE = (0, 9)
CLOSE_DELAY_RANGE = (1, 60)
ACK_TIMEOUT_RANGE = (0, 1440)
DELAY_RANGE = (1, 1440)  # one day: a longer wait is not escalation any more
MAX_STEPS = 10
MAX_TARGETS = 20
TARGET_KINDS = ("schedule_id", "user_id")
# Policies read through the API carry these beside the id; a client may send them back and they are ignored.
READ_ONLY_TARGET_KEYS = frozenset({"name", "email"})

TargetKey = tuple[str, int]  # ("schedule_id", 3) or ("user_id", 7)


def list_policies() -> list[EscalationPolicy]:
    return list(db.session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.name).options(
        selectinload(EscalationPolicy.steps).selectinload(EscalationStep.targets))))


def get_policy(policy_id: int) -> EscalationPolicy:
    policy = db.session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise NotFound("No such escalation policy.")
    return policy


def policies_using_schedule(schedule_id: int) -> list[EscalationPolicy]:
    """Policies with a step that pages `schedule_id`: a schedule they use cannot be deleted (the key restricts it)."""
    return list(db.session.scalars(
        select(EscalationPolicy).join(EscalationStep).join(EscalationTarget)
        .where(EscalationTarget.schedule_id == schedule_id).distinct().order_by(EscalationPolicy.name)))


def target_options() -> tuple[list[Schedule], list[User]]:
    """What a step may notify: every schedule and every active person, by name."""
    schedules = list(db.session.scalars(select(Schedule).order_by(Schedule.name)))
    users = list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))
    return schedules, users


def policy_steps_input(policy: EscalationPolicy) -> list[dict[str, Any]]:
    """The policy's steps in the shape save_policy() takes, to save them again unchanged."""
    return [{"delay_minutes": step.delay_minutes,
             "targets": [{"schedule_id": t.schedule_id} if t.schedule_id is not None else {"user_id": t.user_id}
                         for t in step.targets]}
            for step in policy.steps]


def _whole(value: Any, bounds: tuple[int, int], field: str, what: str) -> int:
    low, high = bounds
    # bool is an int in Python; "true" is never meant as a number of minutes.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{what} must be a whole number from {low} to {high}.", field)
    return value


def _check_target(kind: str, ident: Any, field: str) -> TargetKey:
    if isinstance(ident, bool) or not isinstance(ident, int):
        raise Invalid("Must be the id (a whole number) of a schedule or person.", field)
    if kind == "schedule_id":
        if db.session.get(Schedule, ident) is None:
            raise Invalid(f"There is no schedule with id {ident}.", field)
    else:
        user = db.session.get(User, ident)
        if user is None:
            raise Invalid(f"There is no person with id {ident}.", field)
        if not user.active:
            raise Invalid(f"{user.name} is deactivated; choose someone who can be reached.", field)
    return kind, ident


def _clean_targets(targets: Any, where: str) -> list[TargetKey]:
    if not isinstance(targets, list) or not targets:
        raise Invalid("Choose at least one schedule or person to notify.", f"{where}.targets")
    if len(targets) > MAX_TARGETS:
        raise Invalid(f"A step notifies at most {MAX_TARGETS} schedules or people.", f"{where}.targets")
    cleaned: list[TargetKey] = []
    for index, target in enumerate(targets):
        field = f"{where}.targets[{index}]"
        if not isinstance(target, Mapping):
            raise Invalid('A target is an object: {"schedule_id": 3} or {"user_id": 7}.', field)
        unknown = sorted(set(target) - set(TARGET_KINDS) - READ_ONLY_TARGET_KEYS)
        if unknown:
            raise Invalid("Unknown field.", f"{field}.{unknown[0]}")
        given = [kind for kind in TARGET_KINDS if target.get(kind) is not None]
        if len(given) != 1:
            raise Invalid("Name exactly one of schedule_id or user_id.", field)
        key = _check_target(given[0], target[given[0]], f"{field}.{given[0]}")
        if key in cleaned:
            raise Invalid("This schedule or person is already in the step.", field)
        cleaned.append(key)
    return cleaned


def _clean_steps(steps: Any) -> list[tuple[int, list[TargetKey]]]:
    """Validate every step before anything is written; refusals name the step and field at fault."""
    if not isinstance(steps, Sequence) or isinstance(steps, str) or not steps:
        raise Invalid("Add at least one step.", "steps")
    if len(steps) > MAX_STEPS:
        raise Invalid(f"A policy has at most {MAX_STEPS} steps.", "steps")
    cleaned = []
    for index, step in enumerate(steps):
        where = f"steps[{index}]"
        if not isinstance(step, Mapping):
            raise Invalid("A step is an object with delay_minutes and targets.", where)
        unknown = sorted(set(step) - {"delay_minutes", "targets"})
        if unknown:
            raise Invalid("Unknown field.", f"{where}.{unknown[0]}")
        delay = _whole(step.get("delay_minutes"), DELAY_RANGE, f"{where}.delay_minutes", "The wait")
        cleaned.append((delay, _clean_targets(step.get("targets"), where)))
    return cleaned


def _clean_name(name: Any, policy: EscalationPolicy | None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid("Give the policy a name.", "name")
    name = name.strip()
    if len(name) > NAME_MAX:
        raise Invalid(f"Use at most {NAME_MAX} characters.", "name")
    clash = db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == name))
    if clash is not None and clash is not policy:
        raise Conflict(f"A policy named {name} already exists.", "name")
    return name


def _set_targets(step: EscalationStep, wanted: list[TargetKey]) -> None:
    # Keep the targets that stay, so the history shows only what really changed.
    def key(target: EscalationTarget) -> TargetKey:
        return ("schedule_id", target.schedule_id) if target.schedule_id is not None else ("user_id", target.user_id)

    for target in [t for t in step.targets if key(t) not in wanted]:
        step.targets.remove(target)
    present = {key(t) for t in step.targets}
    for kind, ident in wanted:
        if (kind, ident) not in present:
            step.targets.append(EscalationTarget(**{kind: ident}))


def _set_steps(policy: EscalationPolicy, cleaned: list[tuple[int, list[TargetKey]]]) -> None:
    # Steps are updated in place by position; new ones are appended and surplus ones removed, so no two
    # rows ever share a (policy, position) during the flush.
    existing = list(policy.steps)
    for position, (delay, targets) in enumerate(cleaned):
        if position < len(existing):
            step = existing[position]
            step.delay_minutes = delay
        else:
            step = EscalationStep(position=position, delay_minutes=delay)
            policy.steps.append(step)
        _set_targets(step, targets)
    for step in existing[len(cleaned):]:
        policy.steps.remove(step)


def save_policy(policy: EscalationPolicy | None, *, name: Any, description: Any = "", repeat: Any = 0,
                close_mode: Any = False, close_mode_max_delay: Any = 5, ack_timeout_minutes: Any = 60,
                steps: Any) -> EscalationPolicy:
    """Create (policy=None) or replace a policy with its ordered steps in one transaction, or refuse and write nothing.

    steps: [{"delay_minutes": 1..1440, "targets": [{"schedule_id": id} | {"user_id": id}, ...]}, ...]
    """
    name = _clean_name(name, policy)
    description = "" if description is None else description
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX:
        raise Invalid(f"Use at most {DESCRIPTION_MAX} characters.", "description")
    repeat = _whole(repeat, REPEAT_RANGE, "repeat", "Repeat")
    if not isinstance(close_mode, bool):
        raise Invalid("Must be true or false.", "close_mode")
    close_mode_max_delay = _whole(close_mode_max_delay, CLOSE_DELAY_RANGE, "close_mode_max_delay",
                                  "The longest wait in close mode")
    ack_timeout_minutes = _whole(ack_timeout_minutes, ACK_TIMEOUT_RANGE, "ack_timeout_minutes",
                                 "The acknowledgement timeout")
    cleaned = _clean_steps(steps)

    if policy is None:
        policy = EscalationPolicy()
        db.session.add(policy)
    policy.name, policy.description, policy.repeat = name, description.strip(), repeat
    policy.close_mode, policy.close_mode_max_delay = close_mode, close_mode_max_delay
    policy.ack_timeout_minutes = ack_timeout_minutes
    _set_steps(policy, cleaned)
    try:
        db.session.commit()
    except IntegrityError:
        # Only a concurrent save can get here: the checks above ran against what was committed before it.
        db.session.rollback()
        raise Conflict("Someone changed policies, schedules or people at the same moment; check and save again.",
                       "name") from None
    return policy


def delete_policy(policy: EscalationPolicy) -> None:
    """Delete a policy with its steps. Alerts keep the snapshot they escalate from, so deleting is safe."""
    db.session.delete(policy)
    db.session.commit()


def fallback_policy() -> EscalationPolicy | None:
    return db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.is_fallback.is_(True)))


def set_fallback(policy: EscalationPolicy | None) -> None:
    """Make `policy` the organisation's fallback (None: have none); the previous one stops being it. Commits.

    The fallback pages alerts that have no policy of their own and, once, alerts whose policy ran out with
    nobody acknowledging.
    """
    current = fallback_policy()
    if current is not None and current is not policy:
        current.is_fallback = False
        db.session.flush()  # the partial unique index allows one fallback at a time
    if policy is not None:
        if not policy.steps:
            raise Invalid("A fallback policy needs at least one step.", "is_fallback")
        policy.is_fallback = True
    # Two admins chose different fallbacks at once: the first one stands.
    commit_or_conflict("Another fallback policy was chosen at the same moment; look again.", "is_fallback")


def people_reached(policy: EscalationPolicy) -> list[User]:
    """Everyone a step can page: the people named, and the members of the rotations its schedules use."""
    named = {t.user for step in policy.steps for t in step.targets if t.user is not None}
    schedule_ids = {t.schedule_id for step in policy.steps for t in step.targets if t.schedule_id is not None}
    members = set(db.session.scalars(
        select(User).join(RotationMember, RotationMember.user_id == User.id)
        .join(ScheduleLayer, ScheduleLayer.rotation_id == RotationMember.rotation_id)
        .where(ScheduleLayer.schedule_id.in_(schedule_ids)))) if schedule_ids else set()
    return sorted((person for person in named | members if person.active), key=lambda person: person.name)


def cannot_be_called(policy: EscalationPolicy) -> list[User]:
    """People the policy can page who have no verified, enabled voice number: close mode cannot call them."""
    people = people_reached(policy)
    callable_ids = set(db.session.scalars(select(ContactMethod.user_id).where(
        ContactMethod.user_id.in_([person.id for person in people]), ContactMethod.kind == ContactKind.VOICE,
        ContactMethod.verified_at.is_not(None), ContactMethod.disabled_at.is_(None)))) if people else set()
    return [person for person in people if person.id not in callable_ids]


DEMO_POLICY = "Critical jobs"
DEMO_FALLBACK = "Crisis team (fallback)"
DEMO_SCHEDULE = "Follow the sun"
DEMO_CRISIS = "crisis@acme.example"
DEMO_ADMIN = "admin@acme.example"


def seed_demo_policy() -> EscalationPolicy:
    """Create the demo "Critical jobs" policy unless it exists; needs the demo users. Safe to run twice."""
    existing = db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == DEMO_POLICY))
    if existing is not None:
        return existing
    crisis, admin = find_user_by_email(DEMO_CRISIS), find_user_by_email(DEMO_ADMIN)
    if crisis is None or admin is None:
        raise NotFound(f"Create the demo users ({DEMO_CRISIS}, {DEMO_ADMIN}) before the demo policy.")
    schedule = db.session.scalar(select(Schedule).where(Schedule.name == DEMO_SCHEDULE))
    first = {"schedule_id": schedule.id} if schedule is not None else {"user_id": crisis.id}
    return save_policy(
        None, name=DEMO_POLICY, repeat=2, close_mode=True, close_mode_max_delay=2,
        description="Pages the on-call when a critical job misses its run; tightens during the quarter close.",
        steps=[{"delay_minutes": 5, "targets": [first]},
               {"delay_minutes": 10, "targets": [{"user_id": crisis.id}]},
               {"delay_minutes": 15, "targets": [{"user_id": admin.id}]}])


def seed_demo_fallback() -> EscalationPolicy:
    """The demo's fallback policy: the crisis team lead, then the administrator. Safe to run twice."""
    existing = db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == DEMO_FALLBACK))
    if existing is None:
        crisis, admin = find_user_by_email(DEMO_CRISIS), find_user_by_email(DEMO_ADMIN)
        if crisis is None or admin is None:
            raise NotFound(f"Create the demo users ({DEMO_CRISIS}, {DEMO_ADMIN}) before the fallback policy.")
        existing = save_policy(
            None, name=DEMO_FALLBACK, repeat=1, close_mode=True, close_mode_max_delay=5,
            description="Pages the crisis team when an alert has no policy of its own, or when nobody answered "
                        "its policy.",
            steps=[{"delay_minutes": 10, "targets": [{"user_id": crisis.id}]},
                   {"delay_minutes": 10, "targets": [{"user_id": admin.id}]}])
    if fallback_policy() is None:
        set_fallback(existing)
    return existing
