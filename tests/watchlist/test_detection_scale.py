"""Detection is set-based: the statements a pass sends do not grow with the jobs that are fine, nor with the jobs
a catch-up finds down (many jobs change in one statement, their timeline lines in one insert)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.watchlist import detection
from tests.watchlist.conftest import START, alerts, detect, fresh, state_changes

HOUR = timedelta(hours=1)


def statements_of(run) -> int:
    sent = []

    def note(*_args):
        sent.append(1)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return len(sent)


def pinged_jobs(make_job, ping, count: int) -> list:
    jobs = [make_job(grace_minutes=10) for _ in range(count)]
    for job in jobs:
        ping(job)
    return jobs


def test_a_pass_with_nothing_due_reads_two_ranges_whatever_the_number_of_jobs(make_job, ping, clock):
    pinged_jobs(make_job, ping, 2)
    few = statements_of(lambda: detect(START + timedelta(minutes=30)))
    pinged_jobs(make_job, ping, 20)

    many = statements_of(lambda: detect(START + timedelta(minutes=30)))

    assert few == many == 2


def test_a_pass_moving_due_jobs_sends_the_same_statements_for_3_as_for_33(make_job, ping, clock, backend):
    """A read, the batch's write and the read of pages due: on PostgreSQL the moves and their timeline lines are one
    statement; SQLite sends the update and the insert apart. A short batch is not read again."""
    first = pinged_jobs(make_job, ping, 3)
    summaries = []
    few = statements_of(lambda: summaries.append(detect(START + HOUR + timedelta(minutes=1))))
    clock.move_to(START + HOUR + timedelta(minutes=2))
    for job in first:
        ping(job)
    pinged_jobs(make_job, ping, 30)

    many = statements_of(lambda: summaries.append(detect(START + 2 * HOUR + timedelta(minutes=3))))

    assert summaries == [{"late": 3}, {"late": 33}]
    assert few == many == (3 if backend == "postgresql" else 4)


def test_a_pass_takes_every_due_job_when_they_fill_several_batches(make_job, ping, clock, monkeypatch):
    monkeypatch.setattr(detection, "BATCH", 2)
    jobs = pinged_jobs(make_job, ping, 5)

    assert detect(START + HOUR + timedelta(minutes=1)) == {"late": 5}
    assert {fresh(job).state for job in jobs} == {"late"}


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_a_catch_up_costs_the_same_statements_for_4_jobs_as_for_16(make_job, ping, clock):
    first = pinged_jobs(make_job, ping, 4)
    small = statements_of(lambda: detect(START + 4 * HOUR))
    assert len(alerts()) == 1
    clock.move_to(START + 5 * HOUR)
    pinged_jobs(make_job, ping, 16)  # new jobs, pinged at 5 h; the first four stay down

    large = statements_of(lambda: detect(START + 9 * HOUR))

    assert small == large
    assert [len(alert.details.splitlines()) for alert in alerts()] == [5, 17]  # a header line and one per job
    assert all(len(state_changes(job)) == 3 for job in first)  # new→up, up→late, late→down, each once
    assert {fresh(job).state for job in first} == {"down"}


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_a_catch_up_sends_the_same_statements_when_the_late_jobs_span_many_batches(make_job, ping, clock,
                                                                                   monkeypatch):
    monkeypatch.setattr(detection, "BATCH", 2)  # 16 late jobs are 8 batches of the per-batch path
    pinged_jobs(make_job, ping, 4)
    small = statements_of(lambda: detect(START + 4 * HOUR))
    clock.move_to(START + 5 * HOUR)
    late = pinged_jobs(make_job, ping, 16)

    large = statements_of(lambda: detect(START + 9 * HOUR))

    assert small == large
    assert {fresh(job).state for job in late} == {"down"}
    assert all(len(state_changes(job)) == 3 for job in late)
    assert [len(alert.details.splitlines()) for alert in alerts()] == [5, 17]


@pytest.fixture
def job_row_writes(app, backend):
    """Counts every write of a watch_jobs row (a trigger) from the moment it is called; returns the job ids written."""
    trigger = "CREATE TRIGGER count_job_writes AFTER UPDATE ON watch_jobs "
    made = []

    def start():
        made.append(True)
        db.session.execute(text("CREATE TABLE job_writes (job_id integer)"))
        if backend == "sqlite":
            db.session.execute(text(trigger + "BEGIN INSERT INTO job_writes VALUES (NEW.id); END"))
        else:
            db.session.execute(text("CREATE FUNCTION count_job_write() RETURNS trigger AS $$ BEGIN "
                                    "INSERT INTO job_writes VALUES (NEW.id); RETURN NULL; END $$ LANGUAGE plpgsql"))
            db.session.execute(text(trigger + "FOR EACH ROW EXECUTE FUNCTION count_job_write()"))
        db.session.commit()
        return lambda: sorted(db.session.scalars(text("SELECT job_id FROM job_writes")))

    yield start
    if made:
        db.session.rollback()
        db.session.execute(text("DROP TRIGGER count_job_writes" + ("" if backend == "sqlite" else " ON watch_jobs")))
        if backend != "sqlite":
            db.session.execute(text("DROP FUNCTION count_job_write()"))
        db.session.execute(text("DROP TABLE job_writes"))
        db.session.commit()


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_a_grouped_catch_up_writes_each_job_row_once(make_job, ping, clock, job_row_writes):
    """Moving a job down and claiming it for its grouped alert is one write of its row, not two."""
    jobs = pinged_jobs(make_job, ping, 4)
    written = job_row_writes()

    summary = detect(START + 4 * HOUR)

    assert summary["paged_in_group"] == 4
    assert written() == sorted(job.id for job in jobs)
    [alert] = alerts()
    assert {(fresh(job).alert_key, fresh(job).next_deadline) for job in jobs} == {(alert.dedup_key, None)}


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_the_catch_up_records_each_change_at_its_own_moment(make_job, ping, clock):
    jobs = pinged_jobs(make_job, ping, 3)

    detect(START + 4 * HOUR)

    assert state_changes(jobs[0])[1:] == [(START + HOUR, "up", "late"),
                                          (START + HOUR + timedelta(minutes=10), "late", "down")]


@pytest.mark.config(WATCHLIST_CATCHUP_MINUTES=5, WATCHLIST_CATCHUP_MIN_JOBS=3)
def test_the_catch_up_keeps_the_microseconds_of_each_moment(make_job, ping, clock):
    pinged_at = START + timedelta(seconds=7, microseconds=123456)
    clock.move_to(pinged_at)
    jobs = pinged_jobs(make_job, ping, 3)

    detect(START + 4 * HOUR)

    went_down = pinged_at + HOUR + timedelta(minutes=10)
    assert state_changes(jobs[0])[1:] == [(pinged_at + HOUR, "up", "late"), (went_down, "late", "down")]
    assert fresh(jobs[0]).down_since == went_down


def test_a_pass_reads_its_due_jobs_through_the_deadline_index_not_the_state_index(app, backend):
    """Without statistics SQLite chose ix_watch_jobs_state for "deadline passed and state in (...)", so an idle
    pass read every up job (2.6 ms at 10k jobs, 23 ms at 100k). Both reads of a pass must range over the
    deadline index."""
    if backend != "sqlite":
        pytest.skip("the plan PostgreSQL chooses depends on its statistics; SQLite's is fixed by the schema")
    now = START + HOUR
    reads = [detection._due_watched().params(now=now), detection._down_unpaged().params(now=now)]
    for statement in reads:
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = " ".join(row[3] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        assert "USING INDEX ix_watch_jobs_next_deadline" in plan, plan
