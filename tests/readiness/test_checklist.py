"""The template, each quarter's checklist, item progress and lessons carried forward."""
from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

from app.calendar.services import create_region
from app.errors import Forbidden, Invalid
from app.extensions import db
from app.readiness import checklist, lessons
from app.readiness.models import ChecklistItem
from app.timeutil import fiscal_quarter

Q3, Q4, Q1_NEXT = fiscal_quarter(2027, 3), fiscal_quarter(2027, 4), fiscal_quarter(2028, 1)


@pytest.fixture
def crisis(make_user):
    return make_user("crisis_team", name="Casey Crisis")


def line(owner=None, **fields):
    fields.setdefault("title", "Validate critical vendors")
    fields.setdefault("track", "vendors")
    fields.setdefault("bd_offset", -20)
    return checklist.save_template_item(owner_id=owner.id if owner else None, **fields)


def item_count(quarter) -> int:
    return db.session.scalar(select(func.count(ChecklistItem.id)).where(
        ChecklistItem.fiscal_year == quarter.fiscal_year, ChecklistItem.quarter == quarter.quarter))


def test_due_dates_are_business_day_offsets_in_the_owners_region(app, make_user):
    england = create_region(name="EMEA", time_zone="Europe/London", business_start=time(8), business_end=time(17),
                            holiday_country="GB", holiday_subdivision="ENG")
    londoner = make_user("crisis_team", region_id=england.id)
    nowhere = make_user("crisis_team")
    line(londoner, title="In London")
    line(nowhere, title="Weekdays only")
    line(owner_role="Service desk", title="Region named on the line", region_id=england.id)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    due = {item.title: item.due_on for item in checklist.quarter_items(Q4)}
    # BD0 is Friday 29 January 2027; twenty weekdays back is 1 January, a bank holiday in England.
    assert due["Weekdays only"] == date(2027, 1, 1)
    assert due["In London"] == date(2026, 12, 31)
    assert due["Region named on the line"] == date(2026, 12, 31)


def test_a_quarter_is_instantiated_once_whoever_asks(app, crisis):
    line(crisis)
    line(owner_role="IT service desk", title="Loaner laptops", bd_offset=-10)
    assert checklist.instantiate_quarter(quarter=Q4, by="scheduler") == 2
    assert checklist.instantiate_quarter(quarter=Q4, by="someone") == 0
    assert item_count(Q4) == 2


def test_editing_the_template_changes_future_quarters_only(app, crisis):
    template_line = line(crisis, title="Validate vendors", bd_offset=-20)
    retired = line(crisis, title="Fax the auditors", bd_offset=-3)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    checklist.save_template_item(template_line, title="Validate vendors and contracts", track="vendors",
                                 owner_id=crisis.id, bd_offset=-25)
    checklist.save_template_item(retired, title=retired.title, track="vendors", owner_id=crisis.id, bd_offset=-3,
                                 active=False)
    checklist.instantiate_quarter(quarter=Q1_NEXT, by="test")
    assert [(i.title, i.bd_offset) for i in checklist.quarter_items(Q4)] == [
        ("Validate vendors", -20), ("Fax the auditors", -3)]
    assert [(i.title, i.bd_offset) for i in checklist.quarter_items(Q1_NEXT)] == [
        ("Validate vendors and contracts", -25)]


def test_a_template_line_needs_an_owner_person_or_role(app):
    with pytest.raises(Invalid) as refused:
        line(owner_role="  ")
    assert refused.value.field == "owner_id"


def test_an_open_lesson_becomes_an_item_of_the_next_checklist_and_closes_only_when_it_is_done(app, crisis):
    lesson = lessons.add_lesson(title="Vendor numbers were stale", recommendation="Confirm by BD-20",
                                owner_id=crisis.id, learned_in=Q3, target=Q4)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    [item] = checklist.quarter_items(Q4)
    assert (item.lesson_id, item.track, item.evidence_required) == (lesson.id, "lessons", True)
    checklist.update_item(crisis, item, status="doing")
    assert lesson.status == "open"
    checklist.update_item(crisis, item, status="done", evidence="Confirmed in the campaign")
    assert lesson.status == "closed" and lesson.closed_at == item.done_at
    checklist.update_item(crisis, item, status="todo")  # undone: the lesson is open again
    assert lesson.status == "open" and lesson.closed_at is None


def test_a_lesson_recorded_after_its_quarter_started_joins_that_checklist_at_once(app, crisis):
    checklist.instantiate_quarter(quarter=Q4, by="test")
    lesson = lessons.add_lesson(title="Late batch alerts", recommendation="Watch billing", owner_id=None,
                                learned_in=Q3, target=Q4)
    [item] = checklist.quarter_items(Q4)
    assert item.lesson_id == lesson.id and item.owner_role == "Crisis team"


def test_a_lesson_still_open_is_carried_again_into_the_following_quarter(app, crisis):
    lesson = lessons.add_lesson(title="Late batch alerts", recommendation="Watch billing", owner_id=crisis.id,
                                learned_in=Q3, target=Q4)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    checklist.instantiate_quarter(quarter=Q1_NEXT, by="test")
    assert [item.lesson_id for item in checklist.quarter_items(Q1_NEXT)] == [lesson.id]


def test_a_lesson_must_target_a_later_quarter(app):
    with pytest.raises(Invalid) as refused:
        lessons.add_lesson(title="x", recommendation="y", owner_id=None, learned_in=Q4, target=Q4)
    assert refused.value.field == "target_quarter"


@pytest.fixture
def item(app, crisis, make_user):
    owner = make_user("responder", name="Owen Owner")
    line(owner, title="Refresh contacts", evidence_required=True)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    return checklist.quarter_items(Q4)[0]


def test_done_records_who_and_when_and_needs_evidence_when_required(item):
    with pytest.raises(Invalid) as refused:
        checklist.update_item(item.owner, item, status="done")
    assert refused.value.field == "evidence"
    checklist.update_item(item.owner, item, status="done", evidence="https://wiki.example/contacts")
    assert item.done_by_id == item.owner_id and item.done_at is not None


def test_not_applicable_needs_a_reason(item, crisis):
    with pytest.raises(Invalid) as refused:
        checklist.update_item(crisis, item, status="na")
    assert refused.value.field == "na_reason"
    checklist.update_item(crisis, item, status="na", na_reason="No loaners this quarter")
    assert item.status == "na"


@pytest.mark.parametrize("role", ["responder", "executive"])
def test_only_the_owner_or_the_crisis_team_may_update_an_item(item, make_user, role):
    with pytest.raises(Forbidden):
        checklist.update_item(make_user(role), item, status="doing")


@pytest.mark.parametrize("code, expected", [("FY27-Q4", (2027, 4)), ("fy2028-q1", (2028, 1)), ("", None)])
def test_quarters_are_named_like_fy27_q4(app, code, expected):
    quarter = checklist.parse_quarter(code, 2)
    assert (quarter and (quarter.fiscal_year, quarter.quarter)) == expected


@pytest.mark.parametrize("code", ["Q4 FY27", "FY27-Q5", "FY-Q1", "27-4"])
def test_a_malformed_quarter_is_refused_on_its_field(app, code):
    with pytest.raises(Invalid) as refused:
        checklist.parse_quarter(code, 2)
    assert refused.value.field == "quarter"
