"""Detection: late, missed, too slow, failures, maintenance windows, paging, recovery, catch-up grouping, races."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.alerting.models import AlertEvent
from app.extensions import db
from app.watchlist import services, windows
from tests.watchlist.conftest import START, alerts, detect, events_of, fresh, runs_of, state_changes

HOUR = timedelta(hours=1)


def test_a_job_that_never_pinged_is_not_watched(make_job, clock):
    job = make_job()
    clock.move_to(START + timedelta(days=2))

    assert detect() == {}
    assert fresh(job).state == "new"


def test_past_its_slot_a_job_is_late_then_down_after_the_grace(make_job, ping, clock):
    job = make_job(grace_minutes=15)
    ping(job)
    clock.move_to(START + HOUR + timedelta(seconds=5))

    assert detect() == {"late": 1}
    assert fresh(job).state == "late" and alerts() == []

    clock.move_to(START + HOUR + timedelta(minutes=15, seconds=5))
    summary = detect()

    assert summary == {"down": 1, "paged": 1}
    job = fresh(job)
    assert (job.state, job.down_reason, job.down_since) == ("down", "missed", START + HOUR + timedelta(minutes=15))
    [alert] = alerts()
    assert (alert.dedup_key, alert.source, alert.severity, alert.status) == (f"job:{job.id}", "job", "high",
                                                                             "triggered")
    assert "missed its run" in alert.summary


def test_changes_are_recorded_at_their_theoretical_moment_when_the_scheduler_was_late(make_job, ping, clock):
    job = make_job(grace_minutes=15)
    ping(job)
    clock.move_to(START + 3 * HOUR)  # no pass ran for two hours

    detect()

    assert state_changes(job)[-2:] == [(START + HOUR, "up", "late"),
                                       (START + HOUR + timedelta(minutes=15), "late", "down")]


def test_a_ping_while_late_brings_it_back_up_and_marks_the_run_late(make_job, ping, clock):
    job = make_job()
    ping(job)
    clock.move_to(START + HOUR + timedelta(minutes=5))
    detect()

    ping(job)

    job = fresh(job)
    assert (job.state, job.due_at) == ("up", START + 2 * HOUR + timedelta(minutes=5))
    assert runs_of(job)[-1].late


def test_a_cron_job_is_expected_at_its_slot_in_its_zone(make_job, ping, clock):
    job = make_job(cron_expr="0 2 * * *", time_zone="America/Los_Angeles")  # 02:00 PST = 10:00 UTC

    ping(job)

    assert fresh(job).due_at == START + HOUR  # 2026-11-16 10:00 UTC


@pytest.mark.config(PING_EARLY_TOLERANCE_SECONDS=120)
def test_an_early_ping_counts_for_its_slot_and_does_not_go_late(make_job, ping, clock):
    job = make_job(cron_expr="0 10 * * *", time_zone="UTC")
    ping(job)
    clock.move_to(START + HOUR - timedelta(seconds=90))  # 09:58:30, 90 s before the 10:00 slot

    ping(job)
    clock.move_to(START + HOUR + timedelta(minutes=20))

    assert detect() == {}
    assert fresh(job).due_at == START + timedelta(days=1, hours=1)


def test_a_ping_too_early_for_the_tolerance_leaves_the_slot_expected(make_job, ping, clock):
    job = make_job(cron_expr="0 10 * * *", time_zone="UTC")  # default tolerance: 60 s
    clock.move_to(START + HOUR - timedelta(minutes=5))

    ping(job)

    assert fresh(job).due_at == START + HOUR


def test_a_run_past_its_maximum_duration_is_too_slow_and_pages(make_job, ping, clock):
    job = make_job(max_duration_minutes=30)
    ping(job, "start")
    clock.move_to(START + timedelta(minutes=30, seconds=3))

    assert detect() == {"down": 1, "paged": 1}

    job = fresh(job)
    assert (job.state, job.down_reason, job.down_since) == ("down", "too_slow", START + timedelta(minutes=30))
    [run] = runs_of(job)
    assert (run.outcome, run.too_slow, run.ended_at) == ("too_slow", True, None)
    assert "running too long" in alerts()[0].summary


def test_when_the_slow_run_finally_ends_the_job_is_back_up_and_the_alert_says_how_long_it_was_down(
        make_job, ping, clock):
    job = make_job(max_duration_minutes=30)
    ping(job, "start")
    clock.move_to(START + timedelta(minutes=31))
    detect()
    clock.move_to(START + timedelta(minutes=75))

    ping(job)

    job = fresh(job)
    [run] = runs_of(job)
    assert (job.state, job.alert_key, run.outcome, run.duration_seconds) == ("up", None, "success", 4500.0)
    [alert] = alerts()
    assert alert.status == "resolved"
    notes = db.session.scalars(select(AlertEvent.text).where(AlertEvent.alert_id == alert.id)).all()
    assert any("back up after being down for 45 min" in text for text in notes)


def test_a_job_pages_only_after_its_number_of_consecutive_failures(make_job, ping, clock):
    job = make_job(failures_before_paging=3)
    ping(job, "1")
    ping(job, "fail")
    assert (fresh(job).state, fresh(job).consecutive_failures, alerts()) == ("up", 2, [])

    ping(job, "2")

    job = fresh(job)
    assert (job.state, job.down_reason, job.alert_key) == ("down", "failed", f"job:{job.id}")
    assert len(alerts()) == 1


def test_a_success_between_failures_starts_the_count_again(make_job, ping, clock):
    job = make_job(failures_before_paging=2)
    ping(job, "fail")
    ping(job)
    ping(job, "fail")

    assert (fresh(job).state, fresh(job).consecutive_failures, alerts()) == ("up", 1, [])


def test_a_failure_pages_at_once_with_the_default_of_one(make_job, ping, clock):
    job = make_job()

    ping(job, "fail")

    assert fresh(job).state == "down" and alerts()[0].dedup_key == f"job:{job.id}"


def test_a_down_job_does_not_page_twice(make_job, ping, clock):
    job = make_job()
    ping(job, "fail")
    ping(job, "fail")
    clock.move_to(START + 5 * HOUR)

    detect()

    assert len(alerts()) == 1 and fresh(job).state == "down"


def test_maintenance_window_holds_the_page_and_pages_when_it_closes_if_still_down(make_job, ping, clock):
    job = make_job(grace_minutes=0)
    windows.add_window(job, kind="once", time_zone="UTC", starts_at=START + HOUR, ends_at=START + 3 * HOUR,
                       note="ERP patching")
    ping(job)
    clock.move_to(START + HOUR + timedelta(minutes=1))

    assert detect() == {"late": 1, "down": 1, "held_by_maintenance": 1}
    assert alerts() == [] and fresh(job).next_deadline == START + 3 * HOUR
    assert "maintenance window" in events_of(job, "held")[0].text

    clock.move_to(START + 3 * HOUR + timedelta(seconds=1))
    assert detect() == {"paged": 1}
    assert len(alerts()) == 1


def test_a_job_back_up_within_its_maintenance_window_never_pages(make_job, ping, clock):
    job = make_job()
    windows.add_window(job, kind="weekly", time_zone="Europe/London", weekday=0, start_time=START.time(),
                       end_time=(START + 4 * HOUR).time())
    ping(job, "fail")  # 09:00 UTC, 09:00 in London: inside the window
    assert fresh(job).state == "down" and "maintenance window" in events_of(job, "held")[0].text
    clock.move_to(START + HOUR)

    ping(job)
    clock.move_to(START + HOUR + timedelta(minutes=30))
    detect()

    assert alerts() == [] and fresh(job).state == "up"


def test_the_timeline_shows_maintenance_windows(make_job, login_as, clock):
    job = make_job()
    windows.add_window(job, kind="weekly", time_zone="Europe/London", weekday=6, start_time=START.time(),
                       end_time=(START + 2 * HOUR).time(), note="ERP patching")

    page = login_as("responder").get(f"/watchlist/jobs/{job.id}").get_data(as_text=True)

    assert 'data-kind="maintenance"' in page and "Sundays 09:00–11:00 (UTC, London) — ERP patching" in page


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_after_the_scheduler_was_down_the_catch_up_raises_one_grouped_alert(make_job, ping, clock):
    jobs = [make_job(grace_minutes=10) for _ in range(4)]
    for job in jobs:
        ping(job)
    clock.move_to(START + 4 * HOUR)  # no pass for hours: every job missed its run long ago

    summary = detect()

    assert summary == {"late": 4, "down": 4, "paged_in_group": 4, "grouped_alerts": 1}
    [alert] = alerts()
    assert alert.dedup_key == "watchlist:catch-up:2026-11-16T13:00"
    assert alert.summary == "4 watched jobs went down while detection was not running"
    assert all(job.name in alert.details for job in jobs)
    assert {fresh(job).alert_key for job in jobs} == {alert.dedup_key}


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_fewer_catch_up_pages_than_the_threshold_page_one_by_one(make_job, ping, clock):
    jobs = [make_job() for _ in range(2)]
    for job in jobs:
        ping(job)
    clock.move_to(START + 4 * HOUR)

    assert detect()["paged"] == 2
    assert sorted(a.dedup_key for a in alerts()) == sorted(f"job:{job.id}" for job in jobs)


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_jobs_going_down_on_time_page_one_by_one_even_when_many(make_job, ping, clock):
    jobs = [make_job(grace_minutes=10) for _ in range(4)]
    for job in jobs:
        ping(job)
    clock.move_to(START + HOUR + timedelta(minutes=10, seconds=5))  # passes ran: all just went down

    assert detect()["paged"] == 4
    assert len(alerts()) == 4


@pytest.mark.config(WATCHLIST_CATCHUP_MIN_JOBS=2)
def test_the_grouped_alert_is_resolved_when_its_last_job_is_back(make_job, ping, clock):
    first, second = make_job(), make_job()
    ping(first)
    ping(second)
    clock.move_to(START + 5 * HOUR)
    detect()

    ping(first)
    assert alerts()[0].status == "triggered"
    ping(second)

    [alert] = alerts()
    assert alert.status == "resolved"
    assert fresh(first).alert_key is None and fresh(second).alert_key is None


def test_a_transition_a_ping_made_first_is_not_made_again(make_job, ping, clock, backend):
    from collections import Counter

    if backend == "postgresql":
        pytest.skip("on PostgreSQL the pass reads its jobs FOR UPDATE: the ping waits for it (the race test below)")

    from app.watchlist.detection import _advance_batch, _due_watched

    job = make_job()
    ping(job)
    now = START + 2 * HOUR
    clock.move_to(now)
    [stale] = db.session.execute(_due_watched(), {"now": now}).all()  # the pass reads the due job...
    ping(job)  # ...a ping lands before it writes...
    summary = Counter()

    _advance_batch([stale], now, summary)  # ...and its compare-and-set loses
    db.session.commit()

    assert summary == {"lost_race": 1}
    assert (fresh(job).state, len(state_changes(job))) == ("up", 1)


def test_a_batch_moves_and_records_only_the_jobs_still_as_read(make_job, ping, clock):
    """The batch write (one statement on PostgreSQL) is compare-and-set per job: a job whose state or deadline is no
    longer the one read is neither moved nor given timeline lines, and the others are, down and late together."""
    from app.watchlist import bulk

    down, late, moved_on = (make_job(name=name) for name in ("Down", "Late", "Pinged meanwhile"))
    for job in (down, late, moved_on):
        ping(job)
    deadline, now = START + HOUR, START + HOUR + timedelta(minutes=20)
    clock.move_to(now)
    stale_deadline = fresh(moved_on).next_deadline - timedelta(minutes=1)  # what a pass read before a ping moved it

    won = bulk.advance(
        [(down.id, "up", deadline, deadline + timedelta(minutes=15), "missed")],
        [(late.id, "up", deadline, deadline, deadline + timedelta(minutes=15)),
         (moved_on.id, "up", stale_deadline, stale_deadline, deadline)],
        [{"job_id": job.id, "at": deadline, "kind": "state", "from_state": "up", "to_state": to, "text": f"up → {to}"}
         for job, to in ((down, "down"), (late, "late"), (moved_on, "late"))])
    db.session.commit()

    assert won == {down.id, late.id}
    assert (fresh(down).state, fresh(down).down_since, fresh(down).alert_key) == ("down", deadline + timedelta(minutes=15), None)
    assert (fresh(late).state, fresh(late).next_deadline) == ("late", deadline + timedelta(minutes=15))
    assert fresh(moved_on).state == "up"
    assert state_changes(down)[1:] == [(deadline, "up", "down")]
    assert state_changes(late)[1:] == [(deadline, "up", "late")]
    assert state_changes(moved_on)[1:] == []


def test_a_deadline_with_microseconds_is_still_matched_by_the_batch_write(make_job, ping, clock):
    """The batch compares the deadline it read (sent as text to PostgreSQL): its microseconds must survive."""
    clock.move_to(START + timedelta(microseconds=123456))
    job = make_job(grace_minutes=15)
    ping(job)
    clock.move_to(START + HOUR + timedelta(minutes=1))

    assert detect() == {"late": 1}
    assert state_changes(job)[-1] == (START + HOUR + timedelta(microseconds=123456), "up", "late")


def test_a_detector_write_refuses_a_naive_instant(make_job, ping, backend):
    """Instants travel as text to PostgreSQL: one without its offset would be read in the session's zone."""
    from app.watchlist import bulk

    if backend != "postgresql":
        pytest.skip("SQLite's writes bind through UTCDateTime, which refuses it the same way")
    job = make_job()
    ping(job)
    naive = datetime(2026, 11, 16, 10, 0)

    with pytest.raises(ValueError, match="naive"):
        bulk.advance([], [(job.id, "up", fresh(job).next_deadline, naive, naive)], [])


def test_two_schedulers_racing_on_postgresql_transition_and_page_each_job_once(app, backend, make_job, ping, clock):
    import threading

    if backend != "postgresql":
        pytest.skip("one scheduler runs per SQLite database; the race is PostgreSQL's")
    jobs = [make_job(grace_minutes=0) for _ in range(12)]
    for job in jobs:
        ping(job)
    now = START + HOUR + timedelta(minutes=1)
    results, barrier = [], threading.Barrier(2)

    def scheduler():
        with app.app_context():
            barrier.wait()
            results.append(detect(now))
            db.session.remove()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sum(r.get("down", 0) for r in results) == 12
    assert sum(r.get("paged", 0) for r in results) == 12
    assert len(alerts()) == 12
    assert all(len(state_changes(job)) == 3 for job in jobs)


def test_two_passes_do_not_double_transition_or_double_page(make_job, ping, clock):
    job = make_job()
    ping(job)
    clock.move_to(START + 2 * HOUR)

    first, second = detect(), detect()

    assert first == {"late": 1, "down": 1, "paged": 1} and second == {}
    assert len(alerts()) == 1 and len(state_changes(job)) == 3  # new→up, up→late, late→down


def test_pausing_a_down_job_resolves_its_alert_and_stops_watching(make_job, ping, clock):
    job = make_job()
    ping(job, "fail")

    services.pause_job(fresh(job))
    clock.move_to(START + 10 * HOUR)

    assert detect() == {}
    assert alerts()[0].status == "resolved" and fresh(job).state == "paused"


def test_resuming_expects_the_next_run_from_now(make_job, ping, clock):
    job = make_job()
    ping(job)
    services.pause_job(fresh(job))
    clock.move_to(START + 10 * HOUR)

    services.resume_job(fresh(job))

    job = fresh(job)
    assert (job.state, job.due_at) == ("up", START + 11 * HOUR)


def _refuse_new_alerts(backend: str) -> None:
    """Make the database itself refuse to store an alert (a full disk, a broken outbox table)."""
    if backend == "sqlite":
        db.session.execute(text("CREATE TRIGGER refuse_alerts BEFORE INSERT ON alerts "
                                "BEGIN SELECT RAISE(ABORT, 'outbox unavailable'); END"))
    else:
        db.session.execute(text("CREATE FUNCTION refuse_alerts() RETURNS trigger AS $$ BEGIN "
                                "RAISE EXCEPTION 'outbox unavailable'; END $$ LANGUAGE plpgsql"))
        db.session.execute(text("CREATE TRIGGER refuse_alerts BEFORE INSERT ON alerts "
                                "FOR EACH ROW EXECUTE FUNCTION refuse_alerts()"))
    db.session.commit()


def _accept_alerts_again(backend: str) -> None:
    db.session.execute(text("DROP TRIGGER refuse_alerts" + ("" if backend == "sqlite" else " ON alerts")))
    if backend != "sqlite":
        db.session.execute(text("DROP FUNCTION refuse_alerts()"))
    db.session.commit()


def test_a_page_that_fails_is_recorded_on_the_job_and_retried(make_job, ping, clock, backend):
    job = make_job()
    ping(job)
    clock.move_to(START + 2 * HOUR)
    _refuse_new_alerts(backend)
    try:
        summary = detect()
    finally:
        _accept_alerts_again(backend)

    assert summary["page_failed"] == 1
    job = fresh(job)
    assert (job.state, job.alert_key, job.next_deadline) == ("down", None, START + 2 * HOUR + timedelta(minutes=1))
    assert "outbox unavailable" in events_of(job, "page_failed")[0].text
    clock.move_to(START + 2 * HOUR + timedelta(minutes=2))
    assert detect() == {"paged": 1}


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_a_grouped_catch_up_that_fails_to_page_leaves_the_jobs_down_once_and_retries(make_job, ping, clock, backend):
    jobs = [make_job(grace_minutes=10) for _ in range(3)]
    for job in jobs:
        ping(job)
    clock.move_to(START + 4 * HOUR)  # no pass for hours
    _refuse_new_alerts(backend)
    try:
        summary = detect()
    finally:
        _accept_alerts_again(backend)

    assert summary == {"late": 3, "down": 3, "page_failed": 3}
    for job in map(fresh, jobs):
        assert (job.state, job.alert_key, job.next_deadline) == ("down", None, START + 4 * HOUR + timedelta(minutes=1))
        assert [change[1:] for change in state_changes(job)[1:]] == [("up", "late"), ("late", "down")]  # each once
        assert len(events_of(job, "page_failed")) == 1
    clock.move_to(START + 4 * HOUR + timedelta(minutes=2))
    assert detect() == {"paged": 3}


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_a_run_the_catch_up_finds_too_slow_joins_the_grouped_alert_even_alone(make_job, ping, clock):
    late = [make_job(grace_minutes=10) for _ in range(3)]
    for job in late:
        ping(job)
    running = make_job()
    ping(running, "start")  # its maximum duration ran out while no pass ran
    clock.move_to(START + 4 * HOUR)

    summary = detect()

    [alert] = alerts()
    assert alert.dedup_key.startswith("watchlist:catch-up:")
    assert {fresh(job).alert_key for job in [*late, running]} == {alert.dedup_key}
    assert fresh(running).down_reason == "too_slow"
    # Four jobs in one alert: the one that joined the alert already open is not counted as an alert of its own.
    assert (summary["paged_in_group"], summary["grouped_alerts"]) == (4, 1)


def test_a_close_freeze_window_holds_pages_from_bd_minus_2(make_job, ping, clock):
    # Q4 FY27: BD-2 is Wednesday 2027-01-27, whole days in UTC (the default close region).
    job = make_job(grace_minutes=0)
    windows.add_window(job, kind="freeze", bd_start=-2, bd_end=3, note="Close freeze")
    clock.move_to(datetime(2027, 1, 27, 9, tzinfo=UTC))
    ping(job, "fail")

    assert alerts() == [] and "maintenance window" in events_of(job, "held")[0].text
    assert fresh(job).next_deadline == datetime(2027, 2, 4, tzinfo=UTC)  # looked at again when the freeze ends
