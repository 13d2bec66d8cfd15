"""Run history: pruning, uptime per week from exact downtime, the duration trend and the top jobs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.watchlist import history, reliability
from tests.watchlist.conftest import START, detect, fresh, runs_of

HOUR = timedelta(hours=1)


@pytest.mark.config(WATCHLIST_RUNS_PER_JOB=10)
def test_pruning_keeps_the_newest_runs_of_each_job(make_job, ping, clock):
    busy, quiet = make_job(), make_job()
    for minute in range(14):
        clock.move_to(START + timedelta(minutes=minute))
        ping(busy)
    ping(quiet)

    summary = history.prune_runs()

    assert summary == {"jobs": 1, "deleted": 4}
    kept = runs_of(busy)
    assert len(kept) == 10 and kept[0].ended_at == START + timedelta(minutes=4)
    assert len(runs_of(quiet)) == 1


def test_uptime_counts_the_downtime_from_its_theoretical_moment(make_job, ping, clock):
    job = make_job(grace_minutes=0)  # created Monday 2026-11-16 09:00 UTC
    ping(job)
    clock.move_to(START + 5 * HOUR)  # the scheduler was late: down since 10:00, noticed at 14:00
    detect()
    clock.move_to(START + 7 * HOUR)
    ping(job)  # up again at 16:00: six hours down
    clock.move_to(START + 15 * HOUR)  # Tuesday 00:00

    [this_week, last_week] = history.weekly_uptime(fresh(job), weeks=2)

    assert this_week.down_seconds == 6 * 3600
    assert this_week.uptime == round(100 * (1 - 6 / 15), 2)  # watched 15 h, down 6 h
    assert last_week.uptime is None  # the job did not exist yet


def test_the_trend_has_one_point_per_finished_run_scaled_under_the_maximum(make_job, ping, clock):
    job = make_job(max_duration_minutes=10)
    for index, minutes in enumerate((2, 4, 8)):
        clock.move_to(START + index * HOUR)
        ping(job, "start")
        clock.move_to(START + index * HOUR + timedelta(minutes=minutes))
        ping(job)

    trend = history.duration_trend(fresh(job))

    assert [point.run.duration_seconds for point in trend.points] == [120, 240, 480]
    assert trend.points[0].y > trend.points[1].y > trend.points[2].y  # longer is higher on the chart
    assert trend.max_line_y < trend.points[2].y  # the maximum line sits above the longest run


def test_top_jobs_rank_by_p95_failures_and_late_runs(make_job, ping, clock):
    slow = make_job(name="Slow", failures_before_paging=9, max_duration_minutes=120)
    flaky = make_job(name="Flaky", failures_before_paging=9)
    late = make_job(name="Late")
    for index in range(3):
        base = START + index * 2 * HOUR
        clock.move_to(base)
        ping(slow, "start")
        ping(flaky, "start")
        clock.move_to(base + timedelta(minutes=1))
        ping(flaky, "fail")
        clock.move_to(base + timedelta(minutes=50))
        ping(slow)
    clock.move_to(START + timedelta(minutes=10))
    ping(late)
    clock.move_to(START + HOUR + timedelta(minutes=20))
    detect()
    ping(late)  # answered late

    by_p95 = reliability.top_jobs(sort="p95")
    by_failures = reliability.top_jobs(sort="failures")
    by_late = reliability.top_jobs(sort="late")

    assert by_p95[0].job.name == "Slow" and by_p95[0].p95_seconds == 3000
    assert (by_failures[0].job.name, by_failures[0].failures) == ("Flaky", 3)
    assert (by_late[0].job.name, by_late[0].late_runs) == ("Late", 1)


def test_runs_older_than_the_window_do_not_count_in_the_top_jobs(make_job, ping, clock):
    job = make_job(failures_before_paging=9)
    ping(job, "fail")
    clock.move_to(START + timedelta(days=31))

    [rank] = reliability.top_jobs()

    assert (rank.runs, rank.failures) == (0, 0)
