"""Catch-up paging: after the detector was not running, the jobs found down page as one alert per escalation policy.

Thousands of jobs can be down at once after an outage of the scheduler: they are claimed by one statement, each
group is read as plain rows and paged once, and its jobs and their timeline lines are written by one statement each,
so the number of statements does not grow with the number of jobs (no ORM object or parameter set per job).
Each job row is written once: the statement that moves the overdue jobs down (overdue.py) also claims them with these
keys, clears their deadline and returns what the alert lists; claim_all does the same for jobs already down.
"""
from __future__ import annotations

import json
from datetime import datetime
from itertools import groupby

from sqlalchemy import String, bindparam, cast, func, literal, select, text, update

from app.alerting.services import raise_alert
from app.database import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.models import CRITICALITIES, Job, JobState, WatchedApp
from app.watchlist.paging import DETAILS_ROOM, REASONS, job_url

POLICY_SUFFIX = ":policy-"


def claim_all(base: str, cutoff: datetime) -> list:
    """Compare-and-set every unpaged job down since before `cutoff` onto this pass's group keys; the rows won.

    A group's key (the alert's dedup key) is the pass's key, and the policy when the jobs have one. One UPDATE
    whose condition is the claim itself (down, no alert key): a job a ping brought back or another pass
    claimed first is not touched. On PostgreSQL the jobs are chosen FOR UPDATE SKIP LOCKED, so a second scheduler
    neither waits on nor takes the jobs this one holds. The same statement clears their deadline (a grouped job
    waits for none) and returns what the alert lists, so each job is written once and read by no other query.
    """
    unclaimed = (Job.state == JobState.DOWN.value, Job.alert_key.is_(None))
    chosen = select(Job.id).where(Job.next_deadline < cutoff, *unclaimed).with_for_update(skip_locked=True)
    policy_suffix = literal(POLICY_SUFFIX) + cast(Job.escalation_policy_id, String)
    claim = update(Job).where(Job.id.in_(chosen), *unclaimed) \
        .values(alert_key=literal(base) + func.coalesce(policy_suffix, ""), next_deadline=None) \
        .returning(Job.id, Job.app_id, Job.name, Job.criticality, Job.down_since, Job.down_reason,
                   Job.escalation_policy_id, Job.alert_key) \
        .execution_options(synchronize_session=False)
    return db.session.execute(claim).all()


def page_groups(rows: list, now: datetime) -> tuple[int, int]:
    """Raise one alert per group key the claimed `rows` hold; (jobs paged, alerts opened).

    A job that joins a group's alert already open (a run found too slow after the catch-up that opened it) adds to
    that alert: it is paged, but no alert is opened for it."""
    if not rows:
        return 0, 0
    app_names = dict(db.session.execute(
        select(WatchedApp.id, WatchedApp.name).where(WatchedApp.id.in_({row.app_id for row in rows}))).all())
    opened = 0
    for key, group in groupby(sorted(rows, key=lambda row: (row.alert_key, row.id)), key=lambda row: row.alert_key):
        group = list(group)
        alert, created = _raise_group_alert(group, key, app_names)
        _record_paged([row.id for row in group], now,
                      f"Paged in the grouped catch-up alert #{alert.id} ({len(group)} jobs).")
        opened += created
    return len(rows), opened


_PAGED_LINES = {
    # The group's ids travel as ONE parameter, a JSON list, not one parameter set per job (nor an array: psycopg
    # writes an array literal element by element in Python; json.dumps is done in C).
    "postgresql": "SELECT CAST(id AS integer), :at, :recorded, 'paged', :text, '' "
                  "FROM jsonb_array_elements_text(CAST(:ids AS jsonb)) AS id",
    "sqlite": "SELECT value, :at, :recorded, 'paged', :text, '' FROM json_each(:ids)",
}


def _record_paged(ids: list[int], now: datetime, line: str) -> None:
    dialect = db.session.get_bind().dialect.name
    statement = text("INSERT INTO watch_job_events (job_id, at, recorded_at, kind, text, detail) "
                     + _PAGED_LINES[dialect]).bindparams(bindparam("at", type_=UTCDateTime()),
                                                         bindparam("recorded", type_=UTCDateTime()))
    db.session.execute(statement, {"ids": json.dumps(ids), "at": now,
                                   "recorded": utcnow(), "text": line[:500]})


def _raise_group_alert(rows: list, key: str, app_names: dict[int, str]):
    worst = min((row.criticality for row in rows), key=CRITICALITIES.index)
    listing, used = [], 0
    for row in sorted(rows, key=lambda r: (CRITICALITIES.index(r.criticality), r.down_since, r.id)):
        line = f"- {app_names[row.app_id]} / {row.name}: {REASONS.get(row.down_reason or '', 'down')} at " \
               f"{row.down_since:%H:%M} UTC ({job_url(row)})"
        if used + len(line) > DETAILS_ROOM:
            listing.append(f"... and {len(rows) - len(listing)} more (see the watch list).")
            break
        listing.append(line)
        used += len(line) + 1
    earliest = min(row.down_since for row in rows)
    details = (f"The watch list's detector was not running from about {earliest:%Y-%m-%d %H:%M} UTC; when it "
               f"caught up, {len(rows)} jobs were down. One alert instead of one per job:\n" + "\n".join(listing))
    return raise_alert(summary=f"{len(rows)} watched jobs went down while detection was not running",
                       details=details, source="job", severity=worst, dedup_key=key,
                       escalation_policy_id=rows[0].escalation_policy_id)
