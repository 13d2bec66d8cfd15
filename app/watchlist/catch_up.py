"""Catch-up paging: after the detector was not running, the jobs found down page as one alert per escalation policy.

Thousands of jobs can be down at once after an outage of the scheduler: they are claimed by one statement, each
group is read as plain rows and paged once, and its jobs and their timeline lines are written by one statement each,
so the number of statements does not grow with the number of jobs (no ORM object or parameter set per job).
"""
from __future__ import annotations

from datetime import datetime
from itertools import groupby

from sqlalchemy import String, cast, func, insert, literal, or_, select, update

from app.alerting.services import raise_alert
from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.models import CRITICALITIES, Job, JobEvent, JobState, WatchedApp
from app.watchlist.paging import DETAILS_ROOM, REASONS, job_url

POLICY_SUFFIX = ":policy-"


def group_key(base: str, policy_id: int | None) -> str:
    """The dedup key of a catch-up group: the pass's key, and the policy when the jobs have one."""
    return base if policy_id is None else f"{base}{POLICY_SUFFIX}{policy_id}"


def claim_all(base: str, cutoff: datetime) -> set[int]:
    """Compare-and-set every unpaged job down since before `cutoff` onto this pass's group keys; the ids won.

    One UPDATE whose condition is the claim itself (down, no alert key): a job a ping brought back or another pass
    claimed first is not touched. On PostgreSQL the jobs are chosen FOR UPDATE SKIP LOCKED, so a second scheduler
    neither waits on nor takes the jobs this one holds.
    """
    unclaimed = (Job.state == JobState.DOWN.value, Job.alert_key.is_(None))
    chosen = select(Job.id).where(Job.next_deadline < cutoff, *unclaimed).with_for_update(skip_locked=True)
    policy_suffix = literal(POLICY_SUFFIX) + cast(Job.escalation_policy_id, String)
    claim = update(Job).where(Job.id.in_(chosen), *unclaimed) \
        .values(alert_key=literal(base) + func.coalesce(policy_suffix, "")).returning(Job.id) \
        .execution_options(synchronize_session=False)
    return set(db.session.scalars(claim))


def page_groups(claimed_ids: list[int], now: datetime, base: str) -> dict[str, int]:
    """Raise one alert per group key the claimed jobs hold; returns how many jobs each alert carries."""
    if not claimed_ids:
        return {}
    rows = db.session.execute(
        select(Job.id, Job.name, Job.criticality, Job.down_since, Job.down_reason, Job.escalation_policy_id,
               Job.alert_key, WatchedApp.name.label("app_name")).join(WatchedApp, WatchedApp.id == Job.app_id)
        # This pass's claims: a group paged earlier in the same minute no longer waits for a deadline.
        .where(or_(Job.alert_key == base, Job.alert_key.startswith(base + POLICY_SUFFIX)),
               Job.next_deadline.is_not(None))
        .order_by(Job.alert_key, Job.id)).all()
    counts = {}
    for key, group in groupby(rows, key=lambda row: row.alert_key):
        group = list(group)
        alert = _raise_group_alert(group, key)
        _mark_paged(key, now, f"Paged in the grouped catch-up alert #{alert.id} ({len(group)} jobs).")
        counts[key] = len(group)
    return counts


def _mark_paged(key: str, now: datetime, line: str) -> None:
    """The group's jobs (this pass's: their deadline is still set) get their line, then wait for no deadline."""
    this_pass = (Job.alert_key == key, Job.next_deadline.is_not(None))
    columns = ("job_id", "at", "recorded_at", "kind", "text", "detail")
    lines = select(Job.id, literal(now, UTCDateTime()), literal(utcnow(), UTCDateTime()), literal("paged"),
                   literal(line), literal("")).where(*this_pass)
    db.session.execute(insert(JobEvent).from_select(columns, lines))
    db.session.execute(update(Job).where(*this_pass).values(next_deadline=None)
                       .execution_options(synchronize_session=False))


def _raise_group_alert(rows: list, key: str):
    worst = min((row.criticality for row in rows), key=CRITICALITIES.index)
    listing, used = [], 0
    for row in sorted(rows, key=lambda r: (CRITICALITIES.index(r.criticality), r.down_since, r.id)):
        line = f"- {row.app_name} / {row.name}: {REASONS.get(row.down_reason or '', 'down')} at " \
               f"{row.down_since:%H:%M} UTC ({job_url(row)})"
        if used + len(line) > DETAILS_ROOM:
            listing.append(f"... and {len(rows) - len(listing)} more (see the watch list).")
            break
        listing.append(line)
        used += len(line) + 1
    earliest = min(row.down_since for row in rows)
    details = (f"The watch list's detector was not running from about {earliest:%Y-%m-%d %H:%M} UTC; when it "
               f"caught up, {len(rows)} jobs were down. One alert instead of one per job:\n" + "\n".join(listing))
    alert, _created = raise_alert(summary=f"{len(rows)} watched jobs went down while detection was not running",
                                  details=details, source="job", severity=worst, dedup_key=key,
                                  escalation_policy_id=rows[0].escalation_policy_id)
    return alert
