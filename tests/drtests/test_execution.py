"""Working an exercise: dependencies, server timestamps, outcomes, stale writes refused, sign-off freeze."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.drtests import evidence, exercises, execution, templates
from app.drtests.models import Outcome, Result, StepState
from app.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from tests.drtests.conftest import START


def run_all(exercise, user, clock, outcome="ok", minutes=5, skip_positions=()):
    for step in exercise.steps:
        if step.position in skip_positions:
            execution.skip_step(step, user=user, version=step.version, reason="not in scope")
            continue
        execution.start_step(step, user=user, version=step.version)
        if step.evidence_required:
            evidence.add_link(step, user=user, url="https://tickets.example/1", label="ticket")
        clock.plus(minutes)
        execution.complete_step(step, user=user, version=step.version, outcome=outcome)


def test_a_step_cannot_start_before_the_steps_it_depends_on_are_finished(make_exercise, make_user, clock):
    exercise = make_exercise()
    user = make_user("responder")
    second = exercise.steps[1]
    with pytest.raises(Conflict, match="waits for step 1"):
        execution.start_step(second, user=user, version=second.version)
    first = exercise.steps[0]
    execution.start_step(first, user=user, version=first.version)
    with pytest.raises(Conflict, match="waits for step 1"):
        execution.start_step(second, user=user, version=second.version)
    execution.complete_step(first, user=user, version=first.version, outcome="ok")
    execution.start_step(second, user=user, version=second.version)
    assert second.state == StepState.RUNNING


def test_a_skipped_dependency_lets_the_next_step_start(make_exercise, make_user, clock):
    exercise = make_exercise()
    user = make_user("responder")
    first, second = exercise.steps[0], exercise.steps[1]
    execution.skip_step(first, user=user, version=first.version, reason="done yesterday")
    execution.start_step(second, user=user, version=second.version)
    assert (first.state, first.outcome, first.skip_reason) == (StepState.SKIPPED, Outcome.SKIPPED, "done yesterday")


def test_skipping_needs_a_reason(make_exercise, make_user, clock):
    exercise = make_exercise()
    step = exercise.steps[0]
    with pytest.raises(Invalid) as refused:
        execution.skip_step(step, user=make_user(), version=step.version, reason="  ")
    assert refused.value.field == "reason"


def test_steps_are_stamped_with_the_server_time_and_who_did_them(make_exercise, make_user, clock):
    exercise = make_exercise()
    user = make_user("responder")
    step = exercise.steps[0]
    execution.start_step(step, user=user, version=step.version)
    clock.plus(7)
    execution.complete_step(step, user=user, version=step.version, outcome="ok_with_issues", notes="slow queue")
    db.session.expire_all()
    assert step.started_at == START and step.completed_at == START + timedelta(minutes=7)
    assert step.started_by_id == user.id == step.completed_by_id
    assert (step.outcome, step.notes) == (Outcome.OK_WITH_ISSUES, "slow queue")
    assert exercise.started_at == START


def test_a_step_that_requires_evidence_cannot_be_completed_without_it(make_exercise, make_user, clock):
    exercise = make_exercise()
    user = make_user()
    for step in exercise.steps[:4]:
        execution.start_step(step, user=user, version=step.version)
        execution.complete_step(step, user=user, version=step.version, outcome="ok")
    validate = exercise.steps[4]
    execution.start_step(validate, user=user, version=validate.version)
    with pytest.raises(Invalid, match="needs evidence"):
        execution.complete_step(validate, user=user, version=validate.version, outcome="ok")
    evidence.add_link(validate, user=user, url="https://dash.example/orders")
    execution.complete_step(validate, user=user, version=validate.version, outcome="ok")
    assert validate.state == StepState.DONE


def test_a_write_based_on_an_older_version_is_refused_not_applied(make_exercise, make_user, clock):
    exercise = make_exercise()
    alice, bob = make_user(), make_user()
    step = exercise.steps[0]
    seen_by_both = step.version
    execution.start_step(step, user=alice, version=seen_by_both)
    execution.save_notes(step, user=alice, version=step.version, notes="alice's notes")
    with pytest.raises(Conflict, match="changed by someone else") as refused:
        execution.save_notes(step, user=bob, version=seen_by_both, notes="bob's notes")
    assert refused.value.field == "version"
    db.session.expire_all()
    assert step.notes == "alice's notes"


def test_two_sessions_racing_on_the_same_step_cannot_both_win(app, make_exercise, make_user, clock):
    exercise = make_exercise()
    user = make_user()
    step_id, exercise_id = exercise.steps[0].id, exercise.id
    # Another session moves the step on between our read and our write.
    from sqlalchemy import update
    from app.drtests.models import ExerciseStep
    step = db.session.get(ExerciseStep, step_id)
    loaded_version = step.version
    with db.engine.begin() as other:
        other.execute(update(ExerciseStep).where(ExerciseStep.id == step_id)
                      .values(notes="theirs", version=ExerciseStep.version + 1))
    with pytest.raises(Conflict, match="same moment"):
        execution.save_notes(step, user=user, version=loaded_version, notes="ours")
    db.session.expire_all()
    assert db.session.get(ExerciseStep, step_id).notes == "theirs"
    assert exercises.get_exercise(exercise_id).steps[0].notes == "theirs"


def test_only_the_crisis_team_admins_and_responders_work_steps(make_exercise, make_user, clock):
    exercise = make_exercise()
    step = exercise.steps[0]
    with pytest.raises(Forbidden):
        execution.start_step(step, user=make_user("executive"), version=step.version)


def test_signing_off_needs_every_step_finished_and_the_owner(make_exercise, make_user, clock):
    owner = make_user("executive")
    exercise = make_exercise(owner=owner)
    worker = make_user("responder")
    with pytest.raises(Conflict, match="completed or skipped"):
        exercises.sign_off(exercise, user=owner, version=exercise.version)
    run_all(exercise, worker, clock)
    with pytest.raises(Forbidden, match="owner"):
        exercises.sign_off(exercise, user=worker, version=exercise.version)
    exercises.sign_off(exercise, user=owner, version=exercise.version)
    assert exercise.signed_off_by_id == owner.id and exercise.result == Result.INCOMPLETE  # no RPO point recorded


def test_a_signed_off_exercise_is_frozen(make_exercise, make_user, clock):
    owner = make_user()
    exercise = make_exercise(owner=owner)
    run_all(exercise, owner, clock)
    exercises.record_replication(exercise, user=owner, version=exercise.version,
                                 last_replicated_at=START)
    exercises.sign_off(exercise, user=owner, version=exercise.version)
    step = exercise.steps[0]
    for attempt in (lambda: execution.save_notes(step, user=owner, version=step.version, notes="later"),
                    lambda: evidence.add_link(step, user=owner, url="https://x.example"),
                    lambda: exercises.record_replication(exercise, user=owner, version=exercise.version,
                                                         last_replicated_at=START),
                    lambda: exercises.sign_off(exercise, user=owner, version=exercise.version)):
        with pytest.raises(Conflict, match="frozen"):
            attempt()
    assert exercise.result == Result.PASSED and exercise.recovery_seconds is not None


def test_editing_a_template_leaves_scheduled_exercises_as_they_were(make_template, make_exercise, clock):
    template = make_template(rto_minutes=60)
    exercise = make_exercise(template=template)
    assert exercise.template_version == template.version
    before = template.version
    templates.update_template(template, name=template.name, rto_minutes=30, rpo_minutes=5)
    templates.add_step(template, title="New check", phase="close", expected_minutes=5)
    templates.update_step(template.steps[0], **{**templates.step_fields(template.steps[0]), "title": "Renamed"})
    assert template.version == before + 3
    db.session.expire_all()
    assert exercise.rto_minutes == 60 and exercise.rpo_minutes == 15
    assert [s.title for s in exercise.steps][0] == "Freeze batch jobs" and len(exercise.steps) == 7
    later = make_exercise(template=template)
    assert later.template_version == before + 3 and later.steps[0].title == "Renamed" and len(later.steps) == 8


@pytest.mark.parametrize("text", ["3", "0", "x", "2, 5"])
def test_a_step_can_only_depend_on_earlier_steps(make_template, text):
    template = make_template(steps=[("A", "prepare", 1, "", True, False, False),
                                    ("B", "prepare", 1, "", True, False, False)])
    with pytest.raises(Invalid) as refused:
        templates.add_step(template, title="C", phase="failover", depends_on=text)
    assert refused.value.field == "depends_on"


def test_deleting_a_step_renumbers_later_dependencies(make_template):
    template = make_template(steps=[("A", "prepare", 1, "", True, False, False),
                                    ("B", "prepare", 1, "", True, False, False),
                                    ("C", "failover", 1, "2", True, False, False)])
    with pytest.raises(Conflict, match="depend on step 2"):
        templates.delete_step(template.steps[1])
    templates.delete_step(template.steps[0])
    assert [(s.position, s.title, s.depends_on) for s in template.steps] == [(1, "B", ""), (2, "C", "1")]
