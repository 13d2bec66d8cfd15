"""Working an exercise: start, complete or skip steps in dependency order, with server timestamps.

Each write names the step version it was based on. A different version means someone else moved the step
since the page was loaded, and the write is refused; the ORM's version column also refuses the write when two
requests race between reading and saving.
"""
from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.drtests.exercises import check_can_execute, check_not_frozen, check_version
from app.drtests.models import DrExercise, ExerciseStep, Outcome, StepState
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.timeutil import utcnow


def get_step(exercise: DrExercise, step_id: int) -> ExerciseStep:
    step = db.session.get(ExerciseStep, step_id)
    if step is None or step.exercise_id != exercise.id:
        raise NotFound("No such step in this exercise.")
    return step


def blocking_steps(step: ExerciseStep) -> list[ExerciseStep]:
    """Earlier steps this one depends on that are neither completed nor skipped."""
    by_position = {s.position: s for s in step.exercise.steps}
    return [by_position[n] for n in step.dependency_positions if n in by_position and not by_position[n].is_finished]


def _save(step: ExerciseStep) -> ExerciseStep:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(f"Step {step.position} was changed by someone else at the same moment. Reload and try "
                       f"again.", field="version") from None
    return step


def _guard(step: ExerciseStep, user: User, version: int | None) -> None:
    check_can_execute(step.exercise, user)
    check_not_frozen(step.exercise)
    check_version(step, version, f"Step {step.position}")


def start_step(step: ExerciseStep, *, user: User, version: int | None) -> ExerciseStep:
    """Start a pending step whose dependencies are all finished; the server's clock stamps it."""
    _guard(step, user, version)
    if step.state != StepState.PENDING:
        raise Conflict(f"Step {step.position} is already {step.state.value}.")
    blockers = blocking_steps(step)
    if blockers:
        raise Conflict(f"Step {step.position} waits for step{'s' if len(blockers) > 1 else ''} "
                       f"{', '.join(str(b.position) for b in blockers)} to be completed or skipped.")
    now = utcnow()
    step.state, step.started_at, step.started_by_id = StepState.RUNNING, now, user.id
    if step.exercise.started_at is None:
        step.exercise.started_at = now
    return _save(step)


def complete_step(step: ExerciseStep, *, user: User, version: int | None, outcome: str | Outcome,
                  notes: str = "") -> ExerciseStep:
    """Complete a running step with its outcome; a step that needs evidence has some unless it failed."""
    _guard(step, user, version)
    outcome = Outcome(outcome)
    if outcome == Outcome.SKIPPED:
        raise Invalid("Use skip, with a reason, to skip a step.", field="outcome")
    if step.state != StepState.RUNNING:
        raise Conflict(f"Step {step.position} is {step.state.value}; only a running step can be completed.")
    if step.evidence_required and not step.evidence and outcome != Outcome.FAILED:
        raise Invalid(f"Step {step.position} needs evidence (a file or a link) before it is completed.",
                      field="outcome")
    step.state, step.outcome = StepState.DONE, outcome
    step.completed_at, step.completed_by_id = utcnow(), user.id
    if notes:
        step.notes = notes.strip()
    return _save(step)


def skip_step(step: ExerciseStep, *, user: User, version: int | None, reason: str) -> ExerciseStep:
    """Skip a pending or running step; the reason is required and kept."""
    _guard(step, user, version)
    if not (reason or "").strip():
        raise Invalid("Say why the step is skipped.", field="reason")
    if step.is_finished:
        raise Conflict(f"Step {step.position} is already {step.state.value}.")
    now = utcnow()
    step.state, step.outcome, step.skip_reason = StepState.SKIPPED, Outcome.SKIPPED, reason.strip()
    step.completed_at, step.completed_by_id = now, user.id
    return _save(step)


def save_notes(step: ExerciseStep, *, user: User, version: int | None, notes: str) -> ExerciseStep:
    """Replace the step's notes, refusing a write based on an older version."""
    _guard(step, user, version)
    step.notes = (notes or "").strip()
    return _save(step)
