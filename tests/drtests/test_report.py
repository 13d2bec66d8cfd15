"""The exercise report's timeline (replication point included) and the template's recovery time, quarter by quarter.

Fiscal years start in February: Q2 FY27 is May to July 2026, Q3 FY27 August to October, Q4 FY27 November to
January 2027.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.drtests import exercises, execution
from app.drtests.report import timeline
from tests.drtests.conftest import START
from tests.drtests.test_results import run

M = timedelta(minutes=1)
REPLICATION_POINT = "Replication point: last transaction replicated to the standby"


def test_the_timeline_places_the_replication_point_among_the_steps(login_as, make_exercise, clock):
    client = login_as("crisis_team", name="Casey Crisis", time_zone="UTC")
    exercise = make_exercise(owner=client.user)
    run(exercise, client.user, clock, [10, 20, 15, 10, 15, 30, 5])  # step 1 runs 08:00-08:10, failover from 08:10
    exercises.record_replication(exercise, user=client.user, version=exercise.version,
                                 last_replicated_at=START + 6 * M)

    texts = [entry.text for entry in timeline(exercise)]
    assert texts[:4] == ["Step 1 Freeze batch jobs started by Casey Crisis", REPLICATION_POINT,
                         "Step 1 completed: ok by Casey Crisis",
                         "Step 2 Fail over the database started by Casey Crisis"]
    report = client.get(f"/drtests/exercises/{exercise.id}/report").get_data(as_text=True)
    listed = re.findall(r"<li>([^<]+)</li>", report[report.index('<ul class="timeline">'):])
    assert listed[1] == f"2026-11-24 08:06:00 UTC — {REPLICATION_POINT}"
    markdown = client.get(f"/drtests/exercises/{exercise.id}/report.md").get_data(as_text=True)
    assert f"- 2026-11-24T08:06:00+00:00 {REPLICATION_POINT}\n" in markdown


def test_the_timeline_has_no_replication_point_before_it_is_recorded(make_exercise, make_user, clock):
    exercise = make_exercise()
    run(exercise, make_user(), clock, [10, 20, 15, 10, 15, 30, 5])
    assert REPLICATION_POINT not in [entry.text for entry in timeline(exercise)]


ONE_STEP = [("Fail over and validate", "failover", 30, "", True, False, False)]


def exercised(make_exercise, template, owner, clock, *, when: datetime, minutes: int, sign: bool = True):
    """An exercise of `template` held at `when`, recovering in `minutes`, signed off by its owner."""
    clock.at(when - timedelta(days=1))
    exercise = make_exercise(template=template, owner=owner, scheduled_for=when)
    clock.at(when)
    [step] = exercise.steps
    execution.start_step(step, user=owner, version=step.version)
    clock.plus(minutes)
    execution.complete_step(step, user=owner, version=step.version, outcome="ok")
    exercises.record_replication(exercise, user=owner, version=exercise.version, last_replicated_at=when - M)
    if sign:
        exercises.sign_off(exercise, user=owner, version=exercise.version)
    return exercise


def test_the_template_page_shows_recovery_time_quarter_over_quarter(login_as, make_template, make_exercise,
                                                                     make_user, clock):
    template = make_template(name="ERP failover", steps=ONE_STEP, rto_minutes=60)
    other = make_template(name="Payroll failover", steps=ONE_STEP)
    owner = make_user("crisis_team")
    # Held out of order, so the order on the page is the quarters', not the records'.
    exercised(make_exercise, template, owner, clock, when=datetime(2026, 11, 10, 8, tzinfo=UTC), minutes=50)
    exercised(make_exercise, template, owner, clock, when=datetime(2026, 6, 9, 8, tzinfo=UTC), minutes=70)
    exercised(make_exercise, template, owner, clock, when=datetime(2026, 9, 8, 8, tzinfo=UTC), minutes=40)
    exercised(make_exercise, template, owner, clock, when=datetime(2027, 2, 9, 8, tzinfo=UTC), minutes=20,
              sign=False)  # not signed off: not in the trend yet
    exercised(make_exercise, other, owner, clock, when=datetime(2026, 9, 9, 8, tzinfo=UTC), minutes=10)

    assert [(p.quarter_label, p.recovery_seconds) for p in exercises.recovery_trend(template)] == [
        ("Q2 FY27", 70 * 60), ("Q3 FY27", 40 * 60), ("Q4 FY27", 50 * 60)]
    page = login_as("executive").get(f"/drtests/templates/{template.id}").get_data(as_text=True)
    table = page[page.index('data-testid="trend"'):page.index("</table>", page.index('data-testid="trend"'))]
    rows = [tuple(re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row))
            for row in re.findall(r"<tr>(<td>.*?)</tr>", table, re.S)]
    assert rows == [
        ("Q2 FY27", "ERP failover Q2 FY27", "70.0 min", "60 min", "failed"),
        ("Q3 FY27", "ERP failover Q3 FY27", "40.0 min", "60 min", "passed"),
        ("Q4 FY27", "ERP failover Q4 FY27", "50.0 min", "60 min", "passed"),
    ]
