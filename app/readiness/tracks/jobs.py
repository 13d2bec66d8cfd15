"""Critical jobs track: jobs down now, jobs unhealthy in the last 7 days (every way the watch list shows it: failed,
too slow, missed a slot, never finished, late), jobs whose app has no runbook."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select

from app.extensions import db
from app.readiness.tracks.base import LISTED_PER_FINDING, ChaseItem, Context, Finding, TrackResult, not_tracked, scored
from app.watchlist.models import Job, JobState, WatchedApp
from app.watchlist.reliability import Trouble, trouble_since

TRACK = "jobs"
RECENT = timedelta(days=7)


def _count_and_first(statement) -> tuple[int, list[Job]]:
    count = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.scalars(statement.order_by(Job.name, Job.id).limit(LISTED_PER_FINDING)).all() if count else []
    return count, list(rows)


def _link(job: Job) -> str:
    return url_for("watchlist.job", job_id=job.id)


def unhealthy_jobs(ctx: Context) -> list[tuple[Job, Trouble, bool]]:
    """Watched jobs that are not down now but were unhealthy in the last 7 days or are late now: (job, what went
    wrong, late now), worst first."""
    troubles = {job_id: trouble for job_id, trouble in trouble_since(ctx.now - RECENT, ctx.now).items()
                if trouble.total}
    watched = select(Job).where(Job.paused.is_(False), Job.state != JobState.DOWN.value)
    jobs = db.session.scalars(watched.where(
        (Job.id.in_(list(troubles))) | (Job.state == JobState.LATE.value)).order_by(Job.name, Job.id)).all()
    found = [(job, troubles.get(job.id, Trouble()), job.state == JobState.LATE.value) for job in jobs]
    return sorted(found, key=lambda entry: (-entry[1].total - entry[2], entry[0].name))


def _unhealthy_text(job: Job, trouble: Trouble, late_now: bool) -> str:
    what = ", ".join(filter(None, ("late now" if late_now else "", trouble.describe())))
    return f"Unhealthy in the last 7 days: {job.name} ({what})"


def assess(ctx: Context) -> TrackResult:
    """Score the watch list; 'not tracked' when no job is watched."""
    watched = select(Job).where(Job.paused.is_(False))
    if db.session.scalar(watched.with_only_columns(Job.id).limit(1)) is None:
        return not_tracked(TRACK, "Not tracked yet: no critical jobs are on the watch list.")
    down_count, down = _count_and_first(watched.where(Job.state == JobState.DOWN.value))
    unhealthy = unhealthy_jobs(ctx)
    no_runbook_count, no_runbook = _count_and_first(
        watched.join(WatchedApp, WatchedApp.id == Job.app_id).where(WatchedApp.runbook_url == ""))
    findings = [
        Finding("jobs down now", down_count, 10, 40,
                [(f"Down ({job.down_reason or 'missed'}): {job.name}", _link(job)) for job in down],
                url_for("watchlist.index"), severe=True),
        Finding("jobs unhealthy in the last 7 days", len(unhealthy), 4, 20,
                [(_unhealthy_text(job, trouble, late), _link(job)) for job, trouble, late in unhealthy],
                url_for("watchlist.top", sort="trouble")),
        Finding("jobs without a runbook link", no_runbook_count, 2, 15,
                [(f"No runbook link: {job.name}", _link(job)) for job in no_runbook], url_for("watchlist.index")),
    ]
    return scored(TRACK, findings)


def chase(ctx: Context) -> list[ChaseItem]:
    """Jobs down now, then the ones unhealthy lately, each with its owner."""
    down = db.session.scalars(select(Job).where(Job.paused.is_(False), Job.state == JobState.DOWN.value)
                              .order_by(Job.down_since, Job.id)).all()
    items = [ChaseItem(f"Down ({job.down_reason or 'missed'}): {job.name}", _owner(job), _link(job), urgent=True)
             for job in down]
    items += [ChaseItem(_unhealthy_text(job, trouble, late).replace("Unhealthy in the last 7 days: ", "Unhealthy: "),
                        _owner(job), _link(job)) for job, trouble, late in unhealthy_jobs(ctx)]
    return items


def _owner(job: Job) -> str:
    return job.owner.name if job.owner is not None else "No owner"
