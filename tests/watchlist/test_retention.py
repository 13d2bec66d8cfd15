"""Run retention: runs past WATCHLIST_RUN_RETENTION_DAYS (and runs pruned past the count per job) become daily
rows with their counts and durations; recent runs stay as they are."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.watchlist import history
from app.watchlist.models import JobRunDay
from app.watchlist.retention import roll_up_old_runs
from tests.watchlist.conftest import START, add_runs, runs_of

DAY = timedelta(days=1)


def days_of(job) -> list[tuple]:
    return [(row.day, row.runs, row.failures, row.late, row.timed, row.duration_total_seconds,
             row.duration_max_seconds) for row in db.session.scalars(
                 select(JobRunDay).where(JobRunDay.job_id == job.id).order_by(JobRunDay.day))]


@pytest.mark.config(WATCHLIST_RUN_RETENTION_DAYS=400)
def test_runs_older_than_the_retention_become_daily_rows(make_job, clock):
    job = make_job()
    old = START - 401 * DAY
    add_runs(job, (old, "success", 60.0, False), (old + timedelta(hours=1), "failed", 120.0, True),
             (old - DAY, "success", None, False), (START - 10 * DAY, "success", 30.0, False))

    summary = roll_up_old_runs(START)

    assert summary == {"runs": 3, "batches": 1}
    assert days_of(job) == [((old - DAY).date(), 1, 0, 0, 0, 0.0, None),
                            (old.date(), 2, 1, 1, 2, 180.0, 120.0)]
    assert [run.ended_at for run in runs_of(job)] == [START - 10 * DAY]  # the recent run stays a run


def test_the_roll_up_goes_in_small_batches_and_adds_to_existing_days(make_job, clock):
    job = make_job()
    old = START - 500 * DAY
    add_runs(job, *[(old + timedelta(minutes=n), "success", 10.0, False) for n in range(5)])

    assert roll_up_old_runs(START, batch=2) == {"runs": 5, "batches": 3}
    add_runs(job, (old + timedelta(hours=2), "success", 50.0, False))
    roll_up_old_runs(START)

    assert days_of(job) == [(old.date(), 6, 0, 0, 6, 100.0, 50.0)]
    assert runs_of(job) == []


def test_runs_pruned_past_the_count_per_job_are_kept_as_daily_rows(make_job, clock):
    job = make_job()
    add_runs(job, *[(START - timedelta(hours=n), "success", 10.0, False) for n in range(15, 0, -1)])

    summary = history.prune_runs(keep=10)

    assert summary == {"jobs": 1, "deleted": 5}
    assert len(runs_of(job)) == 10
    assert sum(day[1] for day in days_of(job)) == 5
