"""The demo readiness data: the template, this quarter's checklist part done, two lessons from last quarter and a
weekly trend so far, seeded once; and late in the quarter one item is left overdue so the page has a red reason."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.readiness import checklist, lessons
from app.readiness.demo import DEMO_LESSONS, DEMO_TEMPLATE, seed_demo_readiness
from app.readiness.models import ChecklistItem, ChecklistTemplateItem, Lesson, ReadinessQuarter, ReadinessSnapshot
from app.readiness.score import colour_for, compute_readiness
from app.seed import seed_demo
from app.timeutil import fiscal_quarter
from tests.readiness.conftest import JAN_25

Q4 = fiscal_quarter(2027, 4)  # the clock stands on 17 November 2026, in Q4 FY27


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def demo_lessons() -> list[Lesson]:
    """The readiness demo's own lessons (the incident demo's review adds one for next quarter)."""
    return [lesson for lesson in lessons.list_lessons() if lesson.title in {title for title, *_ in DEMO_LESSONS}]


def snapshots() -> list[ReadinessSnapshot]:
    return list(db.session.scalars(select(ReadinessSnapshot).order_by(ReadinessSnapshot.day)))


def test_the_demo_creates_this_quarters_checklist_from_the_template_and_last_quarters_lessons(app):
    seed_demo()
    assert {line.title for line in checklist.list_template()} == {title for title, *_rest in DEMO_TEMPLATE}
    [quarter] = db.session.scalars(select(ReadinessQuarter)).all()
    assert (quarter.fiscal_year, quarter.quarter, quarter.instantiated_by) == (2027, 4, "seed")
    found = demo_lessons()
    assert {lesson.title for lesson in found} == {title for title, *_rest in DEMO_LESSONS}
    assert all((lesson.from_fiscal_year, lesson.from_quarter, lesson.target_fiscal_year, lesson.target_quarter)
               == (2027, 3, 2027, 4) for lesson in found)
    items = checklist.quarter_items(Q4)
    assert len(items) == len(DEMO_TEMPLATE) + len(DEMO_LESSONS)
    assert {item.lesson_id for item in items if item.lesson_id} == {lesson.id for lesson in found}


def test_the_demo_checklist_is_part_done_with_one_lesson_closed_and_one_still_open(app):
    seed_demo()
    items = checklist.quarter_items(Q4)
    assert Counter(item.status for item in items) == {"done": 3, "doing": 1, "todo": 5}
    first_open = next(item for item in items if item.item_status.is_open)
    assert first_open.status == "doing"  # the next thing to do is in progress
    done = [item for item in items if item.status == "done"]
    assert all(item.done_by.email == "crisis@acme.example" and item.evidence and item.done_at for item in done)
    assert sum(1 for item in done if item.track in ("vendors", "people")) == 2  # done early, before they fall due
    assert Counter(lesson.status for lesson in demo_lessons()) == {"open": 1, "closed": 1}
    [closed] = [lesson for lesson in demo_lessons() if lesson.status == "closed"]
    [closing_item] = [item for item in items if item.lesson_id == closed.id]
    assert closing_item.status == "done" and closed.closed_at == closing_item.done_at


def test_the_demo_has_a_weekly_trend_rising_to_todays_score_and_a_tracked_checklist_and_lessons(app, login_as):
    seed_demo()
    readiness = compute_readiness()
    points = snapshots()
    # One a week from the quarter's first day (1 November) before today (17 November), 3 points a week lower.
    assert [point.day for point in points] == [date(2026, 11, 1), date(2026, 11, 8), date(2026, 11, 15)]
    assert all((point.fiscal_year, point.quarter) == (2027, 4) for point in points)
    assert [point.score for point in points] == [readiness.score - 6, readiness.score - 3, readiness.score]
    assert all(point.colour == colour_for(point.score) for point in points)
    assert readiness.track("checklist").score == 100  # nothing open falls due within the week
    lessons_track = readiness.track("lessons")
    assert (lessons_track.score, [reason.text for reason in lessons_track.reasons]) == (
        95, ["Lesson open: Vendor escalation numbers were out of date"])
    page = login_as("executive").get("/readiness").get_data(as_text=True)
    assert "3 daily snapshots since 01 Nov" in page and "▲ +6 since the quarter began" in page


def test_seeding_the_demo_again_adds_or_changes_no_readiness_data(app):
    seed_demo()

    def state():
        return (count(ChecklistTemplateItem), count(ReadinessQuarter), count(Lesson), count(ReadinessSnapshot),
                [(item.id, item.status)
                 for item in db.session.scalars(select(ChecklistItem).order_by(ChecklistItem.id))],
                [(lesson.id, lesson.status) for lesson in lessons.list_lessons()],
                [(point.day, point.score) for point in snapshots()])

    before = state()
    seed_demo_readiness()
    seed_demo()
    assert state() == before


def test_late_in_the_quarter_the_demo_leaves_one_item_overdue_as_a_red_reason(app, clock):
    clock.move_to(JAN_25)  # Monday 25 January 2027, after BD-5
    seed_demo()
    readiness = compute_readiness()
    overdue = [item for item in checklist.quarter_items(Q4) if item.item_status.is_open and item.due_on < JAN_25.date()]
    assert [item.title for item in overdue] == ["Change freeze in force"]
    result = readiness.track("checklist")
    assert [(reason.text, reason.points, reason.severe) for reason in result.reasons] == [
        ("Overdue since 22 Jan (BD-5): Change freeze in force — Avery Admin (Change manager)", 8, True)]
    assert result.reasons[0].url == f"/readiness/checklist?quarter=FY27-Q4#item-{overdue[0].id}"
    days = [point.day for point in snapshots()]
    assert days == [date(2026, 11, 1) + timedelta(weeks=week) for week in range(13)]  # 1 Nov to 24 Jan
