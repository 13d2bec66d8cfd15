"""Critical jobs track: jobs down now, jobs that failed in the last 7 days, jobs whose app has no runbook."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select

from app.extensions import db
from app.readiness.tracks.base import LISTED_PER_FINDING, Context, Finding, TrackResult, not_tracked, scored
from app.watchlist.models import Job, JobRun, JobState, RunOutcome, WatchedApp

TRACK = "jobs"
RECENT = timedelta(days=7)
FAILED_OUTCOMES = (RunOutcome.FAILED.value, RunOutcome.TOO_SLOW.value)


def _finding(label: str, statement, each: int, cap: int, text, severe: bool = False) -> Finding:
    count = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.scalars(statement.order_by(Job.name, Job.id).limit(LISTED_PER_FINDING)).all() if count else []
    return Finding(label, count, each, cap, [(text(job), url_for("watchlist.job", job_id=job.id)) for job in rows],
                   url_for("watchlist.index"), severe=severe)


def assess(ctx: Context) -> TrackResult:
    """Score the watch list; 'not tracked' when no job is watched."""
    watched = select(Job).where(Job.paused.is_(False))
    if db.session.scalar(watched.with_only_columns(Job.id).limit(1)) is None:
        return not_tracked(TRACK, "Not tracked yet: no critical jobs are on the watch list.")
    down = watched.where(Job.state == JobState.DOWN.value)
    recently_failed = (select(JobRun.job_id).where(JobRun.outcome.in_(FAILED_OUTCOMES),
                                                   JobRun.ended_at >= ctx.now - RECENT).distinct())
    failed = watched.where(Job.state != JobState.DOWN.value, Job.id.in_(recently_failed))
    no_runbook = watched.join(WatchedApp, WatchedApp.id == Job.app_id).where(WatchedApp.runbook_url == "")
    findings = [
        _finding("jobs down now", down, 10, 40, lambda job: f"Down ({job.down_reason or 'missed'}): {job.name}",
                 severe=True),
        _finding("jobs failed in the last 7 days", failed, 4, 20, lambda job: f"Failed in the last 7 days: {job.name}"),
        _finding("jobs without a runbook link", no_runbook, 2, 15, lambda job: f"No runbook link: {job.name}"),
    ]
    return scored(TRACK, findings)
