"""Demo watch list: the batch jobs of a quarter close with three weeks of generated runs.

Two jobs are slow (the data warehouse refresh creeps past its maximum; revenue recognition is close to it)
and one is failing (tax calculation: its last runs failed, so it is down and has paged). Runs are bulk-inserted
(about 1,500 rows) so the demo loads in a moment; everything is relative to now, so the demo looks live.
"""
from __future__ import annotations

import random
import secrets
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import func, insert, select

from app.auth.services import find_user_by_email
from app.extensions import db
from app.oncall.models import EscalationPolicy
from app.timeutil import utcnow
from app.watchlist.models import Job, JobEvent, JobRun, JobState, MaintenanceWindow, WatchedApp
from app.watchlist.paging import page_job
from app.watchlist.schedules import ScheduleSpec, next_due, next_cron_slot

HISTORY_DAYS = 21
LA, LONDON, MANILA = "America/Los_Angeles", "Europe/London", "Asia/Manila"
DEMO_APPS = [
    # name, criticality, RTO, RPO (minutes), owner, runbook
    ("ERP", "critical", 240, 60, "crisis@acme.example", "/runbooks/erp-failover-failback"),
    ("Order management", "critical", 120, 15, "oncall@acme.example", "/runbooks/payment-gateway-outage"),
    ("Billing", "critical", 240, 60, "crisis@acme.example", "/runbooks/billing-batch-restart"),
    ("Finance data", "high", 480, 240, "admin@acme.example", "/runbooks/tax-engine-outage"),
    ("CRM", "high", 480, 60, "oncall@acme.example", ""),
    ("Treasury", "high", 480, 1440, "admin@acme.example", ""),
]
# app, job, schedule (minutes or cron), zone, typical minutes, max minutes, profile
DEMO_JOBS = [
    ("ERP", "GL posting", "0 */4 * * *", LA, 12, 45, "steady"),
    ("ERP", "Revenue recognition", "30 1 * * *", LA, 52, 60, "slowish"),
    ("ERP", "Period close sweep", "0 5 * * 1-5", LA, 20, 60, "steady"),
    ("ERP", "Intercompany eliminations", "0 3 * * *", LA, 18, 60, "steady"),
    ("Order management", "Order import", 60, "UTC", 4, 20, "steady"),
    ("Order management", "Bookings load", "0 */2 * * *", LA, 9, 30, "steady"),
    ("Order management", "Shipment confirmation", "45 */6 * * *", LA, 6, 30, "steady"),
    ("Billing", "Billing run", "0 2 * * *", LONDON, 75, 150, "steady"),
    ("Billing", "Invoice email dispatch", "30 6 * * *", LONDON, 15, 60, "steady"),
    ("Billing", "Payment reconciliation", "0 7 * * 1-5", LONDON, 25, 60, "steady"),
    ("Finance data", "FX rates load", "0 6 * * 1-5", LONDON, 2, 15, "steady"),
    ("Finance data", "Tax calculation", "0 4 * * *", LA, 30, 90, "failing"),
    ("Finance data", "Data warehouse refresh", "0 1 * * *", "UTC", 95, 120, "slow"),
    ("Finance data", "Revenue dashboard extract", "0 8 * * *", MANILA, 8, 30, "steady"),
    ("CRM", "Opportunity sync", 120, "UTC", 7, 30, "steady"),
    ("CRM", "Quote-to-cash reconciliation", "0 23 * * 1-5", LA, 35, 90, "steady"),
    ("CRM", "Commission calculation", "0 3 * * 6", LA, 40, 120, "steady"),
    ("Treasury", "Bank statement import", "0 7 * * 1-5", LONDON, 5, 30, "steady"),
    ("Treasury", "Cash positioning", "30 9 * * 1-5", MANILA, 10, 30, "steady"),
    ("Treasury", "Intraday liquidity report", "0 */3 * * 1-5", LONDON, 3, 20, "steady"),
]
FAILURE_LOG = ("2026 tax engine client v4.2\nbatch 1182: requesting rates for 3,412 invoices\n"
               "ERROR: tax engine answered HTTP 503 Service Unavailable (retry 3 of 3)\nexit 2\n")


def _spec(schedule, zone: str) -> ScheduleSpec:
    if isinstance(schedule, int):
        return ScheduleSpec(kind="interval", interval=timedelta(minutes=schedule), zone=zone)
    return ScheduleSpec(kind="cron", cron=schedule, zone=zone)


def _slots(spec: ScheduleSpec, start: datetime, end: datetime) -> list[datetime]:
    slots, at = [], start
    while True:
        at = at + spec.interval if spec.kind == "interval" else next_cron_slot(spec.cron, spec.zone, at)
        if at >= end:
            return slots
        slots.append(at)


def _duration(profile: str, typical: int, maximum: int, progress: float, rng: random.Random) -> float:
    """Minutes a run took; `progress` goes from 0 (three weeks ago) to 1 (now)."""
    if profile == "slow":  # creeps up by a third over the three weeks, the last runs past the maximum
        return typical * (0.9 + 0.45 * progress) * rng.uniform(0.95, 1.08)
    if profile == "slowish":
        return min(typical * rng.uniform(0.85, 1.12), maximum * 1.05)
    return typical * rng.uniform(0.7, 1.3)


def _history(job: Job, spec: ScheduleSpec, typical: int, maximum: int, profile: str,
             now: datetime) -> list[dict]:
    """The job's generated runs, oldest first; the last may still be running."""
    rng = random.Random(f"{job.app.name}/{job.name}")
    start = now - timedelta(days=HISTORY_DAYS)
    # The failing job's last three runs have all failed by now, whatever the time of day the demo is loaded:
    # its history stops before a run could still be going.
    end = now - timedelta(minutes=maximum + 5) if profile == "failing" else now
    slots = _slots(spec, start, end)
    runs = []
    for index, slot in enumerate(slots):
        begun = slot + timedelta(seconds=rng.uniform(5, 90))
        took = timedelta(minutes=_duration(profile, typical, maximum, index / max(len(slots) - 1, 1), rng))
        failing = profile == "failing" and index >= len(slots) - 3
        run = {"job_id": job.id, "rid": str(uuid.UUID(int=rng.getrandbits(128))), "started_at": begun,
               "late": False, "too_slow": False, "too_fast": False, "exit_code": None, "log": "",
               "ended_at": None, "duration_seconds": None, "outcome": "running"}
        if begun + took > now:
            if begun + timedelta(minutes=maximum) > now + timedelta(minutes=5):
                runs.append(run)  # still running now, well within its maximum
                break
            took = now - timedelta(minutes=1) - begun  # would already be too slow: let it have just finished
        failed = failing or rng.random() < 0.01
        run.update(ended_at=begun + took, duration_seconds=took.total_seconds(), exit_code=2 if failed else 0,
                   outcome="failed" if failed else "success", too_slow=took > timedelta(minutes=maximum),
                   log=FAILURE_LOG if failing else "")
        runs.append(run)
    return runs


def _settle(job: Job, runs: list[dict], spec: ScheduleSpec, profile: str, now: datetime) -> None:
    """Leave the job in the state its last generated run implies."""
    last = runs[-1] if runs else None
    job.last_ping_at = (last["ended_at"] or last["started_at"]) if last else None
    if last is None:
        return
    if last["outcome"] == "running":
        job.state, job.state_changed_at = JobState.RUNNING.value, last["started_at"]
        job.due_at = next_due(spec, last["started_at"])
        job.next_deadline = last["started_at"] + timedelta(seconds=job.max_duration_seconds)
        return
    failures = 0
    for run in reversed(runs):
        if run["outcome"] != "failed":
            break
        failures += 1
    job.consecutive_failures = failures
    if profile == "failing":
        job.state, job.state_changed_at = JobState.DOWN.value, last["ended_at"]
        job.down_since, job.down_reason, job.next_deadline = last["ended_at"], "failed", last["ended_at"]
        return
    job.state, job.state_changed_at = JobState.UP.value, last["ended_at"]
    job.due_at = job.next_deadline = next_due(spec, last["ended_at"], timedelta(seconds=60))


def _events(job: Job, runs: list[dict], profile: str) -> list[dict]:
    """State changes worth seeing on the timeline: the slow job's too-slow outages and the failing job's outage."""
    events = []
    for run in runs:
        if run["too_slow"] and profile == "slow":
            slow_at = run["started_at"] + timedelta(seconds=job.max_duration_seconds)
            events += [{"job_id": job.id, "at": slow_at, "recorded_at": slow_at, "kind": "state",
                        "from_state": "running", "to_state": "down", "text": "running → down: the run passed its "
                        "maximum duration", "detail": ""},
                       {"job_id": job.id, "at": run["ended_at"], "recorded_at": run["ended_at"], "kind": "state",
                        "from_state": "down", "to_state": "up", "text": "down → up: a run succeeded", "detail": ""}]
    if profile == "failing" and runs:
        at = runs[-1]["ended_at"]
        events.append({"job_id": job.id, "at": at, "recorded_at": at, "kind": "state", "from_state": "up",
                       "to_state": "down", "text": "up → down: 3 failure(s) in a row, exit code 2", "detail": ""})
    return events


def seed_demo_watchlist() -> int:
    """Create the demo apps and jobs with their history unless the demo's first app exists; returns jobs made."""
    if db.session.scalar(select(WatchedApp.id).where(WatchedApp.name == DEMO_APPS[0][0])) is not None:
        return 0
    now = utcnow()
    policy = db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == "Critical jobs"))
    apps = {}
    for name, criticality, rto, rpo, owner_email, runbook in DEMO_APPS:
        owner = find_user_by_email(owner_email)
        apps[name] = WatchedApp(name=name, criticality=criticality, rto_minutes=rto, rpo_minutes=rpo,
                                owner_id=owner.id if owner else None, runbook_url=runbook,
                                description=f"{name} batch jobs watched through the quarter close.")
        db.session.add(apps[name])
    db.session.flush()
    made = []
    for app_name, name, schedule, zone, typical, maximum, profile in DEMO_JOBS:
        app = apps[app_name]
        job = Job(app_id=app.id, name=name, owner_id=app.owner_id, criticality=app.criticality,
                  escalation_policy_id=policy.id if policy else None, time_zone=zone,
                  schedule_kind="interval" if isinstance(schedule, int) else "cron",
                  interval_seconds=schedule * 60 if isinstance(schedule, int) else None,
                  cron_expr=None if isinstance(schedule, int) else schedule, grace_seconds=15 * 60,
                  max_duration_seconds=maximum * 60, min_duration_seconds=60 if name == "FX rates load" else None,
                  failures_before_paging=2 if profile == "failing" else 1, ping_key=str(uuid.uuid4()),
                  badge_key=secrets.token_urlsafe(16), state=JobState.NEW.value,
                  created_at=now - timedelta(days=HISTORY_DAYS + 1))
        db.session.add(job)
        made.append((job, schedule, typical, maximum, profile))
    db.session.flush()
    all_runs, all_events = [], []
    for job, schedule, typical, maximum, profile in made:
        spec = _spec(schedule, job.time_zone)
        runs = _history(job, spec, typical, maximum, profile, now)
        _settle(job, runs, spec, profile, now)
        all_runs += runs
        all_events += _events(job, runs, profile)
        if job.name == "Billing run":
            db.session.add(MaintenanceWindow(job_id=job.id, kind="weekly", weekday=6, start_time=time(1),
                                             end_time=time(3), time_zone=LONDON, note="ERP patching"))
    db.session.execute(insert(JobRun), all_runs)
    db.session.execute(insert(JobEvent), all_events)
    db.session.flush()
    # Each job's newest run in one query, not one per job.
    last_runs = {job_id: run_id for job_id, run_id in db.session.execute(
        select(JobRun.job_id, func.max(JobRun.id)).where(JobRun.job_id.in_([job.id for job, *_rest in made]))
        .group_by(JobRun.job_id))}
    for job, *_rest in made:
        job.last_run_id = last_runs.get(job.id)
        if job.state == JobState.DOWN:
            page_job(job, now)  # the failing job has paged: its alert is in the demo too
    db.session.commit()
    return len(made)
