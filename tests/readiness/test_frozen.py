"""A closed quarter is frozen at the end of its BD0 in the close region, and its page shows that record from then
on, whatever happens to today's data. Q4 FY27's BD0 is Friday 2027-01-29 (weekends-only calendar)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.readiness.models import ReadinessFrozenQuarter, ReadinessSnapshot
from app.readiness.scheduled import snapshot_today
from app.readiness.snapshots import freeze_closed_quarter
from app.risks import workflow

END_OF_BD0_UTC = datetime(2027, 1, 30, tzinfo=UTC)
END_OF_BD0_LA = datetime(2027, 1, 30, 8, tzinfo=UTC)  # midnight in Los Angeles (PST)


def readiness_json(api, quarter="FY27-Q4") -> dict:
    body = api.get(f"/api/v1/readiness?quarter={quarter}").get_json()
    return {key: body[key] for key in ("score", "colour", "score_colour", "gates", "tracks", "frozen")}


def test_a_past_quarters_page_is_unchanged_after_todays_data_changes(api_as, login_as, make_risk, make_job, owner,
                                                                      clock):
    risk = make_risk(title="Order import backlog", likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
    make_job(name="GL posting")
    clock.move_to(END_OF_BD0_UTC + timedelta(minutes=10))
    assert snapshot_today()["frozen"] is True
    api = api_as("executive")
    frozen = readiness_json(api)
    assert frozen["frozen"]["as_of"] == "2027-01-30T00:00:00+00:00"
    risks_track = next(track for track in frozen["tracks"] if track["track"] == "risks")
    assert risks_track["score"] < 100 and "Order import backlog" in risks_track["reasons"][0]["text"]

    # Today's data changes: the risk is closed, another one appears, a job goes down, days pass.
    clock.move_to(datetime(2027, 2, 10, 12, tzinfo=UTC))
    workflow.change_status(risk, transition="close", actor=owner, reason="Workers added")
    make_risk(title="Bank interface certificate", likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
    assert snapshot_today()["frozen"] is False  # nothing more to freeze

    assert readiness_json(api) == frozen
    page = login_as("executive").get("/readiness?quarter=FY27-Q4").get_data(as_text=True)
    assert 'data-testid="frozen"' in page and "Order import backlog" in page
    assert "Bank interface certificate" not in page  # not even among the top risks: those were frozen too
    assert 'data-testid="what-to-chase"' not in page
    # The live quarter is computed from today's data.
    assert "Bank interface certificate" in str(readiness_json(api, "FY28-Q1")["tracks"])


@pytest.mark.config(CLOSE_TIME_ZONE="America/Los_Angeles")
@pytest.mark.parametrize("moment, frozen", [
    (END_OF_BD0_LA - timedelta(minutes=1), False),  # 23:59 on BD0 in Los Angeles (07:59 UTC the day after)
    (END_OF_BD0_LA, True),
])
def test_the_freeze_waits_for_the_end_of_bd0_in_the_close_region(app, make_risk, clock, moment, frozen):
    make_risk(likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
    clock.move_to(moment)

    assert (freeze_closed_quarter() is not None) is frozen


def test_a_quarter_is_frozen_once_and_not_long_after_its_close(app, make_risk, clock):
    make_risk()
    clock.move_to(END_OF_BD0_UTC + timedelta(days=8))  # the scheduler was away for over a week
    assert freeze_closed_quarter() is None
    clock.move_to(END_OF_BD0_UTC + timedelta(hours=1))
    assert freeze_closed_quarter() is not None
    assert freeze_closed_quarter() is None
    assert len(db.session.scalars(select(ReadinessFrozenQuarter)).all()) == 1


def test_a_closed_quarter_without_a_frozen_record_says_it_is_recomputed(login_as, make_risk, clock):
    make_risk()
    clock.move_to(END_OF_BD0_UTC + timedelta(days=9))
    page = login_as("executive").get("/readiness?quarter=FY27-Q4").get_data(as_text=True)

    assert 'data-testid="not-frozen"' in page and "recomputed from today's data" in page


def test_the_trend_stops_where_the_quarter_was_frozen(api_as, make_risk, clock):
    make_risk()
    for day in (25, 26, 27, 28, 29):
        clock.move_to(datetime(2027, 1, day, 12, tzinfo=UTC))
        snapshot_today()
    clock.move_to(END_OF_BD0_UTC + timedelta(hours=12))  # Saturday 30th: still Q4 FY27 by the calendar
    assert snapshot_today() == {"frozen": True, "snapshot": False}
    clock.move_to(datetime(2027, 1, 31, 12, tzinfo=UTC))
    assert snapshot_today() == {"frozen": False, "snapshot": False}

    points = api_as("executive").get("/api/v1/readiness?quarter=FY27-Q4").get_json()["trend"]["points"]
    assert [point["day"] for point in points] == [f"2027-01-{day}" for day in (25, 26, 27, 28, 29)]
    assert db.session.scalar(select(ReadinessSnapshot.day).order_by(ReadinessSnapshot.day.desc()).limit(1)) == \
        datetime(2027, 1, 29).date()
