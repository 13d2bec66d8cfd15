"""Figures computed from step timestamps: recovery time over counting steps, failback, data loss, the result."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.drtests import evidence, exercises, execution
from app.drtests.models import Result
from app.drtests.results import figures, phase_timings, timed_span
from app.timeutil import utcnow
from tests.drtests.conftest import START

M = timedelta(minutes=1)


def work(step, user, clock, minutes, outcome="ok", gap=0):
    clock.plus(gap)
    execution.start_step(step, user=user, version=step.version)
    if step.evidence_required:
        evidence.add_link(step, user=user, url="https://evidence.example/1")
    clock.plus(minutes)
    execution.complete_step(step, user=user, version=step.version, outcome=outcome)


def run(exercise, user, clock, minutes, outcomes=None, gaps=None):
    """Run the seven basic steps, each taking minutes[i], with optional idle gaps before them."""
    for index, step in enumerate(exercise.steps):
        work(step, user, clock, minutes[index], (outcomes or {}).get(step.position, "ok"),
             (gaps or {}).get(step.position, 0))


def test_recovery_time_runs_from_failover_start_to_validation_end_less_excluded_steps(make_exercise, make_user,
                                                                                       clock):
    exercise = make_exercise()
    user = make_user()
    # prepare 10, failover 20 + (15 not counted) + 10, validate 15, failback 30, close 5; a 3-minute idle gap
    # before step 4 stays in: the service was down then.
    run(exercise, user, clock, [10, 20, 15, 10, 15, 30, 5], gaps={4: 3})
    result = figures(exercise, now=utcnow())
    assert result.recovery == (20 + 3 + 10 + 15) * M
    assert result.failback == 30 * M


def test_a_counting_step_running_beside_an_excluded_one_keeps_the_overlap():
    class Step:
        def __init__(self, start, end, counts):
            self.started_at, self.completed_at, self.counts_toward_recovery = START + start * M, START + end * M, counts

    steps = [Step(0, 20, True), Step(10, 40, False), Step(30, 50, True)]
    # Window 0..50; the excluded step covers 10..40, of which 10..20 and 30..40 overlap counting steps.
    assert timed_span(steps, now=START) == 40 * M


def test_a_running_step_counts_up_to_now(make_exercise, make_user, clock):
    exercise = make_exercise()
    user = make_user()
    work(exercise.steps[0], user, clock, 10)
    step = exercise.steps[1]
    execution.start_step(step, user=user, version=step.version)
    clock.plus(12)
    result = figures(exercise, now=utcnow())
    assert result.recovery == 12 * M and result.result == Result.INCOMPLETE
    timings = {t.phase.value: t for t in phase_timings(exercise, now=utcnow())}
    assert timings["prepare"].elapsed == 10 * M and not timings["prepare"].running
    assert timings["failover"].elapsed == 12 * M and timings["failover"].running
    assert timings["failover"].expected == 45 * M and "validate" in timings and timings["validate"].elapsed is None


def test_data_loss_is_failover_start_minus_the_last_replicated_transaction(make_exercise, make_user, clock):
    exercise = make_exercise()
    user = make_user()
    run(exercise, user, clock, [10, 20, 15, 10, 15, 30, 5])
    failover_start = START + 10 * M
    exercises.record_replication(exercise, user=user, version=exercise.version,
                                 last_replicated_at=failover_start - 4 * M)
    result = figures(exercise, now=utcnow())
    assert result.data_loss == 4 * M and result.rpo_met is True
    assert result.result == Result.PASSED


@pytest.mark.parametrize("minutes, outcomes, replicated_before, expected, reason", [
    ([10, 20, 0, 10, 15, 30, 5], {}, 5, Result.PASSED, None),
    ([10, 20, 0, 10, 15, 30, 5], {6: "ok_with_issues"}, 5, Result.PASSED_WITH_ISSUES, "step 6 ok with issues"),
    ([10, 20, 0, 10, 15, 30, 5], {4: "failed"}, 5, Result.PASSED_WITH_ISSUES, "step 4 failed"),
    ([10, 20, 0, 10, 15, 30, 5], {2: "failed"}, 5, Result.FAILED, "critical step 2 failed"),
    ([10, 40, 0, 10, 15, 30, 5], {}, 5, Result.FAILED, "recovery time exceeded the RTO"),
    ([10, 20, 0, 10, 15, 30, 5], {}, 16, Result.FAILED, "data loss exceeded the RPO"),
    ([10, 20, 0, 10, 15, 30, 5], {}, None, Result.INCOMPLETE, "last replicated transaction time not recorded"),
])
def test_result_rules(make_exercise, make_user, clock, minutes, outcomes, replicated_before, expected, reason):
    exercise = make_exercise()  # RTO 60, RPO 15
    user = make_user()
    run(exercise, user, clock, minutes, outcomes)
    if replicated_before is not None:
        exercises.record_replication(exercise, user=user, version=exercise.version,
                                     last_replicated_at=START + 10 * M - replicated_before * M)
    result = figures(exercise, now=utcnow())
    assert result.result == expected
    if reason:
        assert reason in result.reasons


def test_recovery_exactly_at_the_rto_meets_it(make_exercise, make_user, clock):
    exercise = make_exercise()
    user = make_user()
    run(exercise, user, clock, [10, 30, 5, 15, 15, 30, 5])  # 30 + 15 + 15 = 60 counted
    result = figures(exercise, now=utcnow())
    assert result.recovery == 60 * M and result.rto_met is True


def test_a_missed_rto_fails_even_while_steps_remain_open(make_exercise, make_user, clock):
    exercise = make_exercise()
    user = make_user()
    work(exercise.steps[0], user, clock, 10)
    step = exercise.steps[1]
    execution.start_step(step, user=user, version=step.version)
    clock.plus(61)
    assert figures(exercise, now=utcnow()).result == Result.FAILED


def test_sign_off_stores_the_figures_for_the_trend(make_template, make_exercise, make_user, clock):
    template = make_template()
    owner = make_user()
    exercise = make_exercise(template=template, owner=owner)
    run(exercise, owner, clock, [10, 20, 15, 10, 15, 30, 5])
    exercises.record_replication(exercise, user=owner, version=exercise.version, last_replicated_at=START)
    exercises.sign_off(exercise, user=owner, version=exercise.version)
    assert (exercise.recovery_seconds, exercise.failback_seconds) == (45 * 60, 30 * 60)
    assert exercise.data_loss_seconds == 10 * 60
    trend = exercises.recovery_trend(template)
    assert [(p.quarter_label, p.recovery_seconds, p.result) for p in trend] == [("Q4 FY27", 2700, Result.PASSED)]
