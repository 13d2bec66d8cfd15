"""DR test track: a passed exercise this quarter, recovery within the RTO, findings still open."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from app.drtests.models import DrExercise, DrTemplate, Finding as DrFinding, FindingStatus, Result
from app.extensions import db
from app.readiness.tracks.base import (LISTED_PER_FINDING, ChaseItem, Context, Finding, Gate, Reason, TrackResult,
                                       not_tracked, scored)

TRACK = "drtest"
PASSING = (Result.PASSED, Result.PASSED_WITH_ISSUES)
OPEN_FINDINGS = (FindingStatus.OPEN, FindingStatus.IN_PROGRESS)
NO_PASS_POINTS = 40


def _no_pass_reason(exercises: list[DrExercise]) -> Reason:
    failed = [exercise for exercise in exercises if exercise.result is Result.FAILED]
    if failed:
        return Reason(f"DR test failed this quarter: {failed[0].name}", NO_PASS_POINTS,
                      url_for("drtests.exercise", exercise_id=failed[0].id), severe=True)
    if exercises:
        first = exercises[0]
        return Reason(f"DR test not passed yet (scheduled {first.scheduled_for:%d %b}): {first.name}",
                      NO_PASS_POINTS, url_for("drtests.exercise", exercise_id=first.id), severe=True)
    return Reason("No DR test scheduled this quarter", NO_PASS_POINTS, url_for("drtests.index"), severe=True)


def assess(ctx: Context) -> TrackResult:
    """Score this quarter's DR exercises; with no DR data at all the track is not tracked, but the gate holds."""
    exercises = list(db.session.scalars(select(DrExercise).where(
        DrExercise.fiscal_year == ctx.quarter.fiscal_year, DrExercise.quarter == ctx.quarter.quarter)
        .order_by(DrExercise.scheduled_for, DrExercise.id)))
    passed = [exercise for exercise in exercises if exercise.signed_off_at and exercise.result in PASSING]
    gates = []
    if not passed:
        failed = any(exercise.result is Result.FAILED for exercise in exercises)
        gates.append(Gate("amber", "DR test failed this quarter" if failed else "No DR test passed this quarter",
                          _no_pass_reason(exercises).url))
    if not exercises and db.session.scalar(select(DrTemplate.id).limit(1)) is None:
        return not_tracked(TRACK, "Not tracked yet: no DR test templates or exercises are recorded.", gates)

    extra = [] if passed else [_no_pass_reason(exercises)]
    rto_missed = [exercise for exercise in exercises if exercise.signed_off_at and exercise.recovery_seconds
                  is not None and exercise.recovery_seconds > exercise.rto_minutes * 60]
    open_findings = select(DrFinding).where(DrFinding.status.in_(OPEN_FINDINGS))
    count = db.session.scalar(select(func.count()).select_from(open_findings.subquery())) or 0
    first = db.session.scalars(open_findings.order_by(DrFinding.id).limit(LISTED_PER_FINDING)).all() if count else []
    findings = [
        Finding("exercises over their RTO", len(rto_missed), 15, 30,
                [(f"RTO missed: recovered in {exercise.recovery_seconds // 60} min, target {exercise.rto_minutes} min"
                  f" ({exercise.name})", url_for("drtests.exercise", exercise_id=exercise.id))
                 for exercise in rto_missed], url_for("drtests.index")),
        Finding("DR findings still open", count, 4, 24,
                [(f"Open {finding.severity.value} finding: {finding.title}",
                  url_for("drtests.exercise", exercise_id=finding.exercise_id)) for finding in first],
                url_for("drtests.findings_list")),
    ]
    return scored(TRACK, findings, extra=extra, gates=gates)


CHASE_LIMIT = 100


def chase(ctx: Context) -> list[ChaseItem]:
    """Open DR findings, overdue ones first, then by due date."""
    findings = db.session.scalars(select(DrFinding).where(DrFinding.status.in_(OPEN_FINDINGS))
                                  .order_by(DrFinding.due_date.is_(None), DrFinding.due_date, DrFinding.id)
                                  .limit(CHASE_LIMIT)).all()
    return [ChaseItem(f"Open {finding.severity.value} finding: {finding.title}"
                      + (f" (due {finding.due_date:%d %b})" if finding.due_date else ""),
                      finding.owner.name if finding.owner else "No owner",
                      url_for("drtests.exercise", exercise_id=finding.exercise_id), due_on=finding.due_date,
                      urgent=finding.due_date is not None and finding.due_date < ctx.today) for finding in findings]
