"""The demo company's jobs keep pinging while `flask demo` runs (DEMO_SIMULATED_PINGS), so an hour after start
the demo still shows a realistic close: every job reports when its run is due, and the tax calculation keeps
failing on purpose, as in the seeded history. Only the demo's own jobs are touched, never one someone added."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.timeutil import utcnow
from app.watchlist.demo import DEMO_JOBS, FAILURE_LOG
from app.watchlist.models import Job, WatchedApp
from app.watchlist.pings import FAIL, START, SUCCESS, record_ping
from app.watchlist.services import next_expected

DEMO_NAMES = {(app_name, job_name): profile for app_name, job_name, *_rest, profile in DEMO_JOBS}


def simulate_demo_pings() -> dict[str, int]:
    """Ping every demo job whose run is due now: a start and a success, or a failure for the failing one."""
    now = utcnow()
    counts = {"succeeded": 0, "failed": 0}
    due = db.session.execute(select(Job.ping_key, WatchedApp.name, Job.name, Job.id).join(WatchedApp)
                             .where(Job.paused.is_(False))).all()
    for ping_key, app_name, job_name, job_id in due:
        profile = DEMO_NAMES.get((app_name, job_name))
        job = db.session.get(Job, job_id)
        if profile is None:
            continue
        expected = next_expected(job, now)
        # Due now, or already late or down (say the demo was stopped for a while): a healthy demo job runs again.
        stalled = job.state in ("late", "down") and profile != "failing"
        if not stalled and (expected is None or expected > now):
            continue
        record_ping(ping_key=ping_key, kind=START)
        if profile == "failing":
            record_ping(ping_key=ping_key, kind=FAIL, exit_code=2, body=FAILURE_LOG.encode())
            counts["failed"] += 1
        else:
            record_ping(ping_key=ping_key, kind=SUCCESS, exit_code=0)
            counts["succeeded"] += 1
    db.session.commit()
    return counts
