"""Catch-up paging: after the detector was not running, the jobs found down page as one alert per escalation policy.

Thousands of jobs can be down at once after an outage of the scheduler; each group is read as plain rows, paged
once, and its jobs and their timeline lines are written by one statement each (no ORM object per job).
"""
from __future__ import annotations

from datetime import datetime
from itertools import groupby

from sqlalchemy import or_, select, update

from app.alerting.services import raise_alert
from app.extensions import db
from app.watchlist import bulk
from app.watchlist.models import CRITICALITIES, Job, WatchedApp
from app.watchlist.paging import DETAILS_ROOM, REASONS, job_url

POLICY_SUFFIX = ":policy-"


def group_key(base: str, policy_id: int | None) -> str:
    """The dedup key of a catch-up group: the pass's key, and the policy when the jobs have one."""
    return base if policy_id is None else f"{base}{POLICY_SUFFIX}{policy_id}"


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
        db.session.execute(update(Job).where(Job.alert_key == key).values(next_deadline=None)
                           .execution_options(synchronize_session=False))
        bulk.record_many([{"job_id": row.id, "at": now, "kind": "paged",
                           "text": f"Paged in the grouped catch-up alert #{alert.id} ({len(group)} jobs)."}
                          for row in group])
        counts[key] = len(group)
    return counts


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
