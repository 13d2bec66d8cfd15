"""The ping protocol (Healthchecks-compatible): signals, methods, run ids, logs, errors and throttling."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from app.watchlist.models import LOG_MAX
from tests.watchlist.conftest import START, events_of, fresh, runs_of


def test_a_plain_ping_records_a_successful_run_and_answers_ok(make_job, ping, clock):
    job = make_job()

    response = ping(job)

    assert (response.status_code, response.get_data(as_text=True), response.mimetype) == (200, "OK", "text/plain")
    job = fresh(job)
    assert (job.state, job.due_at, job.next_deadline) == ("up", START + timedelta(hours=1), START + timedelta(hours=1))
    [run] = runs_of(job)
    assert (run.outcome, run.started_at, run.ended_at, run.exit_code) == ("success", None, START, None)


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_every_method_pings(make_job, ping, clock, method):
    job = make_job()

    ping(job, "start", method=method)

    assert fresh(job).state == "running"


def test_start_then_success_measures_the_duration(make_job, ping, clock):
    job = make_job()
    ping(job, "start")
    clock.move_to(START + timedelta(minutes=7))

    ping(job)

    [run] = runs_of(job)
    assert (run.outcome, run.duration_seconds, fresh(job).state) == ("success", 420.0, "up")


@pytest.mark.parametrize("signal, outcome, code", [("fail", "failed", None), ("0", "success", 0),
                                                   ("1", "failed", 1), ("255", "failed", 255)])
def test_fail_and_exit_codes_end_the_run(make_job, ping, clock, signal, outcome, code):
    job = make_job(failures_before_paging=5)
    ping(job, "start")

    ping(job, signal)

    [run] = runs_of(job)
    assert (run.outcome, run.exit_code) == (outcome, code)


@pytest.mark.parametrize("signal", ["256", "-1", "abc", "1.5", "0256"])
def test_an_invalid_exit_code_is_a_400_and_records_nothing(make_job, ping, clock, signal):
    job = make_job()

    response = ping.client.get(f"/ping/{job.ping_key}/{signal}")

    assert response.status_code == 400
    assert "0 to 255" in response.get_data(as_text=True)
    assert runs_of(job) == [] and fresh(job).state == "new"


def test_an_unknown_ping_url_is_a_404(app, ping, clock):
    for url in (f"/ping/{uuid.uuid4()}", f"/ping/{uuid.uuid4()}/start", "/ping/not-a-uuid"):
        response = ping.client.get(url)
        assert (response.status_code, response.get_data(as_text=True)) == (404, "not found\n")


def test_a_rid_that_is_not_a_uuid_is_a_400(make_job, ping, clock):
    job = make_job()

    response = ping.client.get(f"/ping/{job.ping_key}/start?rid=run-1")

    assert response.status_code == 400


def test_pings_need_no_login_and_no_csrf_token(app, make_job, clock):
    job = make_job()
    client = app.test_client()  # no session, no token: a cron wrapper

    assert client.post(f"/ping/{job.ping_key}/start", data="starting").status_code == 200


def test_the_first_10_kb_of_a_post_body_is_kept_as_the_log(make_job, ping, clock):
    job = make_job()
    body = ("line of output\n" * 1000).encode()  # 15,000 bytes

    ping(job, "0", method="POST", data=body)

    [run] = runs_of(job)
    assert len(run.log) == LOG_MAX and run.log == body[:LOG_MAX].decode()


def test_a_log_ping_goes_on_the_timeline_and_changes_nothing(make_job, ping, clock):
    job = make_job()
    ping(job)

    ping(job, "log", method="POST", data=b"halfway: 2,000 of 4,000 invoices")

    [log] = events_of(job, "log")
    assert log.detail == "halfway: 2,000 of 4,000 invoices"
    assert len(runs_of(job)) == 1 and fresh(job).state == "up"


def test_rid_pairs_each_end_with_its_own_start_when_runs_overlap(make_job, ping, clock):
    job = make_job()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    ping(job, "start", rid=first)
    clock.move_to(START + timedelta(minutes=2))
    ping(job, "start", rid=second)
    clock.move_to(START + timedelta(minutes=5))

    ping(job, "0", rid=first)

    assert fresh(job).state == "running"  # the second run is still going
    clock.move_to(START + timedelta(minutes=9))
    ping(job, "1", rid=second)
    by_rid = {run.rid: run for run in runs_of(job)}
    assert (by_rid[first].duration_seconds, by_rid[first].outcome) == (300.0, "success")
    assert (by_rid[second].duration_seconds, by_rid[second].outcome) == (420.0, "failed")


def test_while_an_overlapping_run_goes_on_the_job_is_watched_for_the_oldest_open_run(make_job, ping, clock):
    job = make_job(max_duration_minutes=30)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    ping(job, "start", rid=first)
    clock.move_to(START + timedelta(minutes=10))
    ping(job, "start", rid=second)

    ping(job, "0", rid=second)

    job = fresh(job)
    assert (job.state, job.next_deadline) == ("running", START + timedelta(minutes=30))


def test_without_rid_a_new_start_replaces_an_unfinished_one(make_job, ping, clock):
    job = make_job()
    ping(job, "start")
    clock.move_to(START + timedelta(minutes=5))
    ping(job, "start")
    clock.move_to(START + timedelta(minutes=6))

    ping(job)

    abandoned, finished = runs_of(job)
    assert (abandoned.outcome, finished.outcome, finished.duration_seconds) == ("abandoned", "success", 60.0)
    assert fresh(job).state == "up"


def test_a_run_shorter_than_the_minimum_is_flagged(make_job, ping, clock):
    job = make_job(min_duration_minutes=5)
    ping(job, "start")
    clock.move_to(START + timedelta(seconds=40))

    ping(job)

    [run] = runs_of(job)
    assert run.too_fast and not run.too_slow
    assert "under the minimum of 5 min" in events_of(job, "flag")[0].text
    assert fresh(job).state == "up"  # flagged, not down


def test_a_run_that_ends_after_its_maximum_is_flagged_too_slow(make_job, ping, clock):
    job = make_job(max_duration_minutes=30)
    ping(job, "start")
    clock.move_to(START + timedelta(minutes=31))

    ping(job)

    [run] = runs_of(job)
    assert run.too_slow and not run.too_fast


def test_a_success_with_no_start_records_a_run_without_duration(make_job, ping, clock):
    job = make_job()

    ping(job, "0")

    [run] = runs_of(job)
    assert (run.started_at, run.duration_seconds) == (None, None)


@pytest.mark.config(PING_RATE_LIMIT="3 per minute")
def test_pings_are_throttled_per_ping_url(make_job, ping, clock):
    noisy, quiet = make_job(), make_job()
    statuses = [ping.client.get(f"/ping/{noisy.ping_key}").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert ping.client.get(f"/ping/{quiet.ping_key}").status_code == 200  # another job is not affected
    assert len(runs_of(noisy)) == 3


def test_a_paused_job_records_runs_but_stays_paused(make_job, ping, clock):
    from app.watchlist import services

    job = services.pause_job(make_job())

    ping(job, "start")
    ping(job, "fail")

    job = fresh(job)
    assert (job.state, job.next_deadline, len(runs_of(job))) == ("paused", None, 1)
