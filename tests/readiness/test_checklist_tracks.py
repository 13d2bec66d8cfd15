"""The checklist and lessons-learned tracks from constructed data: what costs points, the score, and the links.

Every owner here has no region, so due dates fall on the weekends-only calendar: in Q4 FY27 BD0 is Friday
29 January 2027, BD-13 Tuesday 12 January, BD-15 Friday 8 January, BD-20 Friday 1 January, BD-30 Friday
18 December 2026.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from app.readiness import checklist, lessons
from app.readiness.score import compute_readiness
from app.readiness.tracks.checklist import quarter_code
from app.timeutil import fiscal_quarter

Q1_FY27, Q2_FY27, Q3, Q4, Q1_NEXT, Q2_NEXT = (fiscal_quarter(2027, 1), fiscal_quarter(2027, 2), fiscal_quarter(2027, 3),
                                              fiscal_quarter(2027, 4), fiscal_quarter(2028, 1), fiscal_quarter(2028, 2))
JAN_5 = datetime(2027, 1, 5, 12, tzinfo=UTC)  # a Tuesday: the week ahead runs to Tuesday 12 January
CHECKLIST_URL = "/readiness/checklist?quarter=FY27-Q4"


def track(name: str):
    return compute_readiness().track(name)


@pytest.fixture
def crisis(make_user):
    return make_user("crisis_team", name="Casey Crisis")


def line(title: str, bd_offset: int, owner=None, owner_role: str = "", **fields):
    return checklist.save_template_item(title=title, track=fields.pop("track", "checklist"), bd_offset=bd_offset,
                                        owner_id=owner.id if owner else None, owner_role=owner_role, **fields)


def items_by_title(quarter=Q4) -> dict:
    return {item.title: item for item in checklist.quarter_items(quarter)}


def section(page: str, anchor_id: str) -> str:
    """The HTML of the <section> whose id is `anchor_id`."""
    start = page.index(f'id="{anchor_id}"')
    return page[start:page.index("</section>", start)]


# --- checklist track --------------------------------------------------------------------------------------

@pytest.fixture
def checklist_in_january(app, crisis, clock):
    """Q4's checklist on Tuesday 5 January: two open items overdue, one due within the week, the rest cost nothing."""
    line("Run the DR test", -30, crisis, "Crisis team")  # 18 Dec, left to do: overdue
    line("Validate vendors", -20, owner_role="Vendor owners")  # 1 Jan, in progress: still overdue
    line("Refresh contacts", -25, crisis)  # 25 Dec, done in time
    line("Fax the auditors", -25, crisis)  # 25 Dec, not applicable
    line("Loaner laptops", -13, owner_role="IT service desk")  # 12 Jan: the last day of the week ahead
    line("Close training", -12, crisis)  # 13 Jan: more than a week away
    checklist.instantiate_quarter(quarter=Q4, by="test")
    items = items_by_title()
    checklist.update_item(crisis, items["Validate vendors"], status="doing")
    checklist.update_item(crisis, items["Refresh contacts"], status="done")
    checklist.update_item(crisis, items["Fax the auditors"], status="na", na_reason="No fax this quarter")
    clock.move_to(JAN_5)
    return items


def test_overdue_open_items_and_items_due_within_a_week_cost_points_and_link_to_their_item(checklist_in_january):
    items = checklist_in_january
    result = track("checklist")
    assert [(reason.text, reason.points, reason.severe) for reason in result.reasons] == [
        ("Overdue since 18 Dec (BD-30): Run the DR test — Casey Crisis (Crisis team)", 8, True),
        ("Overdue since 01 Jan (BD-20): Validate vendors — Vendor owners", 8, True),
        ("Due 12 Jan (BD-13): Loaner laptops — IT service desk", 2, False),
    ]
    linked = ("Run the DR test", "Validate vendors", "Loaner laptops")
    assert [reason.url for reason in result.reasons] == [f"{CHECKLIST_URL}#item-{items[t].id}" for t in linked]
    assert (result.score, result.colour) == (100 - 8 - 8 - 2, "amber")


def test_each_checklist_reason_opens_its_item_flagged_overdue_on_the_checklist_page(checklist_in_january, login_as):
    page = login_as("executive").get(CHECKLIST_URL).get_data(as_text=True)
    for reason in track("checklist").reasons:
        path, anchor = reason.url.split("#")
        assert path == CHECKLIST_URL
        item = section(page, anchor)
        assert ('data-testid="overdue"' in item) is reason.severe, reason.text
    done = section(page, f"item-{checklist_in_january['Refresh contacts'].id}")
    assert 'data-testid="overdue"' not in done  # past its due date, but done


def test_the_api_flags_an_open_item_past_its_due_date_as_overdue(checklist_in_january, api_as):
    listed = api_as("executive").get(f"/api/v1{CHECKLIST_URL}").get_json()
    overdue = {item["title"]: item["overdue"] for item in listed}
    assert overdue == {"Run the DR test": True, "Validate vendors": True, "Refresh contacts": False,
                       "Fax the auditors": False, "Loaner laptops": False, "Close training": False}


@pytest.mark.parametrize("moment, score, texts", [
    (datetime(2026, 12, 31, 12, tzinfo=UTC), 100, []),  # due in eight days: nothing yet
    (datetime(2027, 1, 1, 12, tzinfo=UTC), 98, ["Due 08 Jan (BD-15): Loaner laptops — IT service desk"]),
    (datetime(2027, 1, 8, 12, tzinfo=UTC), 98, ["Due 08 Jan (BD-15): Loaner laptops — IT service desk"]),
    (datetime(2027, 1, 9, 12, tzinfo=UTC), 92, ["Overdue since 08 Jan (BD-15): Loaner laptops — IT service desk"]),
], ids=["eight-days-ahead", "seven-days-ahead", "due-today", "day-after"])
def test_an_open_item_costs_2_within_a_week_of_its_bd_offset_and_8_from_the_day_after(app, clock, moment, score,
                                                                                      texts):
    line("Loaner laptops", -15, owner_role="IT service desk")
    checklist.instantiate_quarter(quarter=Q4, by="test")
    clock.move_to(moment)
    result = track("checklist")
    assert (result.score, [reason.text for reason in result.reasons]) == (score, texts)


def test_overdue_items_cost_at_most_48_and_items_due_soon_at_most_10_five_listed_then_the_rest(app, clock):
    for offset in range(-30, -23):  # seven items, 18 to 28 December: overdue on 5 January
        line(f"Overdue {offset}", offset, owner_role="Desk")
    for offset in (-18, -17, -16, -15, -14, -13):  # six items, 5 to 12 January: due within the week
        line(f"Soon {offset}", offset, owner_role="Desk")
    checklist.instantiate_quarter(quarter=Q4, by="test")
    clock.move_to(JAN_5)
    result = track("checklist")
    overdue = [reason for reason in result.reasons if reason.severe]
    soon = [reason for reason in result.reasons if not reason.severe]
    assert [reason.points for reason in overdue] == [8, 8, 8, 8, 8, 8]
    assert (overdue[-1].text, overdue[-1].url) == ("2 more: checklist items overdue", CHECKLIST_URL)
    assert [reason.points for reason in soon] == [2, 2, 2, 2, 2, 0]
    assert (soon[-1].text, soon[-1].url) == ("1 more: checklist items due within a week", CHECKLIST_URL)
    assert (result.score, result.colour) == (100 - 48 - 10, "red")


def test_an_existing_checklist_with_nothing_open_and_due_scores_100(app, crisis):
    line("Run the DR test", -30, crisis)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    result = track("checklist")
    assert (result.score, result.reasons, result.colour) == (100, [], "green")


def test_only_the_judged_quarters_checklist_counts(app, crisis):
    line("Last quarter's DR test", -30, crisis)
    checklist.instantiate_quarter(quarter=Q3, by="test")  # its item was due in October and is still open
    assert track("checklist").score is None  # Q3's checklist does not make Q4 tracked
    assert track("checklist").note == "Not tracked yet: the Q4 FY27 checklist has not been created."
    for template_line in checklist.list_template():
        checklist.save_template_item(template_line, title=template_line.title, track=template_line.track,
                                     owner_id=crisis.id, bd_offset=-30, active=False)
    checklist.instantiate_quarter(quarter=Q4, by="test")  # created, with nothing in it
    assert (track("checklist").score, track("checklist").reasons) == (100, [])


@pytest.mark.parametrize("quarter, code", [(Q4, "FY27-Q4"), (Q1_NEXT, "FY28-Q1"), (fiscal_quarter(2105, 2), "FY05-Q2")])
def test_quarters_are_coded_with_two_digit_years_in_links(quarter, code):
    assert quarter_code(quarter) == code


# --- lessons-learned track --------------------------------------------------------------------------------

def lesson(title: str, learned_in, target, owner=None):
    return lessons.add_lesson(title=title, recommendation="Do better", owner_id=owner.id if owner else None,
                              learned_in=learned_in, target=target)


@pytest.fixture
def lessons_of_several_closes(app, crisis):
    """Lessons on 17 November (Q4 FY27): three count, three do not."""
    counted = [lesson("Stale vendor numbers", Q3, Q4),  # from last quarter's close, for this quarter
               lesson("Slow sign-off", Q3, Q2_NEXT),  # from last quarter's close, meant for later: still counts
               lesson("Late batch alerts", Q1_FY27, Q2_FY27)]  # older, but its quarter has passed
    lesson("Fax machine", Q2_FY27, Q1_NEXT)  # older and meant for a later quarter
    lesson("Missing laptops", Q4, Q1_NEXT)  # learned this quarter: its close has not happened
    closed = lesson("Printer jam", Q3, Q4)
    checklist.instantiate_quarter(quarter=Q4, by="test")  # carries the lessons meant for Q4 or earlier
    [closing_item] = [item for item in checklist.quarter_items(Q4) if item.lesson_id == closed.id]
    checklist.update_item(crisis, closing_item, status="done", evidence="Printer replaced")
    return counted


def test_lessons_from_last_close_or_for_this_quarter_still_open_cost_5_each_and_link_to_the_lesson(
        lessons_of_several_closes):
    result = track("lessons")
    assert [(reason.text, reason.points, reason.severe) for reason in result.reasons] == [
        ("Lesson open: Stale vendor numbers", 5, False), ("Lesson open: Slow sign-off", 5, False),
        ("Lesson open: Late batch alerts", 5, False)]
    assert [reason.url for reason in result.reasons] == [
        f"/readiness/lessons#lesson-{counted.id}" for counted in lessons_of_several_closes]
    assert (result.score, result.colour) == (85, "green")


def test_each_lesson_reason_opens_its_lesson_on_the_lessons_page(lessons_of_several_closes, login_as):
    page = login_as("executive").get("/readiness/lessons").get_data(as_text=True)
    for reason in track("lessons").reasons:
        path, anchor = reason.url.split("#")
        assert path == "/readiness/lessons"
        assert reason.text.removeprefix("Lesson open: ") in section(page, anchor)


def test_open_lessons_cost_at_most_25_five_listed_then_the_rest(app):
    for number in range(6):
        lesson(f"Lesson {number}", Q3, Q4)
    result = track("lessons")
    assert [reason.points for reason in result.reasons] == [5, 5, 5, 5, 5, 0]
    assert (result.reasons[-1].text, result.reasons[-1].url) == ("1 more: lessons learned still open",
                                                                 "/readiness/lessons")
    assert (result.score, result.colour) == (75, "amber")


def test_only_closed_lessons_is_a_tracked_100(app, crisis):
    closed = lesson("Printer jam", Q3, Q4)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    [item] = checklist.quarter_items(Q4)
    checklist.update_item(crisis, item, status="done", evidence="Printer replaced")
    assert closed.status == "closed"
    result = track("lessons")
    assert (result.score, result.reasons) == (100, [])


def test_a_checklist_item_made_from_a_lesson_links_back_to_the_lesson_and_the_lesson_to_the_item(
        app, crisis, login_as):
    learned = lesson("Stale vendor numbers", Q3, Q4, owner=crisis)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    [item] = checklist.quarter_items(Q4)
    executive = login_as("executive")
    on_checklist = section(executive.get(CHECKLIST_URL).get_data(as_text=True), f"item-{item.id}")
    assert f'From lesson: <a href="/readiness/lessons#lesson-{learned.id}">Stale vendor numbers</a>' in on_checklist
    on_lessons = section(executive.get("/readiness/lessons").get_data(as_text=True), f"lesson-{learned.id}")
    assert re.search(rf'Checklist item: <a href="{re.escape(CHECKLIST_URL)}#item-{item.id}">'
                     r"Lesson: Stale vendor numbers</a> \(To do\)", on_lessons)


# --- lessons carried into checklists ----------------------------------------------------------------------

def test_a_lessons_item_is_due_at_bd_minus_10_needs_evidence_and_keeps_a_long_title_within_200_characters(app,
                                                                                                          crisis):
    learned = lesson("x" * 200, Q3, Q4, owner=crisis)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    [item] = checklist.quarter_items(Q4)
    assert (item.lesson_id, item.owner_id, item.bd_offset, item.evidence_required) == (learned.id, crisis.id, -10,
                                                                                        True)
    assert item.due_on.isoformat() == "2027-01-15"  # BD-10, weekends only
    assert item.title == ("Lesson: " + "x" * 200)[:200] and len(item.title) == 200


def test_a_lesson_meant_for_a_later_quarter_is_not_carried_into_this_one(app):
    later = lesson("Slow sign-off", Q3, Q1_NEXT)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    assert checklist.quarter_items(Q4) == []
    checklist.instantiate_quarter(quarter=Q1_NEXT, by="test")
    assert [item.lesson_id for item in checklist.quarter_items(Q1_NEXT)] == [later.id]


def test_a_closed_lesson_is_not_carried_into_the_following_quarter(app, crisis):
    lesson("Printer jam", Q3, Q4)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    [item] = checklist.quarter_items(Q4)
    checklist.update_item(crisis, item, status="done", evidence="Printer replaced")
    checklist.instantiate_quarter(quarter=Q1_NEXT, by="test")
    assert checklist.quarter_items(Q1_NEXT) == []


def test_the_items_a_lesson_was_carried_into_are_listed_by_quarter(app):
    carried = lesson("Late batch alerts", Q3, Q4)
    waiting = lesson("Slow sign-off", Q3, Q2_NEXT)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    checklist.instantiate_quarter(quarter=Q1_NEXT, by="test")  # still open: carried again
    found = lessons.items_by_lesson([carried, waiting])
    assert [(item.fiscal_year, item.quarter) for item in found[carried.id]] == [(2027, 4), (2028, 1)]
    assert found[waiting.id] == []


def test_lessons_are_listed_open_first_then_by_target_quarter_newest_first(app, crisis):
    closed = lesson("Printer jam", Q3, Q4)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    [item] = checklist.quarter_items(Q4)
    checklist.update_item(crisis, item, status="done", evidence="Printer replaced")
    overdue = lesson("Late batch alerts", Q1_FY27, Q2_FY27)  # open, for a quarter before the closed one's
    later = lesson("Slow sign-off", Q3, Q2_NEXT)
    sooner = lesson("Stale vendor numbers", Q3, Q1_NEXT)
    assert [found.id for found in lessons.list_lessons()] == [later.id, sooner.id, overdue.id, closed.id]


@pytest.mark.parametrize("fields, field", [({"title": "  "}, "title"), ({"recommendation": ""}, "recommendation"),
                                           ({"owner_id": 999_999}, "owner_id")])
def test_a_lesson_without_a_title_a_recommendation_or_a_real_owner_is_refused_on_that_field(app, fields, field):
    from app.errors import Invalid
    values = {"title": "Stale numbers", "recommendation": "Confirm by BD-20", "owner_id": None, "learned_in": Q3,
              "target": Q4, **fields}
    with pytest.raises(Invalid) as refused:
        lessons.add_lesson(**values)
    assert refused.value.field == field
    assert lessons.list_lessons() == []


# --- item progress rules ----------------------------------------------------------------------------------

def test_marking_an_item_done_again_keeps_who_did_it_first_and_the_evidence(app, crisis, make_user, clock):
    owner = make_user("responder", name="Owen Owner")
    line("Refresh contacts", -20, owner)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    [item] = checklist.quarter_items(Q4)
    checklist.update_item(owner, item, status="done", evidence="https://wiki.example/contacts")
    first_done_at = item.done_at
    clock.move_to(datetime(2026, 11, 18, 9, tzinfo=UTC))
    checklist.update_item(crisis, item, status="done")
    assert (item.done_by_id, item.done_at, item.evidence) == (owner.id, first_done_at,
                                                              "https://wiki.example/contacts")


def test_leaving_not_applicable_or_done_clears_the_reason_and_who_did_it(app, crisis):
    line("Fax the auditors", -20, crisis)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    [item] = checklist.quarter_items(Q4)
    checklist.update_item(crisis, item, status="na", na_reason="No fax")
    checklist.update_item(crisis, item, status="todo")
    assert (item.status, item.na_reason) == ("todo", "")
    checklist.update_item(crisis, item, status="done")
    checklist.update_item(crisis, item, status="doing")
    assert (item.status, item.done_at, item.done_by_id) == ("doing", None, None)
