"""Apps and jobs of the watch list: create, change, pause, resume, delete. Each call commits once or refuses.

Values arrive as the forms clean them (minutes for durations); refusals name the field at fault.
"""
from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import contains_eager, selectinload

from app.auth.models import User
from app.links import clean_link
from app.database import commit_or_conflict
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.oncall.models import EscalationPolicy
from app.timeutil import is_valid_zone, utcnow
from app.watchlist.models import CRITICALITIES, STATES, Job, JobState, ScheduleKind, WatchedApp
from app.watchlist.paging import resolve_job_alert
from app.watchlist.schedules import ScheduleError, check_cron, upcoming_slots
from app.watchlist.states import rearm, record, set_state, spec_of

NAME_MAX = 80
MAX_MINUTES = 60 * 24 * 366  # a year: longer is not a batch schedule any more
JOB_FIELDS = ("app_id", "name", "description", "owner_id", "criticality", "escalation_policy_id", "schedule_kind",
              "interval_minutes", "cron_expr", "time_zone", "grace_minutes", "max_duration_minutes",
              "min_duration_minutes", "failures_before_paging")


# --- reading ---------------------------------------------------------------------------------------------------

def list_apps() -> list[WatchedApp]:
    return list(db.session.scalars(select(WatchedApp).order_by(WatchedApp.name)))


def get_app(app_id: int) -> WatchedApp:
    found = db.session.get(WatchedApp, app_id)
    if found is None:
        raise NotFound("No such app.")
    return found


def find_job(job_id: int) -> Job | None:
    """The job, or None when it was deleted since (another domain's link may outlive it)."""
    return db.session.get(Job, job_id)


def get_job(job_id: int) -> Job:
    found = db.session.get(Job, job_id)
    if found is None:
        raise NotFound("No such job.")
    return found


# Failing jobs first: down, then late; the rest by app and name.
_TROUBLE_FIRST = case((Job.state == JobState.DOWN.value, 0), (Job.state == JobState.LATE.value, 1), else_=2)
JOB_ORDER = [_TROUBLE_FIRST, WatchedApp.name, Job.name, Job.id]  # the id breaks ties, which keyset pages need


def _jobs_matching(app_id: int | None, owner_id: int | None, states: Sequence[str]) -> Select:
    query = select(Job).join(WatchedApp)
    if app_id is not None:
        query = query.where(Job.app_id == app_id)
    if owner_id is not None:
        query = query.where(Job.owner_id == owner_id)
    if states:
        query = query.where(Job.state.in_(list(states)))
    return query


def list_jobs(*, app_id: int | None = None, owner_id: int | None = None, states: Sequence[str] = (),
              page: int = 1, per_page: int = 50) -> tuple[list[Job], int]:
    """Jobs matching the filters (any of `states`), failing ones first, then by app and name: one page of them and
    how many match (the API's page and per_page)."""
    query = _jobs_matching(app_id, owner_id, states)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    jobs = db.session.scalars(query.order_by(*JOB_ORDER).limit(per_page).offset((page - 1) * per_page)).all()
    return list(jobs), total


def jobs_page(*, app_id: int | None = None, owner_id: int | None = None, states: Sequence[str] = (),
              after: str | None = None, before: str | None = None, per_page: int = 50) -> KeysetPage:
    """The watch list's page of jobs in the same order, after or before a cursor (app/keyset.py), with their apps
    and owners loaded: the same few statements on every page whatever the number of jobs."""
    query = _jobs_matching(app_id, owner_id, states).options(contains_eager(Job.app), selectinload(Job.owner))
    return keyset_page(query, JOB_ORDER, after=after, before=before, per_page=per_page)


def job_owners() -> list[User]:
    """The people who own at least one job, by name (for the watch list's filter)."""
    return list(db.session.scalars(select(User).where(User.id.in_(select(Job.owner_id))).order_by(User.name)))


def next_expected(job: Job, now: datetime) -> datetime | None:
    """When the job's next run is expected: its watched slot, or for a cron job not yet watched, its next slot."""
    if job.paused:
        return None
    if job.due_at is not None:
        return job.due_at
    if job.schedule_kind == ScheduleKind.CRON and job.state == JobState.NEW:
        slots = upcoming_slots(spec_of(job), now, 1)
        return slots[0] if slots else None
    return None


def find_app_by_name(name: str) -> WatchedApp | None:
    return db.session.scalar(select(WatchedApp).where(WatchedApp.name == name.strip()))


# --- checks ----------------------------------------------------------------------------------------------------

def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"Give the {what} a name.", "name")
    value = " ".join(value.split())
    if len(value) > NAME_MAX:
        raise Invalid(f"Use at most {NAME_MAX} characters.", "name")
    return value


def _criticality(value: Any) -> str:
    if value not in CRITICALITIES:
        raise Invalid(f"Use one of: {', '.join(CRITICALITIES)}.", "criticality")
    return value


def _minutes(value: Any, field: str, *, low: int = 0, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise Invalid("Give a number of minutes.", field)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_MINUTES:
        raise Invalid(f"Use a whole number of minutes from {low} to {MAX_MINUTES}.", field)
    return value


def _owner(owner_id: Any) -> int | None:
    if owner_id in (None, ""):
        return None
    if isinstance(owner_id, bool) or not isinstance(owner_id, int) or db.session.get(User, owner_id) is None:
        raise Invalid("There is no such person.", "owner_id")
    return owner_id


def _policy(policy_id: Any) -> int | None:
    if policy_id in (None, ""):
        return None
    if isinstance(policy_id, bool) or not isinstance(policy_id, int) or \
            db.session.get(EscalationPolicy, policy_id) is None:
        raise Invalid("There is no such escalation policy.", "escalation_policy_id")
    return policy_id


def _url(value: Any) -> str:
    return clean_link(value, "runbook_url", 500)


# --- apps ------------------------------------------------------------------------------------------------------

def save_app(app: WatchedApp | None, *, name: Any, description: Any = "", owner_id: Any = None,
             criticality: Any = "high", rto_minutes: Any = None, rpo_minutes: Any = None,
             runbook_url: Any = "") -> WatchedApp:
    """Create (app=None) or change an app; a taken name is a Conflict and nothing is written."""
    name = _name(name, "app")
    clash = find_app_by_name(name)
    if clash is not None and clash is not app:
        raise Conflict(f"An app named {name} already exists.", "name")
    values = dict(name=name, description=(description or "").strip(), owner_id=_owner(owner_id),
                  criticality=_criticality(criticality), rto_minutes=_minutes(rto_minutes, "rto_minutes",
                                                                                required=False),
                  rpo_minutes=_minutes(rpo_minutes, "rpo_minutes", required=False), runbook_url=_url(runbook_url))
    if app is None:
        app = WatchedApp()
        db.session.add(app)
    for key, value in values.items():
        setattr(app, key, value)
    commit_or_conflict(f"An app named {name} already exists.", "name")
    return app


def delete_app(app: WatchedApp) -> None:
    """Delete an app that has no jobs; refuse (Conflict) while it has some."""
    if app.jobs:
        raise Conflict(f"{app.name} still has {len(app.jobs)} job(s): delete or move them first.", "app")
    db.session.delete(app)
    db.session.commit()


# --- jobs ------------------------------------------------------------------------------------------------------

def clean_job(job: Job | None, values: dict[str, Any]) -> dict[str, Any]:
    """Check a job's fields (as save_job takes them) and return the column values; Invalid names the field."""
    app_id = values.get("app_id")
    if isinstance(app_id, bool) or not isinstance(app_id, int) or db.session.get(WatchedApp, app_id) is None:
        raise Invalid("Choose the app this job belongs to.", "app_id")
    name = _name(values.get("name"), "job")
    clash = db.session.scalar(select(Job).where(Job.app_id == app_id, Job.name == name))
    if clash is not None and clash is not job:
        raise Conflict(f"This app already has a job named {name}.", "name")
    zone = values.get("time_zone") or "UTC"
    if not is_valid_zone(zone):
        raise Invalid("Unknown time zone; use an IANA name such as Europe/London.", "time_zone")
    kind = values.get("schedule_kind")
    interval = cron = None
    if kind == ScheduleKind.INTERVAL:
        interval = _minutes(values.get("interval_minutes"), "interval_minutes", low=1) * 60
    elif kind == ScheduleKind.CRON:
        try:
            cron = check_cron(values.get("cron_expr") or "", zone)
        except ScheduleError as error:
            raise Invalid(str(error), "cron_expr") from None
    else:
        raise Invalid("Choose interval or cron.", "schedule_kind")
    max_minutes = _minutes(values.get("max_duration_minutes", 60), "max_duration_minutes", low=1)
    min_minutes = _minutes(values.get("min_duration_minutes"), "min_duration_minutes", required=False)
    if min_minutes is not None and min_minutes >= max_minutes:
        raise Invalid("The minimum duration must be shorter than the maximum.", "min_duration_minutes")
    failures = values.get("failures_before_paging", 1)
    if isinstance(failures, bool) or not isinstance(failures, int) or not 1 <= failures <= 20:
        raise Invalid("Use a whole number from 1 to 20.", "failures_before_paging")
    return dict(app_id=app_id, name=name, description=(values.get("description") or "").strip(),
                owner_id=_owner(values.get("owner_id")), criticality=_criticality(values.get("criticality", "high")),
                escalation_policy_id=_policy(values.get("escalation_policy_id")), schedule_kind=kind,
                interval_seconds=interval, cron_expr=cron, time_zone=zone,
                grace_seconds=_minutes(values.get("grace_minutes", 15), "grace_minutes") * 60,
                max_duration_seconds=max_minutes * 60,
                min_duration_seconds=None if min_minutes is None else min_minutes * 60,
                failures_before_paging=failures)


WATCHING_FIELDS = ("schedule_kind", "interval_seconds", "cron_expr", "time_zone", "grace_seconds",
                   "max_duration_seconds")


def apply_job(job: Job | None, values: dict[str, Any]) -> Job:
    """Write checked values onto a job (a new one gets its secret keys); re-arms detection when timing changed."""
    columns = clean_job(job, values)
    if job is None:
        job = Job(ping_key=str(uuid.uuid4()), badge_key=secrets.token_urlsafe(16), state=JobState.NEW.value)
        db.session.add(job)
        changed = False
    else:
        changed = any(getattr(job, key) != columns[key] for key in WATCHING_FIELDS)
    for key, value in columns.items():
        setattr(job, key, value)
    db.session.flush()
    if changed:
        rearm(job, utcnow())
    return job


def save_job(job: Job | None, **values: Any) -> Job:
    """Create (job=None) or change a job; a changed schedule or grace is expected afresh from now."""
    unknown = sorted(set(values) - set(JOB_FIELDS))
    if unknown:
        raise Invalid("Unknown field.", unknown[0])
    job = apply_job(job, values)
    commit_or_conflict("This app already has a job with that name.", "name")
    return job


def job_values(job: Job) -> dict[str, Any]:
    """The job's fields in the shape save_job takes, to save them again unchanged (PATCH, CSV)."""
    return dict(app_id=job.app_id, name=job.name, description=job.description, owner_id=job.owner_id,
                criticality=job.criticality, escalation_policy_id=job.escalation_policy_id,
                schedule_kind=job.schedule_kind,
                interval_minutes=job.interval_seconds // 60 if job.interval_seconds else None,
                cron_expr=job.cron_expr, time_zone=job.time_zone, grace_minutes=job.grace_seconds // 60,
                max_duration_minutes=job.max_duration_seconds // 60,
                min_duration_minutes=None if job.min_duration_seconds is None else job.min_duration_seconds // 60,
                failures_before_paging=job.failures_before_paging)


def set_paused(job: Job, paused: bool, who: str) -> None:
    """Pause (no deadline, no page; an open alert is resolved) or resume (a job that has run before is expected
    afresh from now; one that never ran waits for its first ping). Does not commit."""
    if job.paused == paused:
        return
    now = utcnow()
    job.paused = paused
    if paused:
        if job.state == JobState.DOWN:
            resolve_job_alert(job, now, f"was paused by {who}")
            job.down_since = job.down_reason = None
        set_state(job, JobState.PAUSED, now, f"paused by {who}")
        job.next_deadline = job.due_at = None
    elif job.last_run_id is None:
        set_state(job, JobState.NEW, now, f"resumed by {who}; watched from its first ping")
    else:
        set_state(job, JobState.UP, now, f"resumed by {who}")
        rearm(job, now)


def pause_job(job: Job, *, actor: User | None = None) -> Job:
    """Stop watching the job until it is resumed; an open alert about it is resolved."""
    set_paused(job, True, actor.name if actor is not None else "someone")
    db.session.commit()
    return job


def resume_job(job: Job, *, actor: User | None = None) -> Job:
    """Watch the job again, expecting its next run from now."""
    set_paused(job, False, actor.name if actor is not None else "someone")
    db.session.commit()
    return job


def new_ping_key(job: Job) -> Job:
    """Give the job a new secret ping URL; the old one answers 404 from now on."""
    job.ping_key = str(uuid.uuid4())
    record(job, at=utcnow(), kind="flag", text="The ping URL was replaced; the old one no longer works.")
    db.session.commit()
    return job


def delete_job(job: Job) -> None:
    """Delete a job with its runs, timeline and windows; its open alert is resolved first."""
    if job.alert_key is not None:
        resolve_job_alert(job, utcnow(), "was deleted from the watch list")
    db.session.delete(job)
    db.session.commit()


def job_counts_by_state() -> dict[str, int]:
    """How many watched jobs are in each state (every state listed, zero included): for metrics and health."""
    counts = dict(db.session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    return {state: int(counts.get(state, 0)) for state in STATES}


def job_choices(limit: int = 1000) -> list[tuple[int, str]]:
    """(id, "app / job") of every watched job, by app and name: for other domains' pickers."""
    rows = db.session.execute(select(Job.id, WatchedApp.name, Job.name).join(WatchedApp)
                              .order_by(WatchedApp.name, Job.name).limit(limit)).all()
    return [(job_id, f"{app_name} / {job_name}") for job_id, app_name, job_name in rows]


def app_choices(limit: int = 1000) -> list[tuple[int, str]]:
    """(id, name) of every watched app, by name: for other domains' pickers."""
    return [(row.id, row.name) for row in db.session.execute(
        select(WatchedApp.id, WatchedApp.name).order_by(WatchedApp.name).limit(limit))]
