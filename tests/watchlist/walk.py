"""What the route walk (tests/test_access.py) needs to fill the watch list's URL parameters."""
from __future__ import annotations

from datetime import time

from app.watchlist import services, windows


def walk_watchlist_values(owner, policy) -> dict[str, object]:
    """A real app, job (with its secret ping and badge keys) and window, so every GET answers 200."""
    app = services.save_app(None, name="Walk app", owner_id=owner.id)
    job = services.save_job(None, app_id=app.id, name="Walk job", owner_id=owner.id,
                            escalation_policy_id=policy.id, schedule_kind="cron", cron_expr="0 2 * * *",
                            time_zone="Europe/London", grace_minutes=15, max_duration_minutes=60)
    window = windows.add_window(job, kind="weekly", weekday=6, start_time=time(1), end_time=time(3),
                                time_zone="Europe/London")
    return {"app_id": app.id, "job_id": job.id, "window_id": window.id, "ping_key": job.ping_key,
            "signal": "0", "badge_key": job.badge_key}
