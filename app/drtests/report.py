"""What the execution page, the printable report and the Markdown export show: figures, phases, timeline."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template

from app.drtests.models import DrExercise
from app.drtests.results import figures, phase_timings


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    text: str


def timeline(exercise: DrExercise) -> list[TimelineEntry]:
    """Every recorded moment, in time order: step starts and ends, evidence, replication point, sign-off."""
    entries = []
    for step in exercise.steps:
        if step.started_at:
            who = step.started_by.name if step.started_by else "someone"
            entries.append(TimelineEntry(step.started_at, f"Step {step.position} {step.title} started by {who}"))
        if step.completed_at:
            who = step.completed_by.name if step.completed_by else "someone"
            verdict = (f"skipped ({step.skip_reason})" if step.skip_reason
                       else f"completed: {step.outcome.value.replace('_', ' ') if step.outcome else ''}")
            entries.append(TimelineEntry(step.completed_at, f"Step {step.position} {verdict} by {who}"))
        for item in step.evidence:
            entries.append(TimelineEntry(item.added_at, f"Evidence on step {step.position}: {item.label}"))
    if exercise.last_replicated_at:
        # The replication point sits among the steps it is measured against: data loss runs from it to failover.
        entries.append(TimelineEntry(exercise.last_replicated_at,
                                     "Replication point: last transaction replicated to the standby"))
    if exercise.signed_off_at:
        who = exercise.signed_off_by.name if exercise.signed_off_by else "someone"
        entries.append(TimelineEntry(exercise.signed_off_at, f"Signed off by {who}"))
    return sorted(entries, key=lambda entry: entry.at)


def report_context(exercise: DrExercise, *, now: datetime) -> dict:
    """Figures are computed from the steps while the exercise is open, and read as stored once signed off."""
    computed = figures(exercise, now=now)
    return {"exercise": exercise, "figures": computed, "result": exercise.result or computed.result,
            "timings": phase_timings(exercise, now=now), "timeline": timeline(exercise), "now": now}


def exercise_markdown(exercise: DrExercise, *, now: datetime) -> str:
    return render_template("drtests/report.md", **report_context(exercise, now=now))
