"""Runbooks one tap away on other domains' pages and messages, through app.providers (registered by init_app)."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, url_for

from app.auth.models import User
from app.providers import RelatedLink, UnreadReading, register_provider
from app.runbooks.matching import runbooks_for, usable_runbooks
from app.runbooks.models import Runbook
from app.readiness.chase import register_chase_source
from app.readiness.tracks.base import ChaseItem, Context
from app.runbooks.catalog import catalog_entries
from app.runbooks.reviews import acknowledged_by


def _link(runbook: Runbook, run_query: str | None) -> RelatedLink:
    detail = " · ".join(part for part in (runbook.field("severity"), runbook.field("version") and
                                          f"v{runbook.field('version')}") if part)
    return RelatedLink(label=runbook.title, path=f"/runbooks/{runbook.slug}", detail=detail, kind="runbook",
                       action_label="Run this runbook" if run_query else None,
                       action_path=f"/runbooks/{runbook.slug}/run?{run_query}" if run_query else None)


def alert_links(alert) -> list[RelatedLink]:
    return [_link(runbook, f"alert_id={alert.id}") for runbook in runbooks_for(dedup_key=alert.dedup_key)] \
        if alert.dedup_key else []


def job_links(job) -> list[RelatedLink]:
    return [_link(runbook, f"job_id={job.id}") for runbook in runbooks_for(job=job)]


def dr_template_links(template) -> list[RelatedLink]:
    return [_link(runbook, None) for runbook in runbooks_for(dr_template=template.name)]


def _rotation_runbooks(names: set[str]) -> list[Runbook]:
    return [runbook for runbook in usable_runbooks()
            if names & {name.lower() for name in runbook.names("acknowledge")}]


def rotation_unread(rotation) -> list[UnreadReading]:
    """Members of the rotation who have not acknowledged the current version of each runbook naming it."""
    runbooks = _rotation_runbooks({rotation.name.lower()})
    if not runbooks:
        return []
    done = acknowledged_by(runbooks)
    unread = []
    for member in rotation.members:
        person = member.user
        if person is None or not person.active:
            continue
        titles = tuple(r.title for r in runbooks if (r.id, person.id) not in done)
        if titles:
            unread.append(UnreadReading(person.id, person.name, titles))
    return unread


def shift_unread(user: User, rotation_names: list[str]) -> list[str]:
    """Titles of the runbooks of these rotations (or the user's role) the user has not acknowledged."""
    names = {name.lower() for name in rotation_names} | {user.role.value}
    runbooks = _rotation_runbooks(names)
    done = acknowledged_by(runbooks)
    return [r.title for r in runbooks if (r.id, user.id) not in done]


def unread_for(user: User) -> list[Runbook]:
    """Runbooks that name the user (by role or rotation) whose current version they have not acknowledged."""
    from app.runbooks.reviews import readers_of

    runbooks = [runbook for runbook in usable_runbooks() if runbook.names("acknowledge")]
    done = acknowledged_by(runbooks)
    return [runbook for runbook in runbooks if user.id in readers_of(runbook) and (runbook.id, user.id) not in done]


def runbooks_to_chase(ctx: Context) -> list[ChaseItem]:
    """For "what to chase": runbook reviews overdue or due within a week, and runbooks flagged "needs review"."""
    if not ctx.is_current:
        return []
    soon = ctx.today + timedelta(days=7)
    items = []
    for entry in catalog_entries():
        owner = entry.runbook.owner.name if entry.runbook.owner else entry.runbook.owner_email or "No owner"
        url = url_for("runbooks.show", slug=entry.slug)
        if entry.next_review_on and entry.review_state in ("due", "overdue") and entry.next_review_on <= soon:
            items.append(ChaseItem(f"Review runbook: {entry.runbook.title} (due {entry.next_review_on:%d %b})", owner,
                                   url, due_on=entry.next_review_on, urgent=entry.review_state == "overdue"))
        if "needs_review" in entry.flags:
            items.append(ChaseItem(f"Runbook needs review: {entry.runbook.title} ({entry.stats.percent}% of "
                                   f"{entry.stats.runs} runs went wrong)", owner, url, urgent=True))
    return items


def init_app(app: Flask) -> None:
    """Offer runbooks to alerts, jobs, DR templates and rotations, and to "what to chase"; add them to the
    global search."""
    register_chase_source(app, "runbooks", "Runbooks", runbooks_to_chase, order=65)
    register_provider("alert_links", "runbooks", alert_links)
    register_provider("job_links", "runbooks", job_links)
    register_provider("dr_template_links", "runbooks", dr_template_links)
    register_provider("rotation_unread", "runbooks", rotation_unread)
    register_provider("shift_unread", "runbooks", shift_unread)
    from app.runbooks.search import register_search

    register_search()

