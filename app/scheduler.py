"""The scheduler process: the paging engine's loop and the explicit list of periodic jobs, run only by
`flask scheduler run`.

It is never started inside a web worker (each gunicorn worker would run every
job, and every page would go out N times). Each job opens an app context,
calls one service and logs the outcome; a failure is logged and the job runs
again at its next time. The paging engine is not one of the periodic jobs: it
runs in the main thread, woken at once when a page is queued (engine.EngineLoop).
SIGTERM and SIGINT stop the process cleanly: the engine finishes the sends in
flight and records them, the running job finishes, and the process exits 0.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

import click
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.alerting.engine import EngineLoop
from app.system.metrics import serve_process_metrics
from app.alerting.health import check_paging_engine
from app.drtests.scheduled import run_drtest_jobs
from app.audit.recorder import acting_as
from app.extensions import db
from app.incidents.scheduled import run_incident_jobs
from app.oncall.reminders import send_shift_reminders
from app.oncall.scheduled import remind_unconfirmed_contacts
from app.readiness.scheduled import instantiate_current_quarter, remind_overdue_items, snapshot_today
from app.reviews.scheduled import build_due_review, send_review_messages
from app.risks.scheduled import expire_acceptances
from app.runbooks.scheduled import runbook_daily_work, sync_runbook_folder
from app.system.services import record_heartbeat
from app.vendors.scheduled import remind_vendor_owners
from app.watchlist.demo_pings import simulate_demo_pings
from app.watchlist.scheduled import DETECTION_SECONDS, detect_job_problems, prune_job_runs, roll_up_job_runs

log = logging.getLogger("quarterdeck.scheduler")
scheduler_cli = AppGroup("scheduler", help="The scheduler process.")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[], object]
    seconds: int


def jobs(app: Flask) -> list[PeriodicJob]:
    """Every periodic job, in one place."""
    return [
        PeriodicJob("heartbeat", record_heartbeat, int(app.config["SCHEDULER_HEARTBEAT_SECONDS"])),
        PeriodicJob("contact_reminders", remind_unconfirmed_contacts, 3600),  # sends only from BD-N, once a quarter
        PeriodicJob("shift_reminders", send_shift_reminders, 60),  # each once per person and shift start
        PeriodicJob("paging_self_check", check_paging_engine, 60),
        PeriodicJob("vendor_reminders", remind_vendor_owners, 3600),  # at VENDOR_REMINDER_OFFSETS, once each
        PeriodicJob("drtest_reminders", run_drtest_jobs, 3600),  # participants before; quarter flag from BD-30
        PeriodicJob("watchlist_detection", detect_job_problems, DETECTION_SECONDS),  # late/down jobs, pages
        PeriodicJob("watchlist_prune_runs", prune_job_runs, 3600),  # WATCHLIST_RUNS_PER_JOB per job
        PeriodicJob("watchlist_roll_up_runs", roll_up_job_runs, 3600),  # past WATCHLIST_RUN_RETENTION_DAYS: daily
        PeriodicJob("risk_review_agenda", build_due_review, 300),  # once the weekly slot passes; one per week
        PeriodicJob("risk_review_messages", send_review_messages, 120),  # pre-reads, then overdue-action reminders
        PeriodicJob("risk_acceptance_expiry", expire_acceptances, 900),  # reopens, tells the owner
        PeriodicJob("readiness_checklist", instantiate_current_quarter, 3600),  # once per quarter, from its first day
        PeriodicJob("readiness_snapshot", snapshot_today, 600),  # a row per close-region day; freezes at BD0 end
        PeriodicJob("readiness_overdue_reminders", remind_overdue_items, 3600),  # each overdue item's owner, once
        PeriodicJob("runbooks_sync", sync_runbook_folder, 60),  # RUNBOOKS_DIR -> the index; at start, then each minute
        PeriodicJob("runbooks_reviews", runbook_daily_work, 3600),  # review reminders once each; report counts
        PeriodicJob("incident_reminders", run_incident_jobs, 60),  # overdue updates (once per interval), reviews
    ] + ([PeriodicJob("demo_pings", simulate_demo_pings, 60)] if app.config["DEMO_SIMULATED_PINGS"] else [])


def run_job(app: Flask, job: PeriodicJob) -> None:
    """Run one job in its own app context; record the outcome in the log and never let it kill the process."""
    with app.app_context(), acting_as(f"scheduler:{job.name}"):
        try:
            result = job.run()
        except Exception:  # a broken job must not stop the others
            db.session.rollback()
            log.exception("job %s failed", job.name)
        else:
            # One line when a job did something; a quiet minute stays quiet.
            if _did_something(result):
                log.info("job %s: %s", job.name, _summary(result))
            else:
                log.debug("job %s ran: nothing to do", job.name)
        finally:
            db.session.remove()


def _did_something(result: object) -> bool:
    """Counts of work done (a dict with a non-zero value, a positive number, True); a heartbeat row is not."""
    if isinstance(result, dict):
        return result.get("ok") is not True and any(value for key, value in result.items() if key != "ok")
    if isinstance(result, bool):
        return result
    return isinstance(result, int) and result > 0


def _summary(result: object) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{key} {value}" for key, value in result.items() if value)
    return str(result)


def build_scheduler(app: Flask) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
        # coalesce: after a pause run once, not once per missed slot; one instance of a job at a time;
        # a job up to 30 s late still runs (APScheduler's default grace is 1 s).
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 30,
    })
    for job in jobs(app):
        scheduler.add_job(run_job, "interval", seconds=job.seconds, args=[app, job], id=job.name, name=job.name)
    return scheduler


@scheduler_cli.command("run")
@with_appcontext
def run() -> None:
    """Run the paging engine and the periodic jobs until SIGTERM or Ctrl+C (one process per SQLite database)."""
    app = current_app._get_current_object()
    # APScheduler logs every run at INFO; our jobs log what they did, so its chatter is kept to warnings.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    stop = threading.Event()
    # systemd, docker and Kubernetes stop a service with SIGTERM; a person presses Ctrl+C. Either way: finish
    # the sends in flight, let the running job end, exit 0, no traceback.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    serve_process_metrics(app)
    engine = EngineLoop(app, stop)
    engine.run_once()  # first, so that the self-check below finds an engine that has just run
    for job in jobs(app):
        if stop.is_set():
            break
        run_job(app, job)  # once at start, so /healthz turns green without waiting a full interval
    scheduler = build_scheduler(app)
    scheduler.start()
    click.echo(f"Scheduler running the paging engine and {len(jobs(app))} job(s); Ctrl+C to stop.")
    try:
        engine.run()
    finally:
        scheduler.shutdown(wait=True)
        log.info("scheduler stopped")
