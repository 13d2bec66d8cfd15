"""The scheduler process registers the periodic jobs of the vendor, DR test, weekly review and risk domains, each
with an interval trigger of its own period (tests/system/test_scheduler.py covers the list as a whole)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from app.drtests.scheduled import run_drtest_jobs
from app.incidents.scheduled import run_incident_jobs
from app.reviews.scheduled import build_due_review, send_review_messages
from app.risks.scheduled import expire_acceptances
from app.runbooks.scheduled import runbook_daily_work, sync_runbook_folder
from app.scheduler import build_scheduler, jobs, run_job
from app.vendors.scheduled import remind_vendor_owners


@pytest.mark.parametrize("name, service, period", [
    ("vendor_reminders", remind_vendor_owners, timedelta(hours=1)),
    ("drtest_reminders", run_drtest_jobs, timedelta(hours=1)),
    ("risk_review_agenda", build_due_review, timedelta(minutes=5)),
    ("risk_review_messages", send_review_messages, timedelta(minutes=2)),
    ("risk_acceptance_expiry", expire_acceptances, timedelta(minutes=15)),
    ("runbooks_sync", sync_runbook_folder, timedelta(minutes=1)),
    ("runbooks_reviews", runbook_daily_work, timedelta(hours=1)),
    ("incident_reminders", run_incident_jobs, timedelta(minutes=1)),
])
def test_the_scheduler_registers_the_job_with_its_interval_trigger(app, name, service, period):
    [listed] = [job for job in jobs(app) if job.name == name]
    assert (listed.run, listed.seconds) == (service, period.total_seconds())

    registered = build_scheduler(app).get_job(name)
    assert registered is not None, f"{name} is listed but not scheduled"
    assert isinstance(registered.trigger, IntervalTrigger) and registered.trigger.interval == period
    # Each run goes through run_job with the app and the listed job: its own app context, failures logged.
    assert registered.func is run_job and registered.args == (app, listed)
