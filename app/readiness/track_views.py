"""One readiness track in plain words, for the executive who tapped it: what it measures, where it stands and every
reason it lost points, before any of the crisis team's working pages."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from app.access import allow
from app.auth.roles import EVERYONE
from app.calendar.services import fiscal_start_month
from app.readiness import checklist
from app.readiness.models import TRACK_LABELS
from app.readiness.score import AMBER_AT, GREEN_AT, weights
from app.readiness.snapshots import readiness_of
from app.readiness.tracks.checklist import quarter_code

bp = Blueprint("readiness_tracks", __name__)

# What each track asks, in the words an executive would use.
TRACK_QUESTIONS = {
    "risks": "Are the risks that threaten the close owned, scored, reviewed and being mitigated on time?",
    "jobs": "Are the batch jobs the close depends on running on time and succeeding?",
    "vendors": "Are the critical vendors' escalation contacts confirmed for this quarter?",
    "drtest": "Has this quarter's disaster-recovery test been run and did it meet its recovery targets?",
    "people": "Can the on-call people be reached, with confirmed contact details?",
    "checklist": "Is the pre-close checklist being done by its due dates?",
    "lessons": "Are last quarter's lessons learned being carried out?",
    "runbooks": "Are the procedures people follow in a crisis written down, reviewed and working?",
    "incidents": "Are incidents being handled and their follow-ups finished?",
}


@bp.route("/readiness/tracks/<track>")
@allow(EVERYONE)
def track(track: str):
    if track not in TRACK_LABELS:
        abort(404)
    readiness = readiness_of(checklist.parse_quarter(request.args.get("quarter"), fiscal_start_month()))
    result = next((item for item in readiness.tracks if item.track == track), None)
    if result is None:
        abort(404)
    return render_template("readiness/track.html", r=readiness, t=result, label=TRACK_LABELS[track],
                           question=TRACK_QUESTIONS.get(track, ""), weight=weights().get(track, 0),
                           total_weight=sum(weights().values()), code=quarter_code(readiness.quarter),
                           green_at=GREEN_AT, amber_at=AMBER_AT)
