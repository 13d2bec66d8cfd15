"""Escalation policy services: validation, one-transaction saves, the snapshot, the close window, the demo policy."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import func, select

from app.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.oncall import policies
from app.oncall.close_mode import EffectiveStep, StepTarget
from app.oncall.models import EscalationPolicy, EscalationStep, EscalationTarget
from app.timeutil import UTC, fiscal_quarter
from config import ConfigError, load_config


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def people(make_user):
    """Three active people and one deactivated one."""
    crisis, responder, admin = make_user("crisis_team"), make_user("responder"), make_user("admin")
    gone = make_user("responder")
    gone.active = False
    db.session.commit()
    return {"crisis": crisis, "responder": responder, "admin": admin, "gone": gone}


@pytest.fixture
def three_steps(people, make_schedule):
    """Follow the sun, then the crisis member, then the admin: waits of 5, 10 and 15 minutes."""
    sun = make_schedule("Follow the sun")
    return [{"delay_minutes": 5, "targets": [{"schedule_id": sun.id}]},
            {"delay_minutes": 10, "targets": [{"user_id": people["crisis"].id}, {"user_id": people["responder"].id}]},
            {"delay_minutes": 15, "targets": [{"user_id": people["admin"].id}]}]


def stored_steps(policy: EscalationPolicy) -> list[tuple[int, int, list[tuple[int | None, int | None]]]]:
    db.session.expire_all()
    return [(step.position, step.delay_minutes, [(t.schedule_id, t.user_id) for t in step.targets])
            for step in db.session.get(EscalationPolicy, policy.id).steps]


# --- saving ------------------------------------------------------------------------------------------------

def test_a_policy_is_saved_with_its_steps_in_order(make_policy, three_steps, people):
    policy = make_policy(three_steps, description=" Pages the on-call ", repeat=2, close_mode=True,
                         close_mode_max_delay=3)

    assert (policy.name, policy.description, policy.repeat, policy.close_mode, policy.close_mode_max_delay) == \
        ("Critical jobs", "Pages the on-call", 2, True, 3)
    sun_id = three_steps[0]["targets"][0]["schedule_id"]
    assert stored_steps(policy) == [
        (0, 5, [(sun_id, None)]),
        (1, 10, [(None, people["crisis"].id), (None, people["responder"].id)]),
        (2, 15, [(None, people["admin"].id)]),
    ]


def test_the_same_person_may_be_in_several_steps(make_policy, people):
    crisis = {"user_id": people["crisis"].id}

    policy = make_policy([{"delay_minutes": 5, "targets": [crisis]}, {"delay_minutes": 5, "targets": [crisis]}])

    assert len(policy.steps) == 2


@pytest.mark.parametrize("fields", [
    {"repeat": 0}, {"repeat": 9}, {"close_mode_max_delay": 1}, {"close_mode_max_delay": 60},
])
def test_the_limits_themselves_are_accepted(make_policy, people, fields):
    policy = make_policy([{"delay_minutes": 1, "targets": [{"user_id": people["crisis"].id}]},
                          {"delay_minutes": 1440, "targets": [{"user_id": people["admin"].id}]}], **fields)

    assert [step.delay_minutes for step in policy.steps] == [1, 1440]


def bad_steps(crisis_id: int, gone_id: int, sun_id: int) -> dict[str, tuple]:
    """Case name -> (steps, the field the refusal must name)."""
    crisis = {"user_id": crisis_id}
    ok = {"delay_minutes": 5, "targets": [crisis]}
    return {
        "no steps": ([], "steps"),
        "steps missing": (None, "steps"),
        "steps not a list": ("step one", "steps"),
        "eleven steps": ([ok] * 11, "steps"),
        "a step not an object": ([ok, 5], "steps[1]"),
        "an unknown step field": ([{**ok, "colour": "red"}], "steps[0].colour"),
        "no targets": ([{"delay_minutes": 5, "targets": []}], "steps[0].targets"),
        "second step without targets": ([ok, {"delay_minutes": 5}], "steps[1].targets"),
        "twenty-one targets": ([{"delay_minutes": 5, "targets": [crisis] * 21}], "steps[0].targets"),
        "wait of zero": ([{**ok, "delay_minutes": 0}], "steps[0].delay_minutes"),
        "wait over a day": ([ok, {**ok, "delay_minutes": 1441}], "steps[1].delay_minutes"),
        "wait as text": ([{**ok, "delay_minutes": "5"}], "steps[0].delay_minutes"),
        "wait as a boolean": ([{**ok, "delay_minutes": True}], "steps[0].delay_minutes"),
        "wait missing": ([{"targets": [crisis]}], "steps[0].delay_minutes"),
        "a target not an object": ([{**ok, "targets": [7]}], "steps[0].targets[0]"),
        "a target naming both": ([{**ok, "targets": [{"user_id": crisis_id, "schedule_id": sun_id}]}],
                                 "steps[0].targets[0]"),
        "a target naming neither": ([{**ok, "targets": [{"name": "Casey"}]}], "steps[0].targets[0]"),
        "an unknown target field": ([{**ok, "targets": [{"user_id": crisis_id, "role": "x"}]}],
                                    "steps[0].targets[0].role"),
        "an id as text": ([{**ok, "targets": [{"user_id": str(crisis_id)}]}], "steps[0].targets[0].user_id"),
        "an unknown schedule": ([{**ok, "targets": [{"schedule_id": sun_id + 100}]}],
                                "steps[0].targets[0].schedule_id"),
        "an unknown person": ([ok, {**ok, "targets": [crisis, {"user_id": 99999}]}], "steps[1].targets[1].user_id"),
        "a deactivated person": ([{**ok, "targets": [{"user_id": gone_id}]}],
                                 "steps[0].targets[0].user_id"),
        "the same target twice in a step": ([{**ok, "targets": [crisis, {"schedule_id": sun_id}, crisis]}],
                                            "steps[0].targets[2]"),
    }


STEP_CASES = list(bad_steps(1, 2, 3))  # only the names, for the test ids


@pytest.mark.parametrize("case", STEP_CASES)
def test_an_invalid_step_is_refused_naming_the_bad_value_and_nothing_is_written(make_policy, people, make_schedule,
                                                                                case):
    steps, field = bad_steps(people["crisis"].id, people["gone"].id, make_schedule().id)[case]

    with pytest.raises(DomainError) as refused:
        make_policy(steps)

    assert refused.value.field == field
    assert refused.value.status == 422
    assert (count(EscalationPolicy), count(EscalationStep), count(EscalationTarget)) == (0, 0, 0)


@pytest.mark.parametrize("fields, field", [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 81}, "name"),
    ({"name": None}, "name"),
    ({"description": "x" * 2001}, "description"),
    ({"repeat": -1}, "repeat"),
    ({"repeat": 10}, "repeat"),
    ({"repeat": None}, "repeat"),  # a cleared input on the page
    ({"repeat": "2"}, "repeat"),
    ({"close_mode": "yes"}, "close_mode"),
    ({"close_mode_max_delay": 0}, "close_mode_max_delay"),
    ({"close_mode_max_delay": 61}, "close_mode_max_delay"),
])
def test_an_invalid_policy_field_is_refused_naming_it(make_policy, people, fields, field):
    with pytest.raises(DomainError) as refused:
        make_policy([{"delay_minutes": 5, "targets": [{"user_id": people["crisis"].id}]}], **fields)

    assert refused.value.field == field
    assert count(EscalationPolicy) == 0


def test_a_taken_name_is_a_conflict_but_a_policy_keeps_its_own(make_policy, people):
    steps = [{"delay_minutes": 5, "targets": [{"user_id": people["crisis"].id}]}]
    policy = make_policy(steps, name="Critical jobs")

    with pytest.raises(Conflict) as refused:
        make_policy(steps, name=" Critical jobs ")  # compared after trimming
    assert refused.value.field == "name"

    policies.save_policy(policy, name="Critical jobs", repeat=1, steps=steps)
    assert policy.repeat == 1


def test_an_invalid_update_leaves_the_policy_and_its_steps_as_they_were(make_policy, three_steps):
    policy = make_policy(three_steps, repeat=2)
    before = stored_steps(policy)
    broken = [three_steps[0], {"delay_minutes": 1, "targets": [{"user_id": 99999}]}]

    with pytest.raises(DomainError) as refused:
        policies.save_policy(policy, name="Renamed", repeat=3, steps=broken)

    assert refused.value.field == "steps[1].targets[0].user_id"
    db.session.expire_all()
    assert (policy.name, policy.repeat) == ("Critical jobs", 2)
    assert stored_steps(policy) == before


def test_an_update_replaces_the_steps_and_keeps_unchanged_targets(make_policy, three_steps, people):
    policy = make_policy(three_steps)
    kept_target = policy.steps[1].targets[0].id  # the crisis member in step 2
    crisis, admin = {"user_id": people["crisis"].id}, {"user_id": people["admin"].id}

    policies.save_policy(policy, name="Critical jobs", steps=[
        {"delay_minutes": 7, "targets": [admin]},
        {"delay_minutes": 8, "targets": [crisis]},  # the responder is dropped, the crisis member stays
    ])

    assert stored_steps(policy) == [(0, 7, [(None, people["admin"].id)]), (1, 8, [(None, people["crisis"].id)])]
    assert db.session.get(EscalationPolicy, policy.id).steps[1].targets[0].id == kept_target
    assert count(EscalationStep) == 2 and count(EscalationTarget) == 2  # step 3 went with its target


def test_an_update_can_add_steps(make_policy, three_steps, people):
    policy = make_policy(three_steps[:1])

    policies.save_policy(policy, name="Critical jobs", steps=three_steps)

    assert [position for position, _delay, _targets in stored_steps(policy)] == [0, 1, 2]


def test_deleting_a_policy_removes_its_steps_and_targets(make_policy, three_steps):
    policy = make_policy(three_steps)

    policies.delete_policy(policy)

    assert (count(EscalationPolicy), count(EscalationStep), count(EscalationTarget)) == (0, 0, 0)


def test_an_unknown_policy_is_not_found(app):
    with pytest.raises(NotFound):
        policies.get_policy(12345)


def test_policies_are_listed_by_name(make_policy, people):
    steps = [{"delay_minutes": 5, "targets": [{"user_id": people["crisis"].id}]}]
    for name in ("Vendors", "Critical jobs", "ERP"):
        make_policy(steps, name=name)

    assert [p.name for p in policies.list_policies()] == ["Critical jobs", "ERP", "Vendors"]



def test_the_policies_using_a_schedule_are_listed_once_each(make_policy, make_schedule, people):
    sun, other = make_schedule("Follow the sun"), make_schedule("After hours")
    on_sun = [{"delay_minutes": 5, "targets": [{"schedule_id": sun.id}]}]
    make_policy(on_sun * 2, name="Twice")  # two steps on the same schedule: still one policy
    make_policy(on_sun, name="Once")
    make_policy([{"delay_minutes": 5, "targets": [{"schedule_id": other.id}]}], name="Elsewhere")

    assert [p.name for p in policies.policies_using_schedule(sun.id)] == ["Once", "Twice"]

# --- the snapshot ------------------------------------------------------------------------------------------

def test_the_snapshot_is_self_contained_json(make_policy, three_steps, people):
    policy = make_policy(three_steps, repeat=2, close_mode=True, close_mode_max_delay=2)

    snapshot = policies.snapshot_policy(policy)

    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot["name"] == "Critical jobs" and snapshot["repeat"] == 2
    assert (snapshot["close_mode"], snapshot["close_mode_max_delay"]) == (True, 2)
    assert snapshot["steps"][0] == {"delay_minutes": 5, "targets": [
        {"schedule_id": three_steps[0]["targets"][0]["schedule_id"], "name": "Follow the sun"}]}
    assert snapshot["steps"][2]["targets"] == [
        {"user_id": people["admin"].id, "email": people["admin"].email, "name": people["admin"].name}]


def test_editing_the_policy_does_not_change_a_snapshot_taken_before(make_policy, three_steps, people):
    policy = make_policy(three_steps)
    snapshot = json.loads(json.dumps(policies.snapshot_policy(policy)))  # as an alert stores it
    at = utc(2026, 11, 22, 12)
    before = policies.steps_from_snapshot(snapshot, at)

    policies.save_policy(policy, name="Changed", close_mode=True, close_mode_max_delay=1,
                         steps=[{"delay_minutes": 60, "targets": [{"user_id": people["admin"].id}]}])
    policy.steps[0].targets[0].user.name = "Someone Else"
    db.session.commit()

    assert policies.steps_from_snapshot(snapshot, at) == before
    assert [step.delay_minutes for step in before] == [5, 10, 15]
    assert before[0].targets == (StepTarget(schedule_id=three_steps[0]["targets"][0]["schedule_id"], user_id=None,
                                            label="Follow the sun"),)


# --- the close window --------------------------------------------------------------------------------------

# Q4 FY27 (fiscal year from February) ends Sun 2027-01-31, so BD0 = Fri 29 Jan. Counting weekdays only:
# BD-1 Thu 28, BD-2 Wed 27, BD-3 Tue 26 Jan; BD+1 Mon 1 Feb, BD+2 Tue 2, BD+3 Wed 3 Feb.
# The window is 2027-01-26 00:00 UTC up to (not including) 2027-02-04 00:00 UTC.
Q4_FY27 = fiscal_quarter(2027, 4, 2)


@pytest.mark.config(FISCAL_YEAR_START_MONTH=2, CLOSE_WINDOW_COUNTRY="")
def test_the_close_window_runs_from_bd_minus_3_to_the_end_of_bd_plus_3(app):
    assert policies.close_window(Q4_FY27) == (utc(2027, 1, 26), utc(2027, 2, 4))


@pytest.mark.config(FISCAL_YEAR_START_MONTH=2, CLOSE_WINDOW_COUNTRY="")
@pytest.mark.parametrize("at, inside", [
    (utc(2027, 1, 25, 23, 59), False),  # Monday, BD-4
    (utc(2027, 1, 26, 0, 0), True),  # Tuesday, BD-3 starts
    (utc(2027, 1, 31, 12, 0), True),  # the quarter's last calendar day, a Sunday
    (utc(2027, 2, 3, 23, 59), True),  # BD+3, already in Q1 FY28: found through the previous quarter
    (utc(2027, 2, 4, 0, 0), False),  # Thursday, BD+4
])
def test_in_close_window_by_the_worked_example(app, at, inside):
    assert policies.in_close_window(at) is inside


@pytest.mark.config(FISCAL_YEAR_START_MONTH=1, CLOSE_WINDOW_COUNTRY="US")
def test_the_close_window_skips_the_countrys_public_holidays(app):
    # Calendar quarters: Q2 2027 ends Wed 30 Jun = BD0. BD+1 Thu 1 Jul, BD+2 Fri 2 Jul; Mon 5 Jul is Independence
    # Day (observed), so BD+3 is Tue 6 Jul and the window ends at 2027-07-07 00:00 (weekdays only: 07-06 00:00).
    assert policies.close_window(fiscal_quarter(2027, 2, 1)) == (utc(2027, 6, 25), utc(2027, 7, 7))
    assert policies.in_close_window(utc(2027, 7, 6, 12)) is True


@pytest.mark.config(FISCAL_YEAR_START_MONTH=2, CLOSE_WINDOW_START_BD=-1, CLOSE_WINDOW_END_BD=0)
def test_the_window_follows_the_configured_offsets(app):
    # BD-1 is Thu 28 Jan, BD0 Fri 29 Jan: the window ends as Saturday 30 Jan begins.
    assert policies.close_window(Q4_FY27) == (utc(2027, 1, 28), utc(2027, 1, 30))


@pytest.mark.config(FISCAL_YEAR_START_MONTH=2)
@pytest.mark.parametrize("now, active, first_day, last_day", [
    (utc(2027, 1, 27, 12), True, "2027-01-26", "2027-02-03"),
    (utc(2026, 11, 22, 12), False, "2027-01-26", "2027-02-03"),  # the next one, this quarter's
    # After the window, in Q1 FY28 (ends Fri 30 Apr = BD0): BD-3 Tue 27 Apr, BD+3 Wed 5 May.
    (utc(2027, 2, 10, 12), False, "2027-04-27", "2027-05-05"),
])
def test_the_current_close_window_is_the_one_in_force_or_the_next(app, now, active, first_day, last_day):
    with time_machine.travel(now, tick=False):
        window, in_force = policies.current_close_window()

    assert (in_force, window.first_day.isoformat(), window.last_day.isoformat()) == (active, first_day, last_day)


# --- close mode --------------------------------------------------------------------------------------------

INSIDE, OUTSIDE = utc(2027, 1, 27, 9), utc(2027, 1, 20, 9)


@pytest.mark.config(FISCAL_YEAR_START_MONTH=2)
@pytest.mark.parametrize("close_mode, at, delays, voice_first", [
    (True, INSIDE, [5, 8, 8], True),  # each wait capped at 8: min(5, 8), min(10, 8), min(15, 8)
    (True, OUTSIDE, [5, 10, 15], False),
    (False, INSIDE, [5, 10, 15], False),  # close mode off: never shortened
    (False, OUTSIDE, [5, 10, 15], False),
])
def test_close_mode_caps_every_wait_and_calls_first_only_inside_the_window(make_policy, three_steps, close_mode,
                                                                           at, delays, voice_first):
    policy = make_policy(three_steps, close_mode=close_mode, close_mode_max_delay=8)

    steps = policies.steps_from_snapshot(policies.snapshot_policy(policy), at)

    assert [step.delay_minutes for step in steps] == delays
    assert {step.voice_first for step in steps} == {voice_first}
    assert [len(step.targets) for step in steps] == [1, 2, 1]
    assert isinstance(steps[0], EffectiveStep)


# --- the demo policy ---------------------------------------------------------------------------------------

@pytest.fixture
def demo_people(make_user):
    return make_user("crisis_team", email="crisis@acme.example"), make_user("admin", email="admin@acme.example")


@pytest.mark.parametrize("with_schedule", [True, False])
def test_the_demo_policy_pages_the_schedule_or_the_crisis_team_first(demo_people, make_schedule, with_schedule):
    crisis, admin = demo_people
    sun = make_schedule("Follow the sun") if with_schedule else None

    policy = policies.seed_demo_policy()

    first = [{"schedule_id": sun.id}] if with_schedule else [{"user_id": crisis.id}]
    assert policies.policy_steps_input(policy) == [{"delay_minutes": 5, "targets": first},
                                                   {"delay_minutes": 10, "targets": [{"user_id": crisis.id}]},
                                                   {"delay_minutes": 15, "targets": [{"user_id": admin.id}]}]
    assert (policy.name, policy.repeat, policy.close_mode, policy.close_mode_max_delay) == \
        ("Critical jobs", 2, True, 2)


def test_seeding_the_demo_policy_twice_keeps_one(demo_people):
    first = policies.seed_demo_policy()

    assert policies.seed_demo_policy().id == first.id
    assert count(EscalationPolicy) == 1


def test_the_demo_policy_needs_the_demo_people(app):
    with pytest.raises(NotFound):
        policies.seed_demo_policy()
    assert count(EscalationPolicy) == 0


# --- configuration -----------------------------------------------------------------------------------------

GOOD_ENV = {"SECRET_KEY": "a-long-enough-secret-for-tests"}


def test_the_close_window_defaults_to_bd_minus_3_to_bd_plus_3_on_weekdays():
    config = load_config(GOOD_ENV)

    assert (config["CLOSE_WINDOW_START_BD"], config["CLOSE_WINDOW_END_BD"], config["CLOSE_WINDOW_COUNTRY"]) == \
        (-3, 3, "")


def test_the_close_window_country_is_upper_cased():
    assert load_config({**GOOD_ENV, "CLOSE_WINDOW_COUNTRY": " gb "})["CLOSE_WINDOW_COUNTRY"] == "GB"


@pytest.mark.parametrize("env, name", [
    ({"CLOSE_WINDOW_START_BD": "soon"}, "CLOSE_WINDOW_START_BD"),
    ({"CLOSE_WINDOW_START_BD": "-31"}, "CLOSE_WINDOW_START_BD"),
    ({"CLOSE_WINDOW_END_BD": "31"}, "CLOSE_WINDOW_END_BD"),
    ({"CLOSE_WINDOW_START_BD": "2", "CLOSE_WINDOW_END_BD": "1"}, "CLOSE_WINDOW_END_BD"),
    ({"CLOSE_WINDOW_COUNTRY": "ZZ"}, "CLOSE_WINDOW_COUNTRY"),
])
def test_a_malformed_close_window_setting_stops_start_up_naming_it(env, name):
    with pytest.raises(ConfigError, match=name):
        load_config({**GOOD_ENV, **env})


@pytest.mark.config(FISCAL_YEAR_START_MONTH=2, CLOSE_WINDOW_COUNTRY="", CLOSE_TIME_ZONE="America/Los_Angeles")
@pytest.mark.parametrize("at, inside", [
    (utc(2027, 1, 26, 7, 59), False),  # 23:59 on Monday 25 January in Los Angeles (BD-4 there)
    (utc(2027, 1, 26, 8, 0), True),  # midnight starting Tuesday 26 January in Los Angeles: BD-3
    (utc(2027, 2, 4, 7, 59), True),  # 23:59 on Wednesday 3 February there: still BD+3
    (utc(2027, 2, 4, 8, 0), False),
])
def test_the_close_window_follows_the_close_regions_local_days(app, at, inside):
    assert policies.close_window(Q4_FY27) == (utc(2027, 1, 26, 8), utc(2027, 2, 4, 8))
    assert policies.in_close_window(at) is inside
