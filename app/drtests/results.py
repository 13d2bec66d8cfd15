"""Figures computed from the step timestamps, never typed: time per phase, recovery time, failback time,
data loss, and the exercise's result.

Recovery time runs from the first counting failover step's start to the last counting validate step's
completion. Inside that span, time spent only in steps marked "does not count" (waiting for an approval,
a coffee-break hand-over) is taken out; idle gaps between steps stay in, because the business was down then.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.drtests.models import DrExercise, ExerciseStep, Outcome, Phase, PHASE_ORDER, Result, StepState

Interval = tuple[datetime, datetime]


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(intervals: list[Interval]) -> timedelta:
    return sum((end - start for start, end in _merge(intervals)), timedelta())


def _clip(intervals: list[Interval], window: Interval) -> list[Interval]:
    return [(max(s, window[0]), min(e, window[1])) for s, e in intervals if s < window[1] and e > window[0]]


def _interval(step: ExerciseStep, now: datetime) -> Interval | None:
    if step.started_at is None:
        return None
    return step.started_at, step.completed_at or now


def timed_span(steps: list[ExerciseStep], *, now: datetime) -> timedelta | None:
    """Elapsed time from the first counting step's start to the last one's end, less time covered only by
    steps that do not count. None when no counting step has started; running steps end at `now`."""
    counting = [iv for s in steps if s.counts_toward_recovery and (iv := _interval(s, now))]
    if not counting:
        return None
    window = (min(s for s, _ in counting), max(e for _, e in counting))
    excluded = _clip([iv for s in steps if not s.counts_toward_recovery and (iv := _interval(s, now))], window)
    # Time inside excluded steps that no counting step overlaps: union(excluded ∪ counting) − union(counting).
    only_excluded = _length(excluded + _clip(counting, window)) - _length(_clip(counting, window))
    return (window[1] - window[0]) - only_excluded


def _finished(steps: list[ExerciseStep]) -> bool:
    return bool(steps) and all(step.is_finished for step in steps)


@dataclass(frozen=True)
class PhaseTiming:
    phase: Phase
    steps: int
    expected: timedelta
    elapsed: timedelta | None  # first start to last completion (or now, while running)
    running: bool
    started_at: datetime | None

    @property
    def over(self) -> bool:
        return self.elapsed is not None and self.elapsed > self.expected


def phase_timings(exercise: DrExercise, *, now: datetime) -> list[PhaseTiming]:
    """One row per phase that has steps, in phase order."""
    rows = []
    for phase in PHASE_ORDER:
        steps = [s for s in exercise.steps if s.phase == phase]
        if not steps:
            continue
        intervals = [iv for s in steps if (iv := _interval(s, now))]
        started = min((s for s, _ in intervals), default=None)
        running = any(s.state == StepState.RUNNING for s in steps) or (started is not None and not _finished(steps))
        elapsed = (max(e for _, e in intervals) - started) if intervals else None
        if running and started is not None:
            elapsed = now - started
        rows.append(PhaseTiming(phase, len(steps), timedelta(minutes=sum(s.expected_minutes for s in steps)),
                                elapsed, running, started))
    return rows


@dataclass(frozen=True)
class Figures:
    recovery: timedelta | None
    failback: timedelta | None
    data_loss: timedelta | None
    rto: timedelta
    rpo: timedelta
    result: Result
    reasons: list[str]

    @property
    def rto_met(self) -> bool | None:
        return None if self.recovery is None else self.recovery <= self.rto

    @property
    def rpo_met(self) -> bool | None:
        return None if self.data_loss is None else self.data_loss <= self.rpo


def figures(exercise: DrExercise, *, now: datetime) -> Figures:
    """Recovery time, failback time, data loss against the targets, and the result with its reasons."""
    steps = list(exercise.steps)
    recovery_steps = [s for s in steps if s.phase in (Phase.FAILOVER, Phase.VALIDATE)]
    failback_steps = [s for s in steps if s.phase == Phase.FAILBACK]
    recovery = timed_span(recovery_steps, now=now)
    failback = timed_span(failback_steps, now=now)
    failover_starts = [s.started_at for s in steps if s.phase == Phase.FAILOVER and s.counts_toward_recovery
                       and s.started_at is not None]
    data_loss = None
    if exercise.last_replicated_at is not None and failover_starts:
        data_loss = max(min(failover_starts) - exercise.last_replicated_at, timedelta())
    rto, rpo = timedelta(minutes=exercise.rto_minutes), timedelta(minutes=exercise.rpo_minutes)
    result, reasons = _result(steps, recovery, data_loss, rto, rpo, recovery_done=_finished(recovery_steps))
    return Figures(recovery, failback, data_loss, rto, rpo, result, reasons)


def _result(steps: list[ExerciseStep], recovery: timedelta | None, data_loss: timedelta | None, rto: timedelta,
            rpo: timedelta, *, recovery_done: bool) -> tuple[Result, list[str]]:
    """Failed beats incomplete: a missed target or failed critical step is final even while steps remain."""
    failed = []
    if recovery is not None and recovery > rto:
        failed.append("recovery time exceeded the RTO")
    if data_loss is not None and data_loss > rpo:
        failed.append("data loss exceeded the RPO")
    failed += [f"critical step {s.position} failed" for s in steps if s.critical and s.outcome == Outcome.FAILED]
    if failed:
        return Result.FAILED, failed
    missing = []
    if not _finished(steps):
        missing.append("steps are still open")
    if recovery is None or not recovery_done:
        missing.append("recovery time not measured")
    if data_loss is None:
        missing.append("last replicated transaction time not recorded")
    if missing:
        return Result.INCOMPLETE, missing
    issues = [f"step {s.position} {s.outcome.value.replace('_', ' ')}" for s in steps
              if s.outcome in (Outcome.OK_WITH_ISSUES, Outcome.FAILED, Outcome.SKIPPED)]
    return (Result.PASSED_WITH_ISSUES, issues) if issues else (Result.PASSED, [])


def minutes_text(value: timedelta | None) -> str:
    """"1 h 05 min", "12 min 30 s", or "—"."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
