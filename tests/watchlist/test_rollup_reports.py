"""Runs rolled up into daily rows still count: in the top jobs over any period, in the jobs track of readiness and in
the job page's by-day duration chart."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.readiness.score import compute_readiness
from app.watchlist import history, reliability
from app.watchlist.models import JobRunDay
from app.watchlist.retention import roll_up_old_runs
from app.watchlist.run_days import DayDurations, daily_durations, finished_runs, first_whole_day, midnight
from tests.watchlist.conftest import START, add_runs, runs_of

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def add_day_row(job, day, *, runs: int, failures: int = 0, late: int = 0, timed: int = 0, total: float = 0.0,
                maximum: float | None = None) -> None:
    db.session.add(JobRunDay(job_id=job.id, day=day, runs=runs, failures=failures, late=late, timed=timed,
                             duration_total_seconds=total, duration_max_seconds=maximum))
    db.session.commit()


def top_summary(period: str) -> dict[str, tuple]:
    return {rank.job.name: (rank.runs, rank.failures, rank.late_runs, rank.mean_seconds, rank.max_seconds)
            for rank in reliability.top_jobs(period=period, now=START)}


@pytest.mark.config(WATCHLIST_RUN_RETENTION_DAYS=30)
@pytest.mark.parametrize("period", ["90d", "1y"])
def test_top_jobs_count_the_same_before_and_after_the_runs_are_rolled_up(make_job, clock, period):
    ledger, payroll = make_job(name="Ledger close"), make_job(name="Payroll")
    since = reliability.period_start(period, START)
    old = START - 60 * DAY  # past the 30-day retention, inside the period
    add_runs(ledger, (old, "success", 60.0, False), (old + HOUR, "failed", 300.0, True),
             (old + DAY, "success", None, False), (START - 5 * DAY, "success", 120.0, False),
             (since + timedelta(minutes=30), "failed", 30.0, False),  # the period's first day: inside
             (since - timedelta(minutes=30), "failed", 900.0, True))  # the evening before: outside
    add_runs(payroll, (START - 70 * DAY, "failed", 10.0, False))

    before = top_summary(period)
    assert roll_up_old_runs(START)["runs"] == 6
    after = top_summary(period)

    assert before == {"Ledger close": (5, 2, 1, 127.5, 300.0), "Payroll": (1, 1, 0, 10.0, 10.0)}
    assert after == before
    [rank] = [rank for rank in reliability.top_jobs(period=period, now=START) if rank.job.id == ledger.id]
    assert (rank.rolled_up_runs, rank.p95_seconds) == (4, 120.0)  # p95 over the one run still kept


def test_a_period_counts_the_daily_rows_of_its_days_only(make_job, clock):
    job = make_job(name="Ledger close")
    add_day_row(job, (START - 200 * DAY).date(), runs=7, failures=2, late=1, timed=7, total=700.0, maximum=400.0)

    counts = {period: (rank.runs, rank.failures, rank.late_runs, rank.rolled_up_runs, rank.max_seconds)
              for period in reliability.PERIODS for rank in reliability.top_jobs(period=period, now=START)}

    assert counts == {"30d": (0, 0, 0, 0, None), "90d": (0, 0, 0, 0, None), "1y": (7, 2, 1, 7, 400.0)}


def test_the_mean_and_longest_sorts_rank_rolled_up_history(make_job, clock):
    steady, spiky = make_job(name="Steady"), make_job(name="Spiky")
    add_runs(steady, (START - DAY, "success", 600.0, False))
    add_day_row(spiky, (START - 10 * DAY).date(), runs=2, timed=2, total=1000.0, maximum=900.0)

    assert [rank.job.name for rank in reliability.top_jobs(sort="max", now=START)] == ["Spiky", "Steady"]
    assert [rank.job.name for rank in reliability.top_jobs(sort="mean", now=START)] == ["Steady", "Spiky"]


def test_p95_is_the_nearest_rank_computed_by_the_database(make_job, clock):
    hundred, twenty, single, untimed = make_job(), make_job(), make_job(), make_job()
    add_runs(hundred, *[(START - timedelta(minutes=n), "success", float(n), False) for n in range(1, 101)])
    add_runs(twenty, *[(START - timedelta(minutes=n), "success", float(n), False) for n in range(1, 21)],
             *[(START - timedelta(minutes=n), "failed", None, True) for n in range(5)])  # no start: no duration
    add_runs(single, (START - HOUR, "success", 7.0, False))
    add_runs(untimed, (START - HOUR, "success", None, False))

    runs = finished_runs(START - DAY)

    assert [runs[job.id].p95_seconds for job in (hundred, twenty, single, untimed)] == [95.0, 19.0, 7.0, None]
    assert (runs[hundred.id].timed, runs[hundred.id].total_seconds, runs[hundred.id].max_seconds) == (100, 5050, 100)
    assert (runs[twenty.id].runs, runs[twenty.id].timed, runs[twenty.id].failed, runs[twenty.id].late) == (25, 20, 5, 5)


def test_a_period_counts_only_the_utc_days_wholly_inside_it():
    assert first_whole_day(midnight(START.date())) == START.date()
    assert first_whole_day(START) == START.date() + DAY


def test_the_jobs_track_counts_failures_pruned_into_daily_rows(make_job, clock):
    job = make_job(name="Every minute")
    add_runs(job, *[(START - 3 * DAY + timedelta(minutes=n), "failed" if n < 3 else "success", 5.0, False)
                    for n in range(15)])
    history.prune_runs(keep=10)  # the three failures are now counted only in their day's row
    assert len(runs_of(job)) == 10

    texts = [reason.text for reason in compute_readiness().track("jobs").reasons]

    assert "Unhealthy in the last 7 days: Every minute (3 failed)" in texts


@pytest.mark.parametrize("query, label", [
    ("", "last 30 days"), ("?period=90d", "last 90 days"), ("?period=1y", "last year"),
    ("?period=5y", "last 30 days"), ("?period=30&sort=bogus", "last 30 days"), ("?period=1y&period=x", "last year"),
])
def test_the_top_jobs_period_is_validated(login_as, make_job, clock, query, label):
    make_job(name="Ledger close")

    response = login_as("executive").get(f"/watchlist/top{query}")

    assert response.status_code == 200
    assert f'<small class="muted">{label}</small>' in response.get_data(as_text=True)


def test_the_top_jobs_page_counts_rolled_up_runs_over_a_year(login_as, make_job, clock):
    job = make_job(name="Ledger close")
    add_day_row(job, (START - 200 * DAY).date(), runs=17, failures=13, timed=17, total=1700.0, maximum=400.0)
    client = login_as("executive")

    year = client.get("/watchlist/top?period=1y&sort=failures").get_data(as_text=True)
    month = client.get("/watchlist/top?sort=failures").get_data(as_text=True)

    assert "<td>17</td>" in year and "<td>13</td>" in year and 'data-testid="rolled-up-note"' in year
    assert "<td>17</td>" not in month and "<td>13</td>" not in month


def test_durations_by_day_add_a_partly_rolled_up_day_to_its_kept_runs(make_job, clock):
    job = make_job()
    day = (START - 3 * DAY).date()
    add_runs(job, (midnight(day) - timedelta(minutes=5), "success", 99.0, False))  # the day before the range
    add_runs(job, *[(midnight(day) + timedelta(hours=hours), "success", seconds, False)
                    for hours, seconds in ((1, 10.0), (2, 20.0), (3, 30.0), (23.9, 40.0))])
    history.prune_runs(keep=2)  # the day's first two runs (and the one before) become daily rows

    assert daily_durations(job.id, day) == [DayDurations(day, 4, 25.0, 40.0, 2)]


def test_the_by_day_chart_shows_a_day_kept_only_as_a_daily_row(login_as, make_job, clock):
    job = make_job(name="Ledger close")
    folded_day = (START - 500 * DAY).date()
    add_day_row(job, folded_day, runs=3, timed=2, total=600.0, maximum=400.0)
    add_runs(job, (START - 2 * DAY, "success", 120.0, False))
    client = login_as("responder")

    by_day = client.get(f"/watchlist/jobs/{job.id}?chart=days").get_data(as_text=True)
    by_run = client.get(f"/watchlist/jobs/{job.id}?chart=bogus").get_data(as_text=True)

    assert 'data-testid="daily-trend"' in by_day and 'data-testid="trend"' not in by_day
    assert f'data-day="{folded_day}"' in by_day and f'data-day="{(START - 2 * DAY).date()}"' in by_day
    assert f"{folded_day}: 2 timed runs, mean 5.0 min, longest 6.7 min (2 from daily totals)" in by_day
    assert 'data-testid="trend"' in by_run and 'data-testid="daily-trend"' not in by_run
