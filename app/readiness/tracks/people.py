"""People and contacts track: on-call people who cannot be phoned or have not confirmed, gaps in the close window."""
from __future__ import annotations

from flask import url_for

from app.oncall import coverage
from app.oncall.close_mode import close_window
from app.oncall.services import people_status
from app.readiness.tracks.base import ChaseItem, Context, Finding, TrackResult, not_tracked, scored

TRACK = "people"


def _gap_findings(ctx: Context, schedules) -> Finding:
    start, end = close_window(ctx.quarter)
    start = max(start, ctx.now)  # a gap already behind us cannot be fixed; judge what is left of the window
    gapped = []
    if start < end:
        for schedule in schedules:
            gaps = coverage.schedule_timeline(schedule, start, 1, end=end).gaps
            if gaps:
                gapped.append((f"{schedule.name}: {len(gaps)} gap(s) in the close window, first "
                               f"{gaps[0].start:%d %b %H:%M} UTC", url_for("schedules.schedule",
                                                                           schedule_id=schedule.id)))
    return Finding("schedules with gaps in the close window", len(gapped), 10, 30, gapped,
                   url_for("schedules.schedules"), severe=True)


def assess(ctx: Context) -> TrackResult:
    """Score the people on any on-call schedule; 'not tracked' when there are no schedules with people."""
    schedules = coverage.load_schedules()  # layers, rotations, members and overrides in four SELECTs
    on_call = set().union(*(coverage.people_on(schedule) for schedule in schedules)) if schedules else set()
    if not on_call:
        return not_tracked(TRACK, "Not tracked yet: no on-call schedules with people are recorded.")
    rows = [row for row in people_status() if row.person.id in on_call]

    def link(row) -> str:
        return url_for("oncall.person", user_id=row.person.id)

    no_phone = [row for row in rows if not row.has_verified_phone]
    unconfirmed = [row for row in rows if not row.confirmed]
    findings = [
        Finding("on-call people without a verified phone", len(no_phone), 6, 30,
                [(f"No verified phone: {row.person.name}", link(row)) for row in no_phone],
                url_for("oncall.people"), severe=True),
        Finding("on-call people who have not confirmed their contacts this quarter", len(unconfirmed), 3, 24,
                [(f"Contacts not confirmed this quarter: {row.person.name}", link(row)) for row in unconfirmed],
                url_for("oncall.people")),
        _gap_findings(ctx, schedules),
    ]
    return scored(TRACK, findings, note=f"{len(rows)} on-call people on {len(schedules)} schedule(s)")


def chase(ctx: Context) -> list[ChaseItem]:
    """On-call people who cannot be phoned (first) or have not confirmed their contact details this quarter."""
    schedules = coverage.load_schedules()
    on_call = set().union(*(coverage.people_on(schedule) for schedule in schedules)) if schedules else set()
    rows = [row for row in people_status() if row.person.id in on_call]
    items = [ChaseItem("No verified phone to page", row.person.name, url_for("oncall.person", user_id=row.person.id),
                       urgent=True) for row in rows if not row.has_verified_phone]
    items += [ChaseItem("Contact details not confirmed this quarter", row.person.name,
                        url_for("oncall.person", user_id=row.person.id)) for row in rows if not row.confirmed]
    return items
