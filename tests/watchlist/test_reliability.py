"""Every way a job can be unhealthy counts, for the top jobs and for the readiness jobs track alike.

Each job below is hourly with a 15-minute grace and a 30-minute maximum. Its first run (a success at START) arms
it; then one thing goes wrong, and a success brings it back up, so the track's "down now" does not hide it.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.readiness.score import compute_readiness
from app.watchlist import reliability
from tests.watchlist.conftest import START, detect, fresh

MINUTE = timedelta(minutes=1)


def too_slow(job, ping, clock):
    ping(job, "start")
    clock.move_to(START + 45 * MINUTE)  # 45 minutes: over the 30-minute maximum
    ping(job)


def missed(job, ping, clock):
    ping(job)
    clock.move_to(START + 76 * MINUTE)  # the 10:00 slot and its grace passed without a run
    detect()
    clock.move_to(START + 80 * MINUTE)
    ping(job)  # back up, answering late


def hung(job, ping, clock):
    ping(job, "start", rid="aaaaaaaa-0000-4000-8000-000000000001")
    clock.move_to(START + 31 * MINUTE)
    detect()  # the run passed its maximum: too slow, still going
    ping(job, "start", rid="aaaaaaaa-0000-4000-8000-000000000002")
    ping(job, rid="aaaaaaaa-0000-4000-8000-000000000002")  # another run finished: up again, the first never ends


def abandoned(job, ping, clock):
    ping(job, "start")
    clock.move_to(START + 5 * MINUTE)
    ping(job, "start")  # a new start without a run id replaces the unfinished one
    ping(job)


def failed(job, ping, clock):
    ping(job, "fail")
    clock.move_to(START + 5 * MINUTE)
    ping(job)


@pytest.mark.parametrize("scenario, counts, described", [
    (too_slow, {"too_slow": 1}, "1 too slow"),
    (missed, {"missed": 1, "late": 1}, "1 missed slot, 1 late run"),
    (hung, {"unfinished": 1}, "1 never finished"),
    (abandoned, {"unfinished": 1}, "1 never finished"),
    (failed, {"failed": 1}, "1 failed"),
], ids=["too-slow", "missed", "hung", "abandoned", "failed"])
def test_the_jobs_track_and_top_jobs_count_every_way_a_job_is_unhealthy(make_job, ping, clock, scenario, counts,
                                                                         described):
    job = make_job(name="Billing run", failures_before_paging=3)
    healthy = make_job(name="Healthy run")
    scenario(job, ping, clock)
    clock.move_to(START + 2 * timedelta(hours=1))
    ping(healthy)
    assert fresh(job).state != "down"

    [rank] = [rank for rank in reliability.top_jobs(sort="trouble") if rank.job.id == job.id]
    trouble = rank.trouble
    assert {name: getattr(trouble, name) for name in ("failed", "too_slow", "unfinished", "missed", "late")
            if getattr(trouble, name)} == counts
    assert reliability.top_jobs(sort="trouble")[0].job.id == job.id

    track = compute_readiness().track("jobs")
    texts = [reason.text for reason in track.reasons]
    assert f"Unhealthy in the last 7 days: Billing run ({described})" in texts
    assert not any(text.startswith("Unhealthy") and "Healthy run" in text for text in texts), texts
    assert track.score < 100


def test_a_job_late_now_counts_on_the_track(make_job, ping, clock):
    job = make_job(name="Billing run")
    ping(job)
    clock.move_to(START + 65 * MINUTE)  # past the 10:00 slot, inside the grace
    detect()

    assert fresh(job).state == "late"
    assert "Unhealthy in the last 7 days: Billing run (late now)" in [
        reason.text for reason in compute_readiness().track("jobs").reasons]


def test_the_top_jobs_page_shows_missed_slots_and_runs_that_never_finished(login_as, make_job, ping, clock):
    job = make_job(name="Billing run")
    missed(job, ping, clock)

    page = login_as("executive").get("/watchlist/top?sort=missed").get_data(as_text=True)

    assert "<th>Missed slots</th>" in page and "<th>Never finished</th>" in page
    assert "<strong>missed slots</strong>" in page
