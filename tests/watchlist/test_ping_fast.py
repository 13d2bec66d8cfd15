"""The common ping (a success from a job that is up) in one write (two statements on SQLite), and its cache never
outliving a change."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.watchlist import services
from app.watchlist.models import JobEvent
from tests.watchlist.conftest import START, events_of, fresh, runs_of


TRANSACTION_WORDS = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


@pytest.fixture
def statements(app, backend):
    """The SQL statements the database received while the test runs (BEGIN/COMMIT are not statements).

    On SQLite they are read off the sqlite3 connection itself (the in-memory database has one), since the ping's
    write goes around SQLAlchemy there; on PostgreSQL off SQLAlchemy's cursor events."""
    sent: list[str] = []

    def word(statement: str) -> None:
        first = statement.split()[0].upper()
        if first not in TRANSACTION_WORDS:
            sent.append(first)

    if backend == "sqlite":
        borrowed = db.engine.raw_connection()
        connection = borrowed.driver_connection
        borrowed.close()
        connection.set_trace_callback(word)
        yield sent
        connection.set_trace_callback(None)
        return
    note = lambda _conn, _cursor, statement, *_args: word(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", note)
    yield sent
    event.remove(db.engine, "before_cursor_execute", note)


# What the common ping sends, by backend: one statement on PostgreSQL (a CTE), an insert and an update on SQLite.
FAST_WRITE = {"postgresql": ["WITH"], "sqlite": ["INSERT", "UPDATE"]}


def test_a_success_of_an_up_job_is_one_write_without_a_lookup(make_job, ping, clock, statements, backend):
    job = make_job()
    ping(job)  # new -> up: the full path
    ping(job)  # the first success of an up job: its key is now known to this process
    clock.move_to(START + timedelta(minutes=50))
    url = f"/ping/{job.ping_key}/0"
    statements.clear()

    response = ping.client.get(url)

    assert (response.get_data(as_text=True), response.mimetype) == ("OK", "text/plain")
    assert statements == FAST_WRITE[backend]
    job = fresh(job)
    expected = START + timedelta(minutes=110)
    assert (job.state, job.due_at, job.next_deadline, job.last_ping_at) == ("up", expected, expected,
                                                                           START + timedelta(minutes=50))
    runs = runs_of(job)
    assert [(run.outcome, run.exit_code, run.ended_at) for run in runs] == [
        ("success", None, START), ("success", None, START), ("success", 0, START + timedelta(minutes=50))]
    assert job.last_run_id == runs[-1].id
    assert len(events_of(job, "state")) == 1  # new -> up only: an up job staying up writes no timeline line


def test_a_posted_log_and_a_rid_are_kept_on_the_fast_path(make_job, ping, clock, statements, backend):
    job = make_job()
    ping(job)
    ping(job)
    url = f"/ping/{job.ping_key}?rid=7f1c53a6-8ac4-4f6d-9d43-0d0c1c1e5a10"
    statements.clear()

    assert ping.client.post(url, data=b"42 invoices").status_code == 200

    assert statements == FAST_WRITE[backend]
    run = runs_of(job)[-1]
    assert (run.log, run.rid) == ("42 invoices", "7f1c53a6-8ac4-4f6d-9d43-0d0c1c1e5a10")


def test_a_changed_schedule_is_used_by_the_next_ping(make_job, ping, clock):
    job = make_job(interval_minutes=60)
    ping(job)
    ping(job)  # cached now
    services.save_job(job, **{**services.job_values(job), "interval_minutes": 120})
    db.session.commit()

    ping(job)

    assert fresh(job).due_at == START + timedelta(minutes=120)


def test_a_paused_job_stays_paused_even_when_its_key_was_cached(make_job, ping, clock):
    job = make_job()
    ping(job)
    ping(job)
    services.pause_job(job)

    ping(job)

    job = fresh(job)
    assert (job.state, job.next_deadline, len(runs_of(job))) == ("paused", None, 3)


def test_a_new_ping_key_retires_the_cached_one(make_job, ping, clock):
    job = make_job()
    ping(job)
    ping(job)
    old_key = job.ping_key
    services.new_ping_key(job)
    db.session.commit()

    assert ping.client.get(f"/ping/{old_key}").status_code == 404
    assert ping(fresh(job)).status_code == 200


def test_a_deleted_job_answers_404_even_when_its_key_was_cached(make_job, ping, clock):
    job = make_job()
    ping(job)
    ping(job)
    key = job.ping_key
    services.delete_job(job)

    assert ping.client.get(f"/ping/{key}").get_data(as_text=True) == "not found\n"


def test_a_job_that_went_down_comes_back_through_the_full_path(make_job, ping, clock):
    from tests.watchlist.conftest import detect

    job = make_job()
    ping(job)
    ping(job)  # cached
    detect(START + timedelta(hours=2))  # missed its slot and its grace: down, paged
    clock.move_to(START + timedelta(hours=2))

    ping(job)

    job = fresh(job)
    assert job.state == "up"
    assert [(e.from_state, e.to_state) for e in db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job.id, JobEvent.kind == "state").order_by(JobEvent.id))][-1] \
        == ("down", "up")


@pytest.mark.config(PING_RATE_LIMIT="2 per minute")
def test_the_throttle_counts_fast_and_full_pings_alike(make_job, ping, clock):
    job = make_job()
    statuses = [ping.client.get(f"/ping/{job.ping_key}" + suffix).status_code for suffix in ("", "", "/start")]

    assert statuses == [200, 200, 429]
    assert len(runs_of(job)) == 2
