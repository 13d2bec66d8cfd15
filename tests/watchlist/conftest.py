"""Fixtures for the watch list: apps and jobs made through the services, pings sent over HTTP, a movable clock."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select

from app.alerting.models import Alert
from app.extensions import db
from app.timeutil import UTC
from app.watchlist import services
from app.watchlist.detection import run_detection_pass
from app.watchlist.models import Job, JobEvent, JobRun

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock_start(app):
    """The clock stands still at START (the app is made first, at the real time)."""
    return START


@pytest.fixture
def make_app(app):
    counter = {"n": 0}

    def make(name: str | None = None, **fields):
        counter["n"] += 1
        return services.save_app(None, name=name or f"App {counter['n']}", **fields)

    return make


@pytest.fixture
def make_job(app, make_app):
    """A job through the service: by default hourly, 15 min grace, 30 min maximum, paging on the first failure."""
    counter = {"n": 0}

    def make(**fields):
        counter["n"] += 1
        if "app_id" not in fields:
            fields["app_id"] = make_app().id
        fields.setdefault("name", f"Job {counter['n']}")
        fields.setdefault("schedule_kind", "cron" if fields.get("cron_expr") else "interval")
        if fields["schedule_kind"] == "interval":
            fields.setdefault("interval_minutes", 60)
        fields.setdefault("grace_minutes", 15)
        fields.setdefault("max_duration_minutes", 30)
        return services.save_job(None, **fields)

    return make


@pytest.fixture
def ping(app):
    """Send a ping the way a cron wrapper does; returns the response."""
    client = app.test_client()

    def send(job: Job, signal: str = "", *, rid: str | None = None, method: str = "GET", data=None):
        url = f"/ping/{job.ping_key}" + (f"/{signal}" if signal else "") + (f"?rid={rid}" if rid else "")
        response = client.open(url, method=method, data=data)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    send.client = client
    return send


def detect(now: datetime | None = None) -> dict[str, int]:
    return run_detection_pass(now)


def fresh(job: Job) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job.id)


def runs_of(job: Job) -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).where(JobRun.job_id == job.id).order_by(JobRun.id)))


def add_runs(job: Job, *runs: tuple) -> None:
    """Write finished runs straight into the table, as years of history would be: (ended_at, outcome, duration
    seconds or None, late) each."""
    db.session.execute(insert(JobRun), [
        {"job_id": job.id, "ended_at": ended, "started_at": ended - timedelta(seconds=took) if took else None,
         "duration_seconds": took, "outcome": outcome, "late": late, "too_slow": False, "too_fast": False, "log": ""}
        for ended, outcome, took, late in runs])
    db.session.commit()


def state_changes(job: Job) -> list[tuple[datetime, str, str]]:
    return [(e.at, e.from_state, e.to_state) for e in db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job.id, JobEvent.kind == "state").order_by(JobEvent.at, JobEvent.id))]


def events_of(job: Job, kind: str) -> list[JobEvent]:
    return list(db.session.scalars(select(JobEvent).where(JobEvent.job_id == job.id, JobEvent.kind == kind)
                                   .order_by(JobEvent.id)))


def alerts() -> list[Alert]:
    db.session.expire_all()
    return list(db.session.scalars(select(Alert).order_by(Alert.id)))
