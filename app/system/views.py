"""The home page and the health check."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory
from flask_login import current_user

from app.access import allow, can, public
from app.alerting.actions import ACTORS as ALERT_ACTORS
from app.alerting.health import paging_health
from app.alerting.services import open_alerts_paging
from app.auth.roles import EVERYONE
from app.calendar import services as calendar
from app.incidents.services import open_incidents_for
from app.incidents.tasks import open_tasks_for
from app.oncall.feeds import shifts_for
from app.system.services import check_health
from app.timeutil import today_in, utcnow

bp = Blueprint("home", __name__)


@bp.route("/")
@allow(EVERYONE)
def index():
    now = utcnow()
    quarter = calendar.close_region().quarter_at(now)
    # The responder's first questions: am I on call, when next, what is paging me, which incidents are mine.
    shifts = shifts_for(current_user, now - timedelta(days=1), now + timedelta(days=14))
    return render_template("home/index.html", quarter=quarter, today=today_in(current_user.time_zone),
                           own_close=calendar.own_close(current_user, quarter, now),
                           closes=calendar.quarter_overview(quarter, now), tasks=open_tasks_for(current_user),
                           now=now, on_call_now=[shift for shift in shifts if shift[1] <= now < shift[2]],
                           next_shifts=[shift for shift in shifts if shift[1] > now][:3],
                           my_alerts=open_alerts_paging(current_user.id),
                           my_incidents=open_incidents_for(current_user), can_act=can(ALERT_ACTORS))


@bp.route("/favicon.ico")
@public
def favicon():
    """Browsers ask for /favicon.ico at the root whatever the page says; a tab with an icon is easier to find."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)


@bp.route("/healthz")
@public
def healthz():
    health = check_health()
    body = {
        "status": "ok" if health.healthy else "unhealthy",
        "database": {"ok": health.database_ok, "error": health.database_error},
        "scheduler": {
            "ok": health.scheduler_ok,
            "last_heartbeat_age_seconds": None if health.scheduler_age_seconds is None
            else round(health.scheduler_age_seconds, 1),
            "max_age_seconds": health.scheduler_max_age_seconds,
        },
    }
    paging = paging_health() if health.database_ok else None
    body["paging"] = {"ok": bool(paging and paging.ok), "problems": paging.problems if paging else [],
                      "last_tick_age_seconds": None if paging is None or paging.engine_age_seconds is None
                      else round(paging.engine_age_seconds, 1),
                      "unpaged_alerts": paging.unpaged_alerts if paging else [],
                      "unanswered_alerts": paging.unanswered_alerts if paging else [],
                      "oldest_due_message_seconds": None if paging is None or paging.oldest_due_seconds is None
                      else round(paging.oldest_due_seconds, 1),
                      "stuck_sending_messages": paging.stuck_sending if paging else 0}
    healthy = health.healthy and paging is not None and paging.ok
    if not healthy:
        body["status"] = "unhealthy"
    return jsonify(body), 200 if healthy else 503
