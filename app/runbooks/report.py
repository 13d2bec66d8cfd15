"""The catalog report: the SOP programme's three measures (unlisted, undocumented, error rate per runbook) and
what keeps a catalog honest (broken links, overdue reviews, invalid files, orphaned owners, duplicate titles).

Computed live for the current fiscal quarter; its counts are kept per quarter (RunbookReportSnapshot) so that
they can be trended. `failing` is what `flask runbooks check` exits non-zero on: invalid, broken or overdue.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.alerting.services import dedup_keys_seen
from app.calendar.services import quarter_for
from app.drtests.templates import list_templates
from app.extensions import db
from app.runbooks.catalog import CatalogEntry, catalog_entries
from app.runbooks.matching import covers, jobs_of_dedup_keys, usable_runbooks
from app.runbooks.models import RunbookReportSnapshot
from app.runbooks.sync import broken_links_of, table_of_contents as _table_of_contents
from app.runbooks import files
from app.timeutil import FiscalQuarter, fiscal_quarter, utcnow
from app.vendors.services import list_vendors
from app.watchlist.services import list_apps

MEASURES = ("unlisted", "undocumented", "error_rate", "broken_links", "review_overdue", "invalid", "orphaned",
            "duplicate_titles")
FAILING = ("invalid", "broken_links", "review_overdue")


@dataclass(frozen=True)
class Uncovered:
    kind: str  # job | app | alert | drtest | vendor
    name: str
    path: str | None  # the record's page


@dataclass(frozen=True)
class BrokenLink:
    source: str  # the file the link is in (README.md for the table of contents)
    target: str
    line: int
    slug: str | None = None


@dataclass
class Report:
    quarter: FiscalQuarter
    entries: list[CatalogEntry]
    unlisted: list[CatalogEntry] = field(default_factory=list)
    undocumented: list[Uncovered] = field(default_factory=list)
    error_rate: list[CatalogEntry] = field(default_factory=list)
    broken_links: list[BrokenLink] = field(default_factory=list)
    review_overdue: list[CatalogEntry] = field(default_factory=list)
    invalid: list[CatalogEntry] = field(default_factory=list)
    orphaned: list[CatalogEntry] = field(default_factory=list)
    duplicate_titles: list[tuple[str, list[CatalogEntry]]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in MEASURES}

    @property
    def failing(self) -> bool:
        return any(getattr(self, name) for name in FAILING)


def critical_items() -> tuple[list, list]:
    """(critical watched apps, critical watched jobs that are not paused)."""
    apps = list_apps()
    jobs = [job for app in apps for job in app.jobs if job.criticality == "critical" and not job.paused]
    return [app for app in apps if app.criticality == "critical"], jobs


def undocumented_critical(runbooks: list | None = None) -> list[Uncovered]:
    """Critical apps and jobs no usable runbook covers."""
    runbooks = usable_runbooks() if runbooks is None else runbooks
    apps, jobs = critical_items()
    found = [Uncovered("app", app.name, f"/watchlist/apps/{app.id}") for app in apps
             if not any(covers(r, app_names=[app.name]) for r in runbooks)]
    found += [Uncovered("job", f"{job.name} ({job.app.name})", f"/watchlist/jobs/{job.id}") for job in jobs
              if not any(covers(r, jobs=[job]) for r in runbooks)]
    return found


def _undocumented(quarter: FiscalQuarter) -> list[Uncovered]:
    runbooks = usable_runbooks()
    found = undocumented_critical(runbooks)
    start = datetime.combine(quarter.first_day, time(0), tzinfo=UTC)
    for key in dedup_keys_seen(start, start + timedelta(days=(quarter.last_day - quarter.first_day).days + 1)):
        jobs = jobs_of_dedup_keys([key])
        if not any(covers(r, jobs=jobs, dedup_keys=[key]) for r in runbooks):
            label = f"{key} ({jobs[0].name})" if jobs else key
            found.append(Uncovered("alert", label, f"/watchlist/jobs/{jobs[0].id}" if jobs else None))
    for template in list_templates():
        if not any(covers(r, dr_templates=[template.name]) for r in runbooks):
            found.append(Uncovered("drtest", template.name, f"/drtests/templates/{template.id}"))
    for vendor in list_vendors(tier="critical"):
        if not any(covers(r, vendors=[vendor.name]) for r in runbooks):
            found.append(Uncovered("vendor", vendor.name, f"/vendors/{vendor.id}"))
    return found


def _broken_links(entries: list[CatalogEntry]) -> list[BrokenLink]:
    folder = files.root()
    _listed, toc_broken = _table_of_contents(folder)
    found = [BrokenLink(files.TOC_NAME, item["target"], item["line"]) for item in toc_broken]
    for entry in entries:
        for item in broken_links_of(folder, entry.runbook):
            found.append(BrokenLink(entry.runbook.path, item["href"], item["line"], entry.slug))
    return found


def build_report(quarter: FiscalQuarter | None = None) -> Report:
    """The report as the folder and the database are now (reads only)."""
    quarter = quarter or quarter_for(utcnow().date())
    entries = catalog_entries()
    report = Report(quarter=quarter, entries=entries)
    report.unlisted = [entry for entry in entries if "unlisted" in entry.flags]
    report.undocumented = _undocumented(quarter)
    report.error_rate = sorted((entry for entry in entries if entry.stats.runs),
                               key=lambda entry: (-(entry.stats.rate or 0), -entry.stats.runs, entry.runbook.title))
    report.broken_links = _broken_links(entries)
    report.review_overdue = [entry for entry in entries if "review_overdue" in entry.flags]
    report.invalid = [entry for entry in entries if "invalid" in entry.flags]
    report.orphaned = [entry for entry in entries if "orphaned" in entry.flags]
    titles: dict[str, list[CatalogEntry]] = {}
    for entry in entries:
        if "duplicate_title" in entry.flags:
            titles.setdefault(entry.runbook.title.strip().lower(), []).append(entry)
    report.duplicate_titles = [(group[0].runbook.title, group) for _key, group in sorted(titles.items())]
    return report


def record_snapshot(report: Report) -> RunbookReportSnapshot:
    """Keep the report's counts as its quarter's row (updated while the quarter lasts); commits."""
    quarter = report.quarter
    query = select(RunbookReportSnapshot).where(RunbookReportSnapshot.fiscal_year == quarter.fiscal_year,
                                                RunbookReportSnapshot.quarter == quarter.quarter)
    snapshot = db.session.scalar(query)
    if snapshot is None:
        snapshot = RunbookReportSnapshot(fiscal_year=quarter.fiscal_year, quarter=quarter.quarter)
        db.session.add(snapshot)
    snapshot.counts, snapshot.taken_at = report.counts(), utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # another scheduler wrote this quarter's row first: update that one
        db.session.rollback()
        snapshot = db.session.scalar(query)
        snapshot.counts, snapshot.taken_at = report.counts(), utcnow()
        db.session.commit()
    return snapshot


def trend(limit: int = 8) -> list[tuple[FiscalQuarter, dict[str, int]]]:
    """The kept counts of the latest quarters, oldest first."""
    start_month = quarter_for(utcnow().date()).start_month
    rows = db.session.scalars(select(RunbookReportSnapshot).order_by(RunbookReportSnapshot.fiscal_year.desc(),
                                                                     RunbookReportSnapshot.quarter.desc()).limit(limit))
    return [(fiscal_quarter(row.fiscal_year, row.quarter, start_month), row.counts) for row in reversed(list(rows))]
