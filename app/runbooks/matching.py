"""Which runbooks apply to a job, an application, an alert, a vendor or a DR test template.

Front matter names what a runbook covers: `systems` (watch-list application names), `jobs` (job slugs, or
`app-slug/job-slug`), `alerts` (dedup-key patterns), `vendors` (vendor names) and `drtests` (DR test template
names). Every name may use `*` for "anything"; matching ignores case. An alert raised for a watched job
(dedup key `job:<id>`) also gets the runbooks of that job.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import select

from app.extensions import db
from app.runbooks.models import Runbook

JOB_KEY = re.compile(r"^job:(\d{1,18})$")


@lru_cache(maxsize=2048)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(part) for part in pattern.strip().split("*")), re.IGNORECASE)


def pattern_matches(pattern: str, value: str | None) -> bool:
    """`billing-*` matches `billing-run`; without `*` the whole value must be equal (ignoring case)."""
    return bool(value) and bool(pattern.strip()) and _compiled(pattern).fullmatch(value.strip()) is not None


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")


def job_slugs(job) -> tuple[str, str]:
    """The names a runbook may use for a watched job: `billing-run` and `billing/billing-run`."""
    return slugify(job.name), f"{slugify(job.app.name)}/{slugify(job.name)}"


def usable_runbooks() -> list[Runbook]:
    """Runbooks whose file is present and whose front matter could be read, by title (retired ones left out)."""
    from app.runbooks.reviews import retired_ids

    rows = db.session.scalars(select(Runbook).where(Runbook.removed_at.is_(None), Runbook.front_matter.is_not(None))
                              .order_by(Runbook.title, Runbook.id)).all()
    retired = retired_ids()
    return [row for row in rows if row.valid and row.id not in retired]


def _any(patterns: Iterable[str], values: Iterable[str | None]) -> bool:
    values = [value for value in values if value]
    return any(pattern_matches(pattern, value) for pattern in patterns for value in values)


def covers(runbook: Runbook, *, jobs=(), app_names: Iterable[str] = (), dedup_keys: Iterable[str] = (),
           vendors: Iterable[str] = (), dr_templates: Iterable[str] = ()) -> bool:
    """Does `runbook` cover any of these (jobs are watch-list Job records)?"""
    jobs, app_names = list(jobs), list(app_names)
    job_names = [slug for job in jobs for slug in job_slugs(job)]
    systems = app_names + [job.app.name for job in jobs]
    return (_any(runbook.names("jobs"), job_names) or _any(runbook.names("systems"), systems)
            or _any(runbook.names("alerts"), dedup_keys) or _any(runbook.names("vendors"), vendors)
            or _any(runbook.names("drtests"), dr_templates))


def jobs_of_dedup_keys(dedup_keys: Iterable[str]) -> list:
    """The watched jobs that alerts with these dedup keys were raised for."""
    from app.errors import NotFound
    from app.watchlist.services import get_job

    found = []
    for key in dedup_keys:
        match = JOB_KEY.match(key or "")
        if match:
            try:
                found.append(get_job(int(match.group(1))))
            except NotFound:
                continue
    return found


def runbooks_for_many(*, jobs=(), app_names: Iterable[str] = (), dedup_keys: Iterable[str] = (),
                      vendors: Iterable[str] = (), dr_templates: Iterable[str] = ()) -> list[Runbook]:
    """Every usable runbook covering any of these, by title: what an incident with these jobs, applications and
    alerts should have open."""
    dedup_keys = [key for key in dedup_keys if key]
    jobs = list(jobs) + jobs_of_dedup_keys(dedup_keys)
    app_names, vendors, dr_templates = list(app_names), list(vendors), list(dr_templates)
    return [runbook for runbook in usable_runbooks()
            if covers(runbook, jobs=jobs, app_names=app_names, dedup_keys=dedup_keys, vendors=vendors,
                      dr_templates=dr_templates)]


def runbooks_for(*, job=None, app_name: str | None = None, dedup_key: str | None = None, vendor: str | None = None,
                 dr_template: str | None = None) -> list[Runbook]:
    """The usable runbooks for one job (a Job), application name, alert dedup key, vendor or DR template name."""
    return runbooks_for_many(jobs=[job] if job is not None else [], app_names=[app_name] if app_name else [],
                             dedup_keys=[dedup_key] if dedup_key else [], vendors=[vendor] if vendor else [],
                             dr_templates=[dr_template] if dr_template else [])
