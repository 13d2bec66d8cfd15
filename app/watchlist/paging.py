"""Paging about jobs through the alerting domain: one alert per outage (or one for a catch-up group), resolved on
recovery with how long the job was down. Every function joins the caller's transaction and never commits.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.alerting.models import Alert, AlertStatus
from app.alerting.services import raise_alert, resolve_by_dedup_key
from app.extensions import db
from app.watchlist.models import Job, JobRun
from app.watchlist.states import human_duration, maintenance_at, record

REASONS = {"missed": "missed its run", "failed": "failed", "too_slow": "is running too long"}
DETAILS_ROOM = 9000  # the alert's details hold 10,000 characters; leave room for the header lines


def job_label(job: Job) -> str:
    return f"{job.app.name} / {job.name}"


def job_url(job: Job) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/watchlist/jobs/{job.id}"


def _details(job: Job) -> str:
    lines = [f"Job: {job_label(job)} ({job.criticality})", f"Down since {job.down_since:%Y-%m-%d %H:%M:%S} UTC: "
             f"{REASONS.get(job.down_reason or '', job.down_reason or 'down')}.", f"Job page: {job_url(job)}"]
    if job.app.runbook_url:
        lines.append(f"Runbook: {job.app.runbook_url}")
    if job.last_run_id is not None:
        log = db.session.scalar(select(JobRun.log).where(JobRun.id == job.last_run_id)) or ""
        if log.strip():
            lines.append("Last run's log (first lines):\n" + "\n".join(log.strip().splitlines()[:20])[:2000])
    return "\n".join(lines)


def hold_for_maintenance(job: Job, now: datetime) -> bool:
    """When a maintenance window is open, keep the page and look again when it closes; True when held."""
    window = maintenance_at(job, now)
    if window is None:
        return False
    if job.next_deadline != window[1]:
        record(job, at=now, kind="held", text=f"Not paged: maintenance window until {window[1]:%Y-%m-%d %H:%M} UTC; "
                                              "pages then if still down.")
    job.next_deadline = window[1]
    return True


def page_job(job: Job, now: datetime) -> Alert:
    """Raise the job's own alert (dedup key job:<id>) through its escalation policy; the caller owns the CAS."""
    alert, created = raise_alert(summary=f"{job_label(job)} {REASONS.get(job.down_reason or '', 'is down')}",
                                 details=_details(job), source="job", severity=job.criticality,
                                 dedup_key=job.dedup_key, escalation_policy_id=job.escalation_policy_id)
    job.alert_key, job.next_deadline = job.dedup_key, None
    record(job, at=now, kind="paged", text=f"Paged: alert #{alert.id}" + ("" if created else " (already open)")
           + (f" via {job.escalation_policy.name}" if job.escalation_policy else " (no escalation policy)") + ".")
    return alert


def resolve_job_alert(job: Job, now: datetime, why: str) -> Alert | None:
    """The outage is over: resolve its alert (a grouped one once its last job is back), saying how long it lasted."""
    key = job.alert_key
    down_for = human_duration((now - job.down_since).total_seconds()) if job.down_since else "an unknown time"
    job.alert_key = None
    if key is None:
        return None
    if key == job.dedup_key:
        alert = resolve_by_dedup_key(key, note=f"{job_label(job)} {why} after being down for {down_for}.")
    else:
        # Lock the group's alert so two jobs recovering at once do not both see the other still down.
        db.session.execute(select(Alert.id).where(Alert.dedup_key == key, Alert.status != AlertStatus.RESOLVED.value)
                           .with_for_update())
        db.session.flush()
        still_down = db.session.scalar(select(func.count()).select_from(Job).where(Job.alert_key == key))
        if still_down:
            record(job, at=now, kind="resolved", text=f"Back up after {down_for}; the grouped alert stays open for "
                                                      f"{still_down} other job(s).")
            return None
        alert = resolve_by_dedup_key(key, note=f"Every job of this catch-up alert is back; the last, "
                                               f"{job_label(job)}, {why} after being down for {down_for}.")
    if alert is not None:
        record(job, at=now, kind="resolved", text=f"Alert #{alert.id} resolved: {why} after {down_for} down.")
    return alert
