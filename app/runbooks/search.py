"""Runbooks in the global search ("Who do I call?"): by title, system, job, vendor or tag."""
from __future__ import annotations

from flask import url_for

from app.runbooks.matching import usable_runbooks
from app.vendors.search import SearchResult, best_first, register_search_provider


def _texts(runbook) -> list[str]:
    return [runbook.title, *runbook.names("systems"), *runbook.names("jobs"), *runbook.names("vendors"),
            *runbook.names("tags")]


def find_runbooks(query: str, limit: int) -> list[SearchResult]:
    """Usable runbooks with a word starting with the query in their title, systems, jobs, vendors or tags."""
    found = best_first(usable_runbooks(), query, lambda r: r.title, _texts)[:limit]
    return [SearchResult(title=runbook.title, detail=" · ".join(["runbook", *runbook.names("systems")][:4]),
                         url=url_for("runbooks.show", slug=runbook.slug)) for runbook in found]


def register_search() -> None:
    register_search_provider("runbooks", "Runbooks", find_runbooks, order=25)
