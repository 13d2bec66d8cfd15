"""The catalog: every indexed runbook with its review state, use, error rate and flags, computed in a few queries.

Review state: the next review falls due `review_every` after the last "reviewed" review (recorded here, or the
`reviewed:` date of the front matter, whichever is later), or after the runbook was first indexed when it was
never reviewed. It is *current*, *due* within REVIEW_DUE_DAYS, or *overdue*, counted on the owner's calendar
date (their time zone); a retired runbook is out of the cadence.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.runbooks.models import ReviewOutcome, Runbook, RunbookReview
from app.runbooks.reviews import last_reviewed, latest_reviews
from app.runbooks.runs import RunStats, get_settings, last_uses, run_stats
from app.timeutil import to_zone, today_in

REVIEW_DUE_DAYS = 14
FLAGS = ("unlisted", "invalid", "review_overdue", "review_due", "orphaned", "needs_review", "duplicate_title")
FLAG_LABELS = {"unlisted": "not in the table of contents", "invalid": "invalid", "review_overdue": "review overdue",
               "review_due": "review due", "orphaned": "owner not an active user", "needs_review": "needs review",
               "duplicate_title": "duplicate title"}


@dataclass
class CatalogEntry:
    runbook: Runbook
    review_state: str  # current | due | overdue | retired | unknown (invalid: no cadence)
    next_review_on: date | None
    last_reviewed_on: date | None
    latest_review: RunbookReview | None
    last_used_at: datetime | None
    stats: RunStats
    flags: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.runbook.slug

    @property
    def systems(self) -> list[str]:
        return self.runbook.names("systems")

    @property
    def routable(self) -> bool:
        """Can its page be opened (a file with a usable slug)?"""
        return not self.runbook.slug.startswith("~")


def zone_of(runbook: Runbook) -> str:
    return runbook.owner.time_zone if runbook.owner is not None else "UTC"


def review_dates(runbook: Runbook, reviewed: RunbookReview | None, zone: str) -> tuple[date | None, date | None]:
    """(last reviewed on, next review on) in `zone`; (.., None) when the runbook has no readable cadence."""
    candidates = []
    if reviewed is not None:
        candidates.append(to_zone(reviewed.at, zone).date())
    written = runbook.field("reviewed")
    if written:
        try:
            candidates.append(date.fromisoformat(written))
        except ValueError:
            pass
    last = max(candidates) if candidates else None
    if not runbook.review_every_days:
        return last, None
    base = last or to_zone(runbook.first_seen_at, zone).date()
    return last, base + timedelta(days=runbook.review_every_days)


def _state(next_on: date | None, today: date, retired: bool) -> str:
    if retired:
        return "retired"
    if next_on is None:
        return "unknown"
    if today > next_on:
        return "overdue"
    return "due" if (next_on - today).days <= REVIEW_DUE_DAYS else "current"


def present_runbooks() -> list[Runbook]:
    return list(db.session.scalars(select(Runbook).where(Runbook.removed_at.is_(None))
                                   .order_by(Runbook.title, Runbook.path)))


def catalog_entries(runbooks: list[Runbook] | None = None) -> list[CatalogEntry]:
    """An entry for each runbook whose file is present (or for `runbooks`), by title."""
    rows = present_runbooks() if runbooks is None else runbooks
    ids = [row.id for row in rows]
    latest, reviewed = latest_reviews(ids), last_reviewed(ids)
    stats, uses, settings = run_stats(ids), last_uses(ids), get_settings()
    titles: dict[str, int] = defaultdict(int)
    for row in present_runbooks() if runbooks is not None else rows:
        if row.title:
            titles[row.title.strip().lower()] += 1
    entries = []
    for row in rows:
        zone = zone_of(row)
        last_on, next_on = review_dates(row, reviewed.get(row.id), zone)
        retired = latest.get(row.id) is not None and latest[row.id].outcome == ReviewOutcome.RETIRED
        state = _state(next_on, today_in(zone), retired)
        entry = CatalogEntry(row, state, next_on, last_on, latest.get(row.id), uses.get(row.id),
                             stats.get(row.id, RunStats()))
        entry.flags = _flags(entry, titles, settings)
        entries.append(entry)
    return entries


def _flags(entry: CatalogEntry, titles: dict[str, int], settings) -> list[str]:
    row = entry.runbook
    flags = []
    if not row.listed:
        flags.append("unlisted")
    if not row.valid:
        flags.append("invalid")
    if entry.review_state == "overdue":
        flags.append("review_overdue")
    elif entry.review_state == "due":
        flags.append("review_due")
    if row.front_matter is not None and (row.owner is None or not row.owner.active):
        flags.append("orphaned")
    if entry.stats.needs_review(settings):
        flags.append("needs_review")
    if row.title and titles.get(row.title.strip().lower(), 0) > 1:
        flags.append("duplicate_title")
    return flags


def entry_for(runbook: Runbook) -> CatalogEntry:
    return catalog_entries([runbook])[0]


def grouped_by_system(entries: list[CatalogEntry]) -> list[tuple[str, list[CatalogEntry]]]:
    """Entries under each system they name (a runbook naming two systems is under both), then "Other"."""
    groups: dict[str, list[CatalogEntry]] = defaultdict(list)
    for entry in entries:
        for system in entry.systems or ["Other"]:
            groups[system].append(entry)
    return sorted(groups.items(), key=lambda pair: (pair[0] == "Other", pair[0].lower()))
