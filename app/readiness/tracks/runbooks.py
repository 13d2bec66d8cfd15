"""Runbooks track: runbooks of critical jobs and applications overdue for review, critical items no runbook
covers (undocumented), and runbooks whose error rate flags them "needs review". Read through app.runbooks."""
from __future__ import annotations

from app.readiness.tracks.base import LISTED_PER_FINDING, Context, Finding, TrackResult, not_tracked, scored
from app.runbooks.catalog import CatalogEntry, catalog_entries
from app.runbooks.matching import covers
from app.runbooks.report import critical_items, undocumented_critical
from app.runbooks.reviews import retired_ids

TRACK = "runbooks"


def _listed(entries: list[CatalogEntry], text) -> list[tuple[str, str]]:
    return [(text(entry), f"/runbooks/{entry.slug}") for entry in entries[:LISTED_PER_FINDING]]


def assess(ctx: Context) -> TrackResult:
    """Score the runbook catalog; "not tracked" until a runbook is indexed."""
    entries = [entry for entry in catalog_entries() if entry.runbook.valid]
    if not entries:
        return not_tracked(TRACK, "Not tracked yet: no runbooks are indexed from RUNBOOKS_DIR.")
    retired = retired_ids()
    apps, jobs = critical_items()
    critical = [entry for entry in entries if entry.runbook.id not in retired
                and (any(covers(entry.runbook, app_names=[app.name]) for app in apps)
                     or any(covers(entry.runbook, jobs=[job]) for job in jobs))]
    overdue = [entry for entry in critical if entry.review_state == "overdue"]
    missing = undocumented_critical()
    flagged = [entry for entry in entries if "needs_review" in entry.flags]
    reviewed = len(critical) - len(overdue)
    note = (f"{reviewed} of {len(critical)} runbooks for critical jobs and applications reviewed within their "
            "cadence." if critical else "No runbook covers a critical job or application yet.")
    findings = [
        Finding("critical jobs and applications without a runbook", len(missing), 4, 30,
                [(f"No runbook: {item.name}", item.path) for item in missing[:LISTED_PER_FINDING]],
                "/runbooks/report#undocumented"),
        Finding("runbooks for critical systems overdue for review", len(overdue), 5, 25,
                _listed(overdue, lambda e: f"Review overdue since {e.next_review_on:%d %b}: {e.runbook.title}"),
                "/runbooks/report#review_overdue"),
        Finding("runbooks that need review (error rate)", len(flagged), 5, 20,
                _listed(flagged, lambda e: f"Needs review ({e.stats.percent}% of {e.stats.runs} runs failed or "
                                           f"deviated): {e.runbook.title}"), "/runbooks/report#error_rate"),
    ]
    return scored(TRACK, findings, note=note)
