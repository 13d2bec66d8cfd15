"""The demo watch list: about twenty quarter-close jobs with weeks of runs, two slow and one failing; and the
scheduler runs the detector."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.alerting.models import Alert
from app.extensions import db
from app.scheduler import jobs
from app.seed import seed_demo
from app.timeutil import UTC
from app.watchlist import reliability
from app.watchlist.demo import seed_demo_watchlist
from app.watchlist.detection import run_detection_pass
from app.watchlist.models import Job, JobRun
from app.watchlist.scheduled import detect_job_problems


def test_the_demo_has_about_twenty_jobs_with_weeks_of_history(app):
    seed_demo()

    names = set(db.session.scalars(select(Job.name)))
    runs = db.session.scalar(select(func.count()).select_from(JobRun))
    assert len(names) == 20
    assert {"Revenue recognition", "Bookings load", "Billing run", "Order import", "GL posting", "FX rates load",
            "Tax calculation", "Data warehouse refresh"} <= names
    assert 1000 <= runs <= 5000
    oldest = db.session.scalar(select(func.min(JobRun.started_at)))
    newest = db.session.scalar(select(func.max(JobRun.started_at)))
    assert (newest - oldest).days >= 14


# 12:06 UTC is 04:06 in Los Angeles, while the failing job's daily 04:00 run would be going.
@pytest.mark.parametrize("hour", [12.1, 20])
def test_the_demo_has_a_failing_job_that_paged_and_slow_jobs_at_the_top(app, hour):
    with time_machine.travel(datetime(2026, 11, 18, tzinfo=UTC) + timedelta(hours=hour), tick=False):
        seed_demo()

    tax = db.session.scalar(select(Job).where(Job.name == "Tax calculation"))
    assert (tax.state, tax.down_reason, tax.consecutive_failures) == ("down", "failed", 3)
    alert = db.session.scalar(select(Alert).where(Alert.dedup_key == f"job:{tax.id}"))
    assert alert is not None and alert.status == "triggered"
    slowest = [rank.job.name for rank in reliability.top_jobs(sort="p95")[:3]]
    assert "Data warehouse refresh" in slowest
    warehouse = db.session.scalar(select(Job).where(Job.name == "Data warehouse refresh"))
    assert db.session.scalar(select(func.count()).select_from(JobRun).where(
        JobRun.job_id == warehouse.id, JobRun.too_slow.is_(True))) >= 1


@pytest.mark.parametrize("hour", [0.5, 3, 7.7, 12.1, 13, 20.25])
def test_the_demo_is_consistent_so_the_first_detection_pass_pages_nobody_new(app, hour):
    moment = datetime(2026, 11, 18, tzinfo=UTC) + timedelta(hours=hour)
    with time_machine.travel(moment, tick=False):
        seed_demo()
        summary = run_detection_pass()

    assert "paged" not in summary and "paged_in_group" not in summary
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1


def test_seeding_twice_adds_nothing(app):
    seed_demo()
    counts = (db.session.scalar(select(func.count()).select_from(Job)),
              db.session.scalar(select(func.count()).select_from(JobRun)))

    assert seed_demo_watchlist() == 0
    assert (db.session.scalar(select(func.count()).select_from(Job)),
            db.session.scalar(select(func.count()).select_from(JobRun))) == counts


def test_the_scheduler_runs_the_detector_every_ten_seconds_and_prunes_hourly(app):
    listed = {job.name: job for job in jobs(app)}

    assert listed["watchlist_detection"].run is detect_job_problems
    assert listed["watchlist_detection"].seconds == 10
    assert listed["watchlist_prune_runs"].seconds == 3600


def test_in_demo_mode_the_demo_jobs_keep_pinging_and_only_the_tax_calculation_keeps_failing(app):
    from app.watchlist.demo_pings import simulate_demo_pings

    start = datetime(2026, 11, 18, 20, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        seed_demo_watchlist()
        db.session.commit()
        # Six hours of the demo running: the scheduler pings each minute (here every five) and detects.
        for minute in range(0, 6 * 60, 5):
            clock.move_to(start + timedelta(minutes=minute))
            simulate_demo_pings()
            run_detection_pass()
        db.session.expire_all()
        down = set(db.session.scalars(select(Job.name).where(Job.state.in_(("down", "late")))))
    assert down <= {"Tax calculation"}
    tax = db.session.scalar(select(Job).where(Job.name == "Tax calculation"))
    assert tax.state == "down"


def test_demo_pings_run_in_the_scheduler_only_in_demo_mode(app):
    assert "demo_pings" not in {job.name for job in jobs(app)}
    app.config["DEMO_SIMULATED_PINGS"] = True
    assert "demo_pings" in {job.name for job in jobs(app)}
