"""The scheduler is its own process: the web app never starts it, and a broken job never stops it."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import create_app
from app.extensions import db
from app.scheduler import PeriodicJob, build_scheduler, jobs, run_job
from app.system.models import SchedulerHeartbeat
from app.system.services import SCHEDULER_NAME
from tests import support
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
FLASK = ROOT / ".venv" / "bin" / "flask"
WAIT_SECONDS = 120  # a bound for a busy machine: the heartbeat ends the wait, not a timer


def test_creating_the_app_and_serving_requests_starts_no_thread(tmp_path):
    before = set(threading.enumerate())
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'qd.db'}", "TESTING": True},
                     env=support.TEST_ENV)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    for path in ("/healthz", "/login", "/", "/no/such/page"):
        client.get(path)
    started = [thread.name for thread in set(threading.enumerate()) - before]
    assert started == [], f"create_app() or a request started threads: {started}"
    with app.app_context():
        db.engine.dispose()


def test_the_jobs_are_listed_in_one_place_and_include_the_heartbeat(app):
    listed = jobs(app)
    names = [job.name for job in listed]
    assert "heartbeat" in names
    assert len(names) == len(set(names)), "job names are their ids: they must be unique"
    assert all(job.seconds >= 1 for job in listed)
    heartbeat = next(job for job in listed if job.name == "heartbeat")
    assert heartbeat.seconds == app.config["SCHEDULER_HEARTBEAT_SECONDS"]


def test_the_scheduler_schedules_every_listed_job(app):
    scheduled = {job.id for job in build_scheduler(app).get_jobs()}
    assert scheduled == {job.name for job in jobs(app)}


def _heartbeat():
    return db.session.get(SchedulerHeartbeat, SCHEDULER_NAME)


def test_a_failing_job_is_logged_and_the_next_job_still_runs(app, caplog):
    def break_the_transaction():
        # Fails inside the database, which leaves a PostgreSQL transaction aborted until rolled back.
        db.session.execute(text("SELECT * FROM no_such_table"))

    heartbeat_job = next(job for job in jobs(app) if job.name == "heartbeat")
    with caplog.at_level(logging.ERROR, logger="quarterdeck.scheduler"):
        run_job(app, PeriodicJob("breaks", break_the_transaction, 1))  # must not raise
        run_job(app, PeriodicJob("raises", lambda: 1 / 0, 1))
        run_job(app, heartbeat_job)

    failures = [record for record in caplog.records if record.name == "quarterdeck.scheduler"]
    assert [record.getMessage() for record in failures] == ["job breaks failed", "job raises failed"]
    assert all(record.exc_info for record in failures), "failures are logged with their traceback"
    db.session.expire_all()
    assert _heartbeat() is not None, "the job after the failures did not run"


# --- the real process --------------------------------------------------------------------------

def _read_beat(app):
    with app.app_context():
        try:
            return db.session.scalar(select(SchedulerHeartbeat.beat_at).where(SchedulerHeartbeat.name == SCHEDULER_NAME))
        finally:
            db.session.remove()


def _run_scheduler_against(url: str, tmp_path: Path, signum: int = signal.SIGTERM) -> None:
    """Start `flask scheduler run` on `url`, see its heartbeat appear then advance, stop it, see it exit."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env=support.TEST_ENV)
    with app.app_context():
        db.create_all()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": url,
           "SECRET_KEY": support.TEST_ENV["SECRET_KEY"], "SCHEDULER_HEARTBEAT_SECONDS": "1"}
    log_path = tmp_path / "scheduler.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([str(FLASK), "--app", "wsgi", "scheduler", "run"], cwd=ROOT, env=env,
                                   stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        first = latest = None
        while time.monotonic() < deadline:
            assert process.poll() is None, f"scheduler exited early:\n{log_path.read_text()}"
            latest = _read_beat(app)
            if first is None:
                first = latest
            elif latest is not None and latest > first:
                break
            time.sleep(0.2)
        assert first is not None, f"no heartbeat within {WAIT_SECONDS} s:\n{log_path.read_text()}"
        assert latest > first, f"the heartbeat did not advance within {WAIT_SECONDS} s:\n{log_path.read_text()}"
    finally:
        process.send_signal(signum)
        try:
            returncode = process.wait(timeout=support.STOP_BOUND)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"the scheduler did not exit within {support.STOP_BOUND} s of SIGTERM")
        with app.app_context():
            db.engine.dispose()
    output = log_path.read_text()
    # SIGTERM is how systemd, docker and Kubernetes stop a service: a clean stop, not a kill.
    assert returncode == 0, output
    assert "scheduler stopped" in output
    assert "Traceback" not in output


def test_the_scheduler_process_beats_on_sqlite(tmp_path):
    _run_scheduler_against(f"sqlite:///{tmp_path / 'scheduler.db'}", tmp_path)


def test_ctrl_c_stops_the_scheduler_as_cleanly_as_sigterm(tmp_path):
    _run_scheduler_against(f"sqlite:///{tmp_path / 'scheduler.db'}", tmp_path, signal.SIGINT)


def test_the_scheduler_process_beats_on_postgresql(tmp_path):
    require(support.postgres_unavailable_reason())
    name, url = support.create_pg_database("qd_scheduler")
    try:
        _run_scheduler_against(url, tmp_path)
    finally:
        support.drop_pg_database(name)
