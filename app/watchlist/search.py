""""Who do I call?" results from the watch list: apps and jobs by name, with their owner and runbook.

Registered with the search registry by create_app(), so the search page finds
"ERP" as an app too, not only as the vendor that supports it.
"""
from __future__ import annotations

from flask import url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.vendors.search import SearchResult, best_first, register_search_provider
from app.watchlist.models import Job, WatchedApp


def _owner(record) -> str:
    return f"owner {record.owner.name}" if record.owner else "no owner"


def find_apps(query: str, limit: int) -> list[SearchResult]:
    """Apps whose name or description holds the query."""
    rows = db.session.scalars(select(WatchedApp).where(or_(
        WatchedApp.name.icontains(query, autoescape=True), WatchedApp.description.icontains(query, autoescape=True)))
        .options(selectinload(WatchedApp.owner)).order_by(WatchedApp.name).limit(limit * 5))
    results = []
    for app in best_first(list(rows), query, lambda a: a.name, lambda a: (a.name, a.description))[:limit]:
        parts = [app.criticality, _owner(app)] + (["runbook"] if app.runbook_url else [])
        results.append(SearchResult(title=app.name, detail=" · ".join(parts),
                                    url=url_for("watchlist.app", app_id=app.id)))
    return results


def find_jobs(query: str, limit: int) -> list[SearchResult]:
    """Watched jobs by name, with their app and state."""
    rows = db.session.scalars(select(Job).where(Job.name.icontains(query, autoescape=True))
                              .options(selectinload(Job.app), selectinload(Job.owner))
                              .order_by(Job.name).limit(limit * 5))
    results = []
    for job in best_first(list(rows), query, lambda j: j.name, lambda j: (j.name,))[:limit]:
        results.append(SearchResult(title=job.name, detail=" · ".join((job.app.name, job.state, _owner(job))),
                                    url=url_for("watchlist.job", job_id=job.id)))
    return results


def register_search() -> None:
    """Called by create_app(): apps and jobs in "Who do I call?"."""
    register_search_provider("apps", "Apps", find_apps, order=20)
    register_search_provider("jobs", "Jobs", find_jobs, order=40)
