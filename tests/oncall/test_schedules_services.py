"""Rotation, schedule, layer and override services, and who is on call read from the database."""
from __future__ import annotations

from datetime import date, datetime, time

import pytest
import time_machine
from sqlalchemy import event, func, select

from app.audit.models import AuditEvent
from app.auth.roles import Role
from app.auth import services as auth
from app.errors import Conflict, DomainError, Invalid, NotFound
from app.extensions import db
from app.oncall import coverage, rotations, schedules
from app.oncall.models import (EscalationPolicy, EscalationStep, EscalationTarget, Rotation, RotationMember,
                               ScheduleLayer, ScheduleOverride)
from app.timeutil import UTC

NOW = datetime(2026, 11, 4, 12, tzinfo=UTC)  # Wednesday; the default rotation started Monday 2026-11-02 09:00 UTC


@pytest.fixture
def people(make_user):
    return [make_user(Role.RESPONDER, name=name) for name in ("Ana", "Ben", "Cy")]


def member_ids(rotation: Rotation) -> list[int]:
    return [member.user_id for member in db.session.get(Rotation, rotation.id).members]


# -- rotations --------------------------------------------------------------------------------------------------

def test_a_rotation_keeps_its_people_in_the_order_given(make_rotation, people):
    ana, ben, cy = people

    rotation = make_rotation(members=[cy, ana, ben])

    assert member_ids(rotation) == [cy.id, ana.id, ben.id]
    assert [member.position for member in rotation.members] == [0, 1, 2]
    assert rotation.start_local == datetime(2026, 11, 2, 9)  # naive: a wall-clock time in the rotation's zone


@pytest.mark.parametrize("change, field", [
    ({"name": "Taken"}, "name"),
    ({"name": "   "}, "name"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"shift_length": 0}, "shift_length"),
    ({"shift_length": 1001}, "shift_length"),
    ({"handoff_kind": "monthly"}, "handoff_kind"),
    ({"start_date": date(1999, 12, 31)}, "start_date"),
    ({"twice": True}, "member_ids"),
    ({"inactive": True}, "member_ids"),
    ({"unknown": True}, "member_ids"),
])
def test_a_bad_rotation_is_refused_naming_the_field_and_nothing_is_written(make_rotation, people, change, field):
    make_rotation(name="Taken")
    ana, ben, _ = people
    members, change = [ana, ben], dict(change)  # the parameters are shared by both backends' runs
    if change.pop("twice", False):
        members = [ana, ben, ana]
    if change.pop("inactive", False):
        auth.update_user(ben, name=ben.name, role=ben.role, time_zone="UTC", region_id=None, active=False)
    unknown = change.pop("unknown", False)
    fields = {"name": "New", "time_zone": "UTC", "start_date": date(2026, 11, 2), "start_time": time(9),
              "handoff_kind": "weekly", "shift_length": 1,
              "member_ids": [person.id for person in members] + ([99999] if unknown else [])} | change

    with pytest.raises(DomainError) as refused:
        rotations.create_rotation(**fields)

    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Rotation)) == 1
    assert db.session.scalar(select(func.count()).select_from(RotationMember)) == 0


def test_moving_a_person_swaps_places_and_the_trail_holds_only_real_positions(make_rotation, people):
    ana, ben, cy = people
    rotation = make_rotation(members=[ana, ben, cy])
    ben_row = rotation.members[1]

    rotations.move_member(rotation, ben_row.id, "up")

    assert member_ids(rotation) == [ben.id, ana.id, cy.id]
    changes = [event.changes["position"] for event in db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "rotation_members", AuditEvent.action == "update"))]
    # Ben 1 -> 0 and Ana 0 -> 1; the parking at a negative place on the way is not a change anyone made.
    assert sorted(changes) == [[0, 1], [1, 0]]


@pytest.mark.parametrize("direction, expected", [("up", [0, 1, 2]), ("down", [0, 2, 1])])
def test_moving_past_the_end_leaves_the_order_alone(make_rotation, people, direction, expected):
    rotation = make_rotation(members=people)
    first_or_last = rotation.members[0 if direction == "up" else 1]

    rotations.move_member(rotation, first_or_last.id, direction)

    assert member_ids(rotation) == [people[i].id for i in expected]


def test_new_member_ids_replace_the_people_and_keep_the_rows_of_those_who_stay(make_rotation, people):
    ana, ben, cy = people
    rotation = make_rotation(members=[ana, ben])
    ben_row_id = rotation.members[1].id

    rotations.update_rotation(rotation, name=rotation.name, time_zone="UTC", start_date=date(2026, 11, 2),
                              start_time=time(9), handoff_kind="weekly", shift_length=1, member_ids=[cy.id, ben.id])

    assert member_ids(rotation) == [cy.id, ben.id]
    assert rotation.members[1].id == ben_row_id  # Ben's history continues on the same row


def test_a_deactivated_member_may_stay_but_not_be_added(make_rotation, people):
    ana, ben, cy = people
    rotation = make_rotation(members=[ana, ben])
    for person in (ben, cy):
        auth.update_user(person, name=person.name, role=person.role, time_zone="UTC", region_id=None, active=False)
    settings = {"name": rotation.name, "time_zone": "UTC", "start_date": date(2026, 11, 2), "start_time": time(9),
                "handoff_kind": "daily", "shift_length": 1}

    rotations.update_rotation(rotation, member_ids=[ana.id, ben.id], **settings)  # an unrelated change
    with pytest.raises(Invalid) as refused:
        rotations.update_rotation(rotation, member_ids=[ana.id, ben.id, cy.id], **settings)

    assert refused.value.field == "member_ids"
    assert rotation.handoff_kind.value == "daily"


def test_adding_and_removing_people(make_rotation, people):
    ana, ben, cy = people
    rotation = make_rotation(members=[ana])

    rotations.add_member(rotation, cy.id)
    rotations.add_member(rotation, ben.id)
    with pytest.raises(Invalid, match="already"):
        rotations.add_member(rotation, cy.id)
    rotations.remove_member(rotation, rotation.members[0].id)

    assert member_ids(rotation) == [cy.id, ben.id]
    assert [member.position for member in db.session.get(Rotation, rotation.id).members] == [0, 1]


def test_a_rotation_used_by_a_schedule_cannot_be_deleted(make_rotation, make_oncall_schedule):
    rotation = make_rotation(name="EMEA")
    schedule = make_oncall_schedule("Follow the sun", [rotation])

    with pytest.raises(Conflict, match="used by schedule Follow the sun"):
        rotations.delete_rotation(rotation)
    schedules.remove_layer(schedule, schedule.layers[0])
    rotations.delete_rotation(rotation)

    assert db.session.get(Rotation, rotation.id) is None


# -- schedules and layers ------------------------------------------------------------------------------------------

def layer_order(schedule) -> list[tuple[int, int]]:
    rows = db.session.execute(select(ScheduleLayer.position, ScheduleLayer.rotation_id)
                              .where(ScheduleLayer.schedule_id == schedule.id).order_by(ScheduleLayer.position))
    return [tuple(row) for row in rows]


def test_layers_stay_numbered_in_order_when_added_moved_and_removed(make_rotation, make_oncall_schedule):
    first, second, third, fourth = (make_rotation() for _ in range(4))
    schedule = make_oncall_schedule(layers=[first, second, third])

    schedules.move_layer(schedule, schedule.layers[2], "up")  # first, third, second
    schedules.remove_layer(schedule, schedule.layers[0])  # third, second
    schedules.add_layer(schedule, rotation_id=fourth.id, time_zone="UTC", days=[5, 6], start_time=time(0),
                        end_time=time(0), position=0)  # fourth, third, second

    assert layer_order(schedule) == [(0, fourth.id), (1, third.id), (2, second.id)]


@pytest.mark.parametrize("change, field", [
    ({"days": []}, "days"),
    ({"days": [7]}, "days"),
    ({"rotation_id": 99999}, "rotation_id"),
    ({"time_zone": "Nowhere/Land"}, "time_zone"),
])
def test_a_bad_layer_is_refused_naming_the_field(make_rotation, make_oncall_schedule, change, field):
    schedule = make_oncall_schedule()
    fields = {"rotation_id": make_rotation().id, "time_zone": "UTC", "days": [0], "start_time": time(9),
              "end_time": time(17)} | change

    with pytest.raises(Invalid) as refused:
        schedules.add_layer(schedule, **fields)

    assert refused.value.field == field
    db.session.rollback()
    assert layer_order(schedule) == []


@pytest.mark.parametrize("at, on_call", [
    (datetime(2026, 11, 2, 21, 59, tzinfo=UTC), False),  # Monday, before the window
    (datetime(2026, 11, 2, 22, tzinfo=UTC), True),
    (datetime(2026, 11, 3, 5, 59, tzinfo=UTC), True),  # Tuesday morning: Monday's window, past midnight
    (datetime(2026, 11, 3, 6, tzinfo=UTC), False),
    (datetime(2026, 11, 3, 23, tzinfo=UTC), False),  # Tuesday night: the layer works Mondays only
])
def test_a_window_ending_before_it_starts_runs_past_midnight(make_rotation, make_oncall_schedule, people, at,
                                                             on_call):
    night = make_rotation(members=[people[0]])
    schedule = make_oncall_schedule(layers=[(night, "UTC", (0,), time(22), time(6))])

    assert (schedules.who_is_on_call(schedule, at) == [people[0]]) is on_call


def test_a_schedule_paged_by_an_escalation_policy_cannot_be_deleted(make_oncall_schedule):
    schedule = make_oncall_schedule("Primary")
    step = EscalationStep(policy=EscalationPolicy(name="Critical jobs"), position=0, delay_minutes=5)
    db.session.add(EscalationTarget(step=step, schedule_id=schedule.id))
    db.session.commit()

    with pytest.raises(Conflict, match="escalation policy Critical jobs"):
        schedules.delete_schedule(schedule)


# -- overrides ----------------------------------------------------------------------------------------------------

@pytest.fixture
def weekly_ab(make_rotation, make_oncall_schedule, people):
    """Ana until Monday 2026-11-09 09:00 UTC, then Ben, every day all day."""
    return make_oncall_schedule(layers=[make_rotation(members=people[:2])])


@time_machine.travel(NOW, tick=False)
def test_an_override_time_without_its_offset_is_refused_naming_the_field(weekly_ab, people):
    # The page reads a bare time in the viewer's zone and the API refuses it: the service only takes instants.
    with pytest.raises(Invalid) as refused:
        schedules.create_override(weekly_ab, user_id=people[2].id, mode="replace",
                                  start_at=datetime(2026, 11, 5, 9), end_at=datetime(2026, 11, 6, 9, tzinfo=UTC))

    assert refused.value.field == "start_at"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("change, field", [
    ({"end_at": datetime(2026, 11, 5, 8, tzinfo=UTC)}, "end_at"),  # before the start
    ({"end_at": datetime(2027, 2, 4, 9, tzinfo=UTC)}, "end_at"),  # 91 days
    ({"start_at": datetime(2026, 11, 1, tzinfo=UTC), "end_at": datetime(2026, 11, 2, tzinfo=UTC)}, "end_at"),  # already over
    ({"start_at": None}, "start_at"),
    ({"mode": "swap"}, "mode"),
    ({"mode": "add", "replaces": True}, "replaces_user_id"),
    ({"replaces_self": True}, "replaces_user_id"),
    ({"user_id": 99999}, "user_id"),
])
def test_a_bad_override_is_refused_naming_the_field(weekly_ab, people, change, field):
    ana, _, cy = people
    change = dict(change)  # the parameters are shared by both backends' runs
    fields = {"user_id": cy.id, "mode": "replace", "start_at": datetime(2026, 11, 5, 9, tzinfo=UTC),
              "end_at": datetime(2026, 11, 6, 9, tzinfo=UTC)}
    if change.pop("replaces", False):
        fields["replaces_user_id"] = ana.id
    if change.pop("replaces_self", False):
        fields["replaces_user_id"] = cy.id

    with pytest.raises(Invalid) as refused:
        schedules.create_override(weekly_ab, **(fields | change))

    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ScheduleOverride)) == 0


def test_upcoming_overrides_leave_out_finished_ones_and_come_soonest_first(weekly_ab, people):
    with time_machine.travel(datetime(2026, 11, 1, tzinfo=UTC), tick=False):
        finished = schedules.create_override(weekly_ab, user_id=people[2].id, mode="add",
                                             start_at=datetime(2026, 11, 2, tzinfo=UTC),
                                             end_at=datetime(2026, 11, 3, tzinfo=UTC))
        later = schedules.create_override(weekly_ab, user_id=people[2].id, mode="add",
                                          start_at=datetime(2026, 11, 20, tzinfo=UTC),
                                          end_at=datetime(2026, 11, 21, tzinfo=UTC))
        sooner = schedules.create_override(weekly_ab, user_id=people[1].id, mode="add",
                                           start_at=datetime(2026, 11, 10, tzinfo=UTC),
                                           end_at=datetime(2026, 11, 11, tzinfo=UTC))
    with time_machine.travel(NOW, tick=False):
        shown = schedules.upcoming_overrides(weekly_ab)

    assert [o.id for o in shown] == [sooner.id, later.id]
    assert finished.id not in [o.id for o in shown]


@time_machine.travel(NOW, tick=False)
def test_who_is_on_call_applies_overrides_and_deleting_one_restores_the_rotation(weekly_ab, people):
    ana, ben, cy = people
    override = schedules.create_override(weekly_ab, user_id=cy.id, replaces_user_id=ana.id, mode="replace",
                                         start_at=datetime(2026, 11, 4, tzinfo=UTC),
                                         end_at=datetime(2026, 11, 5, tzinfo=UTC))
    schedule = schedules.get_schedule(weekly_ab.id)

    assert schedules.who_is_on_call(schedule) == [cy]
    assert schedules.who_is_on_call(schedule, datetime(2026, 11, 9, 9, tzinfo=UTC)) == [ben]
    schedules.delete_override(override)
    assert schedules.who_is_on_call(schedules.get_schedule(weekly_ab.id)) == [ana]


# -- reading a schedule ---------------------------------------------------------------------------------------------

def count_selects(run) -> int:
    seen = []

    def note(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return len(seen)


@time_machine.travel(NOW, tick=False)
def test_reading_a_schedule_costs_the_same_queries_however_many_layers(make_rotation, make_oncall_schedule, people):
    small = make_oncall_schedule("Small", [make_rotation(members=people[:1])])
    large = make_oncall_schedule("Large", [make_rotation(members=people) for _ in range(5)])
    schedules.create_override(large, user_id=people[0].id, mode="add", start_at=datetime(2026, 11, 5, tzinfo=UTC),
                              end_at=datetime(2026, 11, 6, tzinfo=UTC))

    ids = small.id, large.id
    db.session.expunge_all()  # nothing cached: every row must be read

    counts = [count_selects(lambda: schedules.schedule_spec(schedules.get_schedule(i))) for i in ids]  # noqa: B023

    # The schedule, its layers, their rotations, the rotations' people; overrides: 5 whatever the size.
    assert counts == [5, 5]


def test_the_timeline_names_people_gaps_holidays_and_who_cannot_be_phoned(
        app, make_rotation, make_oncall_schedule, people, reachable_by):
    from app.calendar import services as calendar
    ana, ben, _ = people
    calendar.create_region(name="EMEA", time_zone="Europe/London", business_start=time(8), business_end=time(17),
                           holiday_country="GB", holiday_subdivision="ENG")
    reachable_by(ana, "voice")
    reachable_by(ben, "email", "ben@example.com")  # email only: cannot be phoned
    # Weekdays only, Ana this week and Ben from Monday 2026-12-28 09:00 UTC.
    rotation = make_rotation(members=[ana, ben], start_date=date(2026, 12, 21))
    schedule = make_oncall_schedule(layers=[(rotation, "UTC", (0, 1, 2, 3, 4), time(0), time(0))])

    shown = schedules.schedule_timeline(schedule, datetime(2026, 12, 24, tzinfo=UTC), days=7)

    assert [(s.start.day, s.end.day, [u.name for u in s.users]) for s in shown.segments] == [
        (24, 26, ["Ana"]),  # Thursday and Friday
        (26, 28, []),  # the weekend: a gap
        (28, 28, ["Ana"]),  # Monday 00:00-09:00, until the hand-off
        (28, 31, ["Ben"]),
    ]
    assert [(g.start, g.end) for g in shown.gaps] == [(datetime(2026, 12, 26, tzinfo=UTC),
                                                       datetime(2026, 12, 28, tzinfo=UTC))]
    # Christmas, Boxing Day (a Saturday) and its substitute on Monday.
    assert [(h.day, h.region) for h in shown.holidays] == [
        (date(2026, 12, 25), "EMEA"), (date(2026, 12, 26), "EMEA"), (date(2026, 12, 28), "EMEA")]
    assert shown.unreachable == [ben]


@pytest.mark.parametrize("days", [0, 32])
def test_a_timeline_is_one_to_thirty_one_days(make_oncall_schedule, days):
    with pytest.raises(Invalid) as refused:
        schedules.schedule_timeline(make_oncall_schedule(), datetime(2026, 11, 4, tzinfo=UTC), days=days)

    assert refused.value.field == "days"


def test_the_timeline_is_cut_into_the_viewers_local_days(make_rotation, make_oncall_schedule, people):
    schedule = make_oncall_schedule(layers=[make_rotation(members=people[:1])])
    shown = schedules.schedule_timeline(schedule, datetime(2026, 11, 2, 8, tzinfo=UTC), days=2)

    days = coverage.timeline_days(shown, "America/Los_Angeles")

    # 08:00 UTC on 11-02 is 00:00 PST; the rotation starts at 09:00 UTC (01:00 PST): a gap, then Ana to midnight.
    assert [(d.day.day, [(r.start.strftime("%H:%M"), r.end.strftime("%H:%M"), r.until_midnight, r.is_gap)
                         for r in d.rows]) for d in days] == [
        (2, [("00:00", "01:00", False, True), ("01:00", "00:00", True, False)]),
        (3, [("00:00", "00:00", True, False)]),
    ]


def test_an_unknown_id_is_not_found(app):
    for lookup in (rotations.get_rotation, schedules.get_schedule, schedules.get_override):
        with pytest.raises(NotFound):
            lookup(424242)
