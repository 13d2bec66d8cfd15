"""The public endpoints jobs and wikis call without signing in: the ping URLs and the status badges.

The ping protocol is Healthchecks', so existing cron wrappers work unchanged. Every ping first passes
`ping_gateway` (a WSGI layer installed by create_app), which throttles it per ping URL (PING_RATE_LIMIT) and
answers the common case itself; this view gets the rest and owns every rule and error answer.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from app.access import public
from app.errors import Invalid
from app.extensions import csrf, db
from app.metrics import JOB_PINGS
from app.watchlist import pings
from app.watchlist.models import LOG_MAX, Job

bp = Blueprint("pings", __name__)

BADGE_COLOURS = {"up": "#2e7d32", "running": "#1565c0", "new": "#757575", "paused": "#757575", "late": "#ef6c00",
                 "down": "#c62828"}


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain", headers={"Cache-Control": "no-store"})


@bp.route("/ping/<ping_key>", methods=["GET", "POST"])
@bp.route("/ping/<ping_key>/<signal>", methods=["GET", "POST"])
@public
@csrf.exempt
def ping(ping_key: str, signal: str | None = None):
    try:
        kind, exit_code = pings.parse_signal(signal)
        rid = pings.parse_rid(request.args.get("rid"))
    except Invalid as error:
        return _text(error.message + "\n", 400)
    body = request.stream.read(LOG_MAX) if request.method == "POST" else b""
    if not pings.record_ping(ping_key=ping_key, kind=kind, exit_code=exit_code, rid=rid, body=body):
        return _text("not found\n", 404)
    JOB_PINGS.labels(kind).inc()
    return _text("OK")


@bp.route("/badge/<badge_key>.svg")
@public
def badge(badge_key: str):
    job = db.session.scalar(select(Job).where(Job.badge_key == badge_key)) if len(badge_key) <= 32 else None
    if job is None:
        abort(404)
    label, status = job.name, job.state
    svg = render_template("watchlist/badge.svg", label=label, status=status, colour=BADGE_COLOURS[status],
                          label_width=12 + 7 * len(label), status_width=12 + 7 * len(status))
    # Short caching: wiki pages re-read it often, and a state change should show within a minute.
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=60"})
