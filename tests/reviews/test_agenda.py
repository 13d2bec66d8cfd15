"""Building the week's review: what its agenda holds for a constructed week, one review per week, and the slot.

The week is 16–22 November 2026 (2026-W47) in Los Angeles; the review is built on Tuesday the 17th. The previous
review was built a week earlier, so "since the last review" means since Tuesday the 10th.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import threading

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.reviews.agenda import build_due_review, build_review, slot_in_week, week_key
from app.reviews.models import ReviewStatus, RiskReview
from app.risks import actions, services, workflow
from app.risks.scoring import current_settings
from app.risks.settings import save_settings, settings_values
from tests.risks.fixtures import TUESDAY

TODAY = date(2026, 11, 17)
LAST_WEEK = TUESDAY - timedelta(days=7)


def days_ago(days: float) -> datetime:
    return TUESDAY - timedelta(days=days)


@pytest.fixture
def week(app, make_risk, make_user, owner, at):
    """Risks that each belong on the agenda for one reason, and some that do not belong at all."""
    admin = make_user("admin")
    made = {}

    def risk(title, created, **fields):
        with at(days_ago(created)):
            made[title] = make_risk(title=title, **fields)
        return made[title]

    with at(days_ago(40)):
        build_review(built_by="test")  # 2026-W42, long ago: the one before LAST_WEEK's
    with at(LAST_WEEK):
        build_review(built_by="test")
    risk("Quiet low risk", 30, likelihood=1, impact=1)
    risk("Brand new", 2, likelihood=2, impact=2)
    moved = risk("Score moved", 30, likelihood=1, impact=2)
    with at(days_ago(3)):
        services.update_risk(moved, **{**services.risk_fields(moved), "likelihood": 2})
    overdue = risk("Action overdue", 30, likelihood=1, impact=1)
    due = risk("Action due this week", 30, likelihood=1, impact=1)
    later = risk("Action due next week", 30, likelihood=1, impact=1)
    with at(days_ago(20)):
        actions.add_action(overdue, description="Late", owner_id=owner.id, due_on=TODAY - timedelta(days=2))
        actions.add_action(due, description="Soon", owner_id=owner.id, due_on=TODAY + timedelta(days=3))
        actions.add_action(later, description="Later", owner_id=owner.id, due_on=TODAY + timedelta(days=8))
    risk("Review due", 28, likelihood=3, impact=3)  # medium: 30 days, due on Thursday
    risk("Stale", 20, likelihood=2, impact=3)  # medium, not due, untouched for 20 days
    expiring = risk("Acceptance expiring", 30, likelihood=1, impact=1)
    lasting = risk("Acceptance lasting", 30, likelihood=1, impact=1)
    closed = risk("Closed", 30, likelihood=5, impact=5)
    with at(days_ago(10)):
        workflow.change_status(expiring, transition="accept", actor=admin, reason="Tolerable",
                               expires_on=date(2027, 1, 10))
        workflow.change_status(lasting, transition="accept", actor=admin, reason="Tolerable",
                               expires_on=date(2027, 3, 1))
        actions.add_action(closed, description="Never done", owner_id=owner.id, due_on=TODAY - timedelta(days=5))
        workflow.change_status(closed, transition="close", actor=admin, reason="Gone")
    with at(days_ago(1)):
        for title in ("Quiet low risk", "Score moved", "Action overdue", "Action due this week",
                      "Action due next week", "Review due"):
            services.add_comment(made[title], author=owner, body="Still on track")
    return made


def test_the_agenda_lists_each_risk_for_each_of_its_reasons(week, at):
    with at(TUESDAY):
        review, created = build_review()
    assert created and (review.week_key, review.week_start, review.meeting_on) == \
        ("2026-W47", date(2026, 11, 16), date(2026, 11, 17))
    assert review.since == LAST_WEEK
    assert {item.snapshot["title"]: item.reasons for item in review.items} == {
        "Brand new": ["new"],
        "Score moved": ["score_changed"],
        "Action overdue": ["action_overdue"],
        "Action due this week": ["action_due"],
        "Review due": ["review_due"],
        "Stale": ["stale"],
        "Acceptance expiring": ["acceptance_expiring"],
    }


def test_the_agenda_puts_the_highest_levels_first_and_freezes_what_it_saw(week, at):
    with at(TUESDAY):
        review, _created = build_review()
    levels = [item.snapshot["level"] for item in review.items]
    assert levels[:2] == ["medium", "medium"] and levels[-1] == "low"
    overdue = next(item for item in review.items if item.snapshot["title"] == "Action overdue")
    assert overdue.snapshot["actions"] == [{"id": overdue.risk.actions[0].id, "description": "Late",
                                            "owner": "Olive Owner", "owner_id": overdue.risk.actions[0].owner_id,
                                            "due_on": "2026-11-15", "overdue": True}]
    assert [item.position for item in review.items] == list(range(1, len(review.items) + 1))


def test_a_week_gets_one_review_however_often_it_is_built(week, at):
    with at(TUESDAY):
        first, created = build_review()
    with at(TUESDAY + timedelta(days=2)):
        again, created_again = build_review(built_by="someone")
    assert created and not created_again and again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(RiskReview)) == 3


def test_the_database_refuses_a_second_review_for_the_same_week(app, at):
    # What makes two schedulers building at the same moment safe: the loser's insert fails and it reads the winner's.
    with at(TUESDAY):
        build_review()
    db.session.add(RiskReview(week_key="2026-W47", week_start=date(2026, 11, 16), meeting_on=date(2026, 11, 17),
                              since=LAST_WEEK, built_at=TUESDAY, status=ReviewStatus.PLANNED))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def reviews_in_db() -> list[tuple[str, str]]:
    return list(db.session.execute(select(RiskReview.week_key, RiskReview.built_by).order_by(RiskReview.id)))


def test_a_builder_that_loses_the_race_for_the_week_returns_the_winners_review(app, make_risk, at):
    # The other scheduler commits the week's review after this one found none and before this one commits.
    with at(TUESDAY - timedelta(days=2)):
        make_risk(title="On the agenda")
    session = db.session()
    raced = []

    def the_other_scheduler_commits_first(*_args):
        if raced:
            return
        raced.append(True)
        with db.engine.connect() as elsewhere:
            elsewhere.execute(insert(RiskReview.__table__).values(
                week_key="2026-W47", week_start=date(2026, 11, 16), meeting_on=date(2026, 11, 17), since=LAST_WEEK,
                built_at=TUESDAY, built_by="the other scheduler", status=ReviewStatus.PLANNED.value))
            elsewhere.commit()

    event.listen(session, "before_flush", the_other_scheduler_commits_first)
    try:
        with at(TUESDAY):
            review, created = build_review(built_by="this scheduler")
    finally:
        event.remove(session, "before_flush", the_other_scheduler_commits_first)

    assert raced and created is False
    assert (review.week_key, review.built_by) == ("2026-W47", "the other scheduler")
    assert reviews_in_db() == [("2026-W47", "the other scheduler")]
    with at(TUESDAY):
        again, created_again = build_review(built_by="this scheduler")
    assert (again.id, created_again) == (review.id, False)


def test_two_schedulers_building_the_week_at_once_on_postgresql_make_one_review(app, backend, make_risk, at):
    if backend != "postgresql":
        pytest.skip("one scheduler runs per SQLite database; the race between processes is PostgreSQL's")
    with at(TUESDAY - timedelta(days=2)):
        make_risk(title="On the agenda")
    results, errors, barrier = [], [], threading.Barrier(2)

    def scheduler(name):
        with app.app_context():
            try:
                barrier.wait()
                review, created = build_review(built_by=name)
                results.append((review.id, created, review.built_by))
            except Exception as error:  # reported below: an exception in a thread would otherwise be lost
                errors.append(error)
            finally:
                db.session.remove()

    with at(TUESDAY):
        threads = [threading.Thread(target=scheduler, args=(f"scheduler {n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    assert errors == [] and len(results) == 2
    [(winner_id, winner_name)] = [(review_id, name) for review_id, created, name in results if created]
    assert {review_id for review_id, _created, _name in results} == {winner_id}
    assert all(name == winner_name for _id, _created, name in results)
    assert reviews_in_db() == [("2026-W47", winner_name)]


def test_the_first_review_looks_back_one_week(app, make_risk, at):
    with at(TUESDAY - timedelta(days=9)):
        make_risk(title="Too old to be new")
    with at(TUESDAY - timedelta(days=5)):
        make_risk(title="New this week")
    with at(TUESDAY):
        review, _created = build_review()
    assert review.since == LAST_WEEK
    assert {item.snapshot["title"]: item.reasons for item in review.items}["New this week"] == ["new"]
    assert "new" not in {item.snapshot["title"]: item.reasons for item in review.items}.get("Too old to be new", [])


def test_an_empty_week_still_gets_its_review(app, at):
    with at(TUESDAY):
        review, created = build_review()
    assert created and review.items == []


@pytest.mark.parametrize("moment, week, expected", [
    (datetime(2026, 11, 20, tzinfo=UTC), "2026-W47", datetime(2026, 11, 17, 17, tzinfo=UTC)),  # PST: UTC-8
    (datetime(2026, 6, 10, tzinfo=UTC), "2026-W24", datetime(2026, 6, 9, 16, tzinfo=UTC)),  # PDT: UTC-7
])
def test_the_slot_is_tuesday_at_nine_in_los_angeles_by_default(app, moment, week, expected):
    day = moment.date()
    assert week_key(day) == week
    assert slot_in_week(current_settings(), day) == expected


def test_the_scheduler_builds_the_week_once_after_its_slot(app, make_risk, at):
    with at(TUESDAY - timedelta(days=3)):
        make_risk(title="On the agenda")
    with at(datetime(2026, 11, 17, 16, 59, tzinfo=UTC)):
        assert build_due_review() == {"built": False, "reason": "before this week's slot"}
    with at(datetime(2026, 11, 17, 17, 0, tzinfo=UTC)):
        assert build_due_review() == {"built": True, "week": "2026-W47", "items": 1}
    with at(datetime(2026, 11, 17, 17, 5, tzinfo=UTC)):
        assert build_due_review() == {"built": False, "reason": "already built"}


def test_a_scheduler_that_was_down_at_the_slot_builds_the_review_when_it_returns(app, at):
    with at(datetime(2026, 11, 20, 3, tzinfo=UTC)):  # Thursday night in Los Angeles
        assert build_due_review()["built"] is True
    assert db.session.scalar(select(RiskReview.week_key)) == "2026-W47"


def test_the_slot_follows_the_settings(app, at):
    save_settings(**{**settings_values(current_settings()), "review_weekday": 0, "review_time": time(7, 30),
                     "review_zone": "Europe/London"})
    with at(datetime(2026, 11, 16, 7, 29, tzinfo=UTC)):
        assert build_due_review()["built"] is False
    with at(datetime(2026, 11, 16, 7, 31, tzinfo=UTC)):
        assert build_due_review()["built"] is True
