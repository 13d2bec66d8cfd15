"""The SQLite ping write on a file database: plain SQL on a connection the worker keeps, timestamps in the models'
layout, and a failed write leaving nothing behind."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.dialects import sqlite

from app import create_app
from app.extensions import db
from app.timeutil import UTC, utcnow
from app.watchlist import services
from app.watchlist.models import Job, JobRun
from app.watchlist.ping_fast import PingWriter, sqlite_timestamp
from tests import support


@pytest.fixture
def file_app(tmp_path):
    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'pings.db'}", "TESTING": True,
                              "PASSWORD_HASH_METHOD": support.FAST_HASH}, env=support.TEST_ENV)
    with application.app_context():
        db.create_all()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def opened(file_app):
    """How many sqlite3 connections the engine has opened so far (a list holding one count)."""
    count = [0]

    def note(*_args):
        count[0] += 1

    event.listen(db.engine, "connect", note)
    yield count
    event.remove(db.engine, "connect", note)


def up_job(client) -> Job:
    watched = services.save_app(None, name="Billing")
    job = services.save_job(None, app_id=watched.id, name="Invoice run", schedule_kind="interval",
                            interval_minutes=60, grace_minutes=15, max_duration_minutes=30)
    assert client.get(f"/ping/{job.ping_key}").status_code == 200  # new -> up, through the full path
    return job


def stored_text(sql: str, **params) -> str:
    return db.session.execute(text(sql), params).scalar_one()


@pytest.mark.parametrize("moment", [datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                                    datetime(2026, 3, 1, 7, 0, 0, 0, tzinfo=UTC)])
def test_the_raw_timestamps_are_written_as_the_models_write_them(moment):
    models_writer = sqlite.DATETIME().bind_processor(sqlite.dialect())
    assert sqlite_timestamp(moment) == models_writer(moment.replace(tzinfo=None))
    # An instant in another zone is stored as its UTC time, like UTCDateTime does.
    east = moment.astimezone(datetime.now().astimezone().tzinfo)
    assert sqlite_timestamp(east) == models_writer(moment.replace(tzinfo=None))


def test_a_file_database_keeps_one_connection_for_the_pings_outside_the_pool(file_app, opened):
    client = file_app.test_client()
    job = up_job(client)
    key = job.ping_key
    db.session.close()
    before = opened[0]

    for _ in range(20):
        assert client.get(f"/ping/{key}/0").get_data(as_text=True) == "OK"

    assert opened[0] - before <= 1  # at most the one kept for pings, opened once
    assert db.engine.pool.checkedout() == 0  # kept outside the pool: no request ever waits for it
    runs = db.session.scalars(select(JobRun).where(JobRun.job_id == job.id).order_by(JobRun.id)).all()
    job = db.session.get(Job, job.id)
    assert len(runs) == 21 and job.last_run_id == runs[-1].id and runs[-1].exit_code == 0
    # Read back through the models as aware instants, and stored in their layout (so text comparisons hold).
    assert job.next_deadline == job.due_at and job.due_at.tzinfo is not None
    assert abs(job.last_ping_at - utcnow()) < timedelta(minutes=1)
    assert stored_text("SELECT next_deadline FROM watch_jobs WHERE id = :id", id=job.id) == \
        sqlite_timestamp(job.next_deadline)
    assert stored_text("SELECT ended_at FROM watch_job_runs WHERE id = :id", id=runs[-1].id) == \
        sqlite_timestamp(runs[-1].ended_at)


def test_a_disposed_engine_gets_a_new_ping_connection(file_app, opened):
    client = file_app.test_client()
    job = up_job(client)
    assert client.get(f"/ping/{job.ping_key}").status_code == 200
    db.session.remove()
    db.engine.dispose()  # as after a database file is replaced: the old connections must not be written to
    before = opened[0]

    assert client.get(f"/ping/{job.ping_key}").get_data(as_text=True) == "OK"

    assert opened[0] > before
    assert db.session.scalar(select(Job.last_run_id).where(Job.id == job.id)) == \
        db.session.scalar(select(JobRun.id).where(JobRun.job_id == job.id).order_by(JobRun.id.desc()).limit(1))


def test_a_failed_write_leaves_no_run_behind_and_is_not_reused(file_app):
    client = file_app.test_client()
    job = up_job(client)
    runs_before = db.session.scalar(text("SELECT count(*) FROM watch_job_runs"))
    db.session.execute(text("CREATE TRIGGER refuse_slot BEFORE UPDATE OF next_deadline ON watch_jobs "
                            "BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    db.session.commit()
    closed: list = []
    event.listen(db.engine, "close_detached", closed.append)
    writer = PingWriter()
    write = dict(key=job.ping_key, exit_code=None, rid=None, log="", early_tolerance=timedelta(minutes=5))

    with pytest.raises(Exception, match="refused"):
        writer.record_success(db.engine, **write)

    db.session.execute(text("DROP TRIGGER refuse_slot"))
    db.session.commit()
    assert db.session.scalar(text("SELECT count(*) FROM watch_job_runs")) == runs_before  # the insert rolled back
    assert len(closed) == 1  # the connection of the failed write was closed, never to be reused
    assert writer.record_success(db.engine, **write) is True
    assert db.session.scalar(text("SELECT count(*) FROM watch_job_runs")) == runs_before + 1
