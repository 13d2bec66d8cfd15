"""The overall score: weighted, untracked tracks left out, colours by threshold, and the hard gates."""
from __future__ import annotations

import pytest

from app.drtests.models import Result
from app.extensions import db
from app.readiness.score import colour_for, combine, compute_readiness
from app.readiness.tracks.base import Gate, TrackResult
from app.timeutil import utcnow
from tests.readiness.conftest import JAN_25


@pytest.mark.parametrize("score, colour", [(100, "green"), (85, "green"), (84, "amber"), (60, "amber"),
                                           (59, "red"), (0, "red"), (None, "grey")])
def test_colour_thresholds(score, colour):
    assert colour_for(score) == colour


def test_the_overall_score_is_the_weighted_mean_of_the_tracked_tracks_only():
    results = [TrackResult("risks", 80), TrackResult("jobs", 100), TrackResult("vendors", None)]
    score, colour, score_colour, gates = combine(results, {"risks": 3, "jobs": 1, "vendors": 50})
    assert score == 85  # (80*3 + 100*1) / 4; the untracked vendors weigh nothing
    assert (colour, score_colour, gates) == ("green", "green", [])


def test_a_red_track_caps_a_green_score_at_amber():
    results = [TrackResult("risks", 40), TrackResult("jobs", 100)]
    score, colour, score_colour, gates = combine(results, {"risks": 1, "jobs": 9})
    assert (score, score_colour, colour) == (94, "green", "amber")
    assert [gate.text for gate in gates] == ["Risks is red"]


def test_a_red_gate_wins_over_a_green_score():
    results = [TrackResult("risks", 100, gates=[Gate("red", "critical risk unmitigated")])]
    assert combine(results, {"risks": 1})[1] == "red"


def test_nothing_tracked_is_amber_not_green():
    assert combine([TrackResult("risks", None)], {"risks": 1})[:2] == (None, "amber")


@pytest.mark.config(READINESS_WEIGHTS={"jobs": 0})
def test_weights_come_from_the_configuration(app, make_app, make_job):
    job = make_job()
    job.state = "down"
    db.session.commit()
    readiness = compute_readiness()
    assert readiness.track("jobs").score == 88  # down (10) and no runbook (2)
    assert readiness.score is None  # jobs is the only tracked track and it weighs nothing


def test_no_passed_dr_test_this_quarter_caps_the_quarter_at_amber(app, make_exercise):
    exercise = make_exercise()
    gates = compute_readiness().gates
    assert [(gate.cap, gate.text) for gate in gates] == [("amber", "No DR test passed this quarter")]
    exercise.signed_off_at, exercise.result = utcnow(), Result.FAILED
    db.session.commit()
    assert [gate.text for gate in compute_readiness().gates] == ["DR test failed this quarter"]
    exercise.result = Result.PASSED
    db.session.commit()
    assert compute_readiness().gates == []


def test_the_dr_gate_holds_even_when_the_dr_domain_is_empty(app):
    readiness = compute_readiness()
    assert readiness.track("drtest").score is None
    assert readiness.colour == "amber"
    assert [gate.text for gate in readiness.gates] == ["No DR test passed this quarter"]


def test_a_critical_risk_unmitigated_at_bd_minus_5_makes_the_quarter_red(app, make_risk, make_exercise, clock):
    passed = make_exercise()
    passed.signed_off_at, passed.result = utcnow(), Result.PASSED
    db.session.commit()
    risk = make_risk(likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
    early = compute_readiness()
    assert not any(gate.cap == "red" for gate in early.gates)  # 17 November: before BD-5
    clock.move_to(JAN_25)  # after BD-5 (22 January)
    late = compute_readiness()
    assert late.colour == "red"
    red = [gate for gate in late.gates if gate.cap == "red"]
    assert red[0].url == f"/risks/{risk.id}"


def test_weights_are_read_from_the_environment_and_a_bad_value_stops_start_up():
    from config import ConfigError, load_config
    from tests import support
    assert load_config({**support.TEST_ENV, "READINESS_WEIGHTS": "risks=30, lessons=0"})["READINESS_WEIGHTS"] == {
        "risks": 30, "lessons": 0}
    with pytest.raises(ConfigError, match="READINESS_WEIGHTS"):
        load_config({**support.TEST_ENV, "READINESS_WEIGHTS": "coffee=10"})
