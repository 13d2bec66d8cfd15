"""Run mode: a runbook's numbered steps as a checklist, each marked done / skipped / failed with the time, and an
outcome at the end. Every run keeps the content hash it was run against, and the alert, job or incident it was for.

The error rate of a runbook is (failed + worked with deviations) / finished runs over the last four fiscal
quarters (this one and the three before); past the administrator's threshold, with enough runs, it needs review.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select

from app.alerting.timeline import note as alert_note
from app.auth.models import User
from app.calendar.services import quarter_for
from app.database import commit_or_conflict
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.runbooks.models import RunbookRun, RunbookRunStep, RunbookSettings, RunOutcome, StepOutcome, Runbook
from app.timeutil import utcnow

NOTE_MAX = 2000
# Called with each run once it is finished and committed, e.g. to put it on an incident's timeline.
_RUN_LISTENERS: list[Callable[[RunbookRun], None]] = []


def add_run_listener(listener: Callable[[RunbookRun], None]) -> None:
    """Have `listener(run)` called after a run is started or finished (registered in create_app, not at import)."""
    if listener not in _RUN_LISTENERS:
        _RUN_LISTENERS.append(listener)


def _tell_listeners(run: RunbookRun) -> None:
    for listener in list(_RUN_LISTENERS):
        listener(run)


# --- settings --------------------------------------------------------------------------------------------------

def get_settings() -> RunbookSettings:
    """The "needs review" threshold; the defaults (20 %, at least 3 runs) until an administrator changes them."""
    return db.session.get(RunbookSettings, 1) or RunbookSettings(id=1, error_rate_percent=20, min_runs=3)


def save_settings(*, error_rate_percent: int, min_runs: int, by: User) -> RunbookSettings:
    if not 1 <= int(error_rate_percent) <= 100:
        raise Invalid("Use a percentage from 1 to 100.", "error_rate_percent")
    if not 1 <= int(min_runs) <= 1000:
        raise Invalid("Use a number of runs from 1 to 1000.", "min_runs")
    settings = db.session.get(RunbookSettings, 1)
    if settings is None:
        settings = RunbookSettings(id=1)
        db.session.add(settings)
    settings.error_rate_percent, settings.min_runs = int(error_rate_percent), int(min_runs)
    settings.updated_at, settings.updated_by = utcnow(), by.name
    db.session.commit()
    return settings


# --- error rate ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunStats:
    runs: int = 0
    failed: int = 0
    deviations: int = 0
    last_run_at: datetime | None = None
    failing_step: str | None = None  # the step marked failed most often
    failing_step_count: int = 0

    @property
    def errors(self) -> int:
        return self.failed + self.deviations

    @property
    def rate(self) -> float | None:
        return self.errors / self.runs if self.runs else None

    @property
    def percent(self) -> int | None:
        return round(100 * self.errors / self.runs) if self.runs else None

    def needs_review(self, settings: RunbookSettings) -> bool:
        return self.runs >= settings.min_runs and 100 * self.errors >= settings.error_rate_percent * self.runs


def window_start(today=None):
    """The first day of the four fiscal quarters the error rate looks at."""
    quarter = quarter_for(today or utcnow().date())
    for _ in range(3):
        quarter = quarter.previous()
    return quarter.first_day


def run_stats(runbook_ids: list[int] | None = None, *, since=None) -> dict[int, RunStats]:
    """Finished runs per runbook since the window's start (default: the last four fiscal quarters)."""
    start = datetime.combine(since or window_start(), time(0), tzinfo=UTC)
    query = select(RunbookRun).where(RunbookRun.finished_at.is_not(None), RunbookRun.started_at >= start)
    if runbook_ids is not None:
        query = query.where(RunbookRun.runbook_id.in_(runbook_ids))
    runs = list(db.session.scalars(query))
    failed_steps = _failed_steps([run.id for run in runs])
    stats: dict[int, RunStats] = {}
    by_runbook: dict[int, list[RunbookRun]] = {}
    for run in runs:
        by_runbook.setdefault(run.runbook_id, []).append(run)
    for runbook_id, rows in by_runbook.items():
        steps = Counter(title for run in rows for title in failed_steps.get(run.id, []))
        worst = steps.most_common(1)[0] if steps else (None, 0)
        stats[runbook_id] = RunStats(
            runs=len(rows), failed=sum(run.outcome == RunOutcome.FAILED for run in rows),
            deviations=sum(run.outcome == RunOutcome.DEVIATIONS for run in rows),
            last_run_at=max(run.started_at for run in rows), failing_step=worst[0], failing_step_count=worst[1])
    return stats


def _failed_steps(run_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for start in range(0, len(run_ids), 500):
        rows = db.session.execute(select(RunbookRunStep.run_id, RunbookRunStep.title).where(
            RunbookRunStep.run_id.in_(run_ids[start:start + 500]), RunbookRunStep.outcome == StepOutcome.FAILED.value))
        for row in rows:
            found.setdefault(row.run_id, []).append(row.title)
    return found


def last_uses(runbook_ids: list[int]) -> dict[int, datetime]:
    """When each runbook was last run (started), whatever the window."""
    from sqlalchemy import func

    rows = db.session.execute(select(RunbookRun.runbook_id, func.max(RunbookRun.started_at))
                              .where(RunbookRun.runbook_id.in_(runbook_ids)).group_by(RunbookRun.runbook_id))
    return {runbook_id: at for runbook_id, at in rows}


# --- run mode --------------------------------------------------------------------------------------------------

def get_run(run_id: int) -> RunbookRun:
    run = db.session.get(RunbookRun, run_id) if 0 < run_id < 2**31 else None
    if run is None:
        raise NotFound("No such run.")
    return run


def _link_targets(alert_id: int | None, job_id: int | None) -> None:
    from app.alerting.services import get_alert
    from app.watchlist.services import get_job

    for value, field, find in ((alert_id, "alert_id", get_alert), (job_id, "job_id", get_job)):
        if value is None:
            continue
        try:
            if not 0 < int(value) < 2**31:
                raise NotFound("out of range")
            find(int(value))
        except NotFound:
            raise Invalid(f"No such {field.removesuffix('_id')}.", field) from None


def start_run(runbook: Runbook, *, by: User, step_titles: list[str], content_hash: str, alert_id: int | None = None,
              job_id: int | None = None, incident_id: int | None = None, commit: bool = True) -> RunbookRun:
    """Open a run of the version with `content_hash` (what the person is looking at); the caller's steps are its
    checklist. Linked to an alert, the alert's timeline says so."""
    if not runbook.valid or runbook.removed_at is not None:
        raise Invalid("This runbook's file is not valid: fix it before running it.")
    _link_targets(alert_id, job_id)
    if incident_id is not None and not 0 < int(incident_id) < 2**31:
        raise Invalid("No such incident.", "incident_id")
    run = RunbookRun(runbook_id=runbook.id, content_hash=content_hash, step_titles=list(step_titles)[:200],
                     started_by_id=by.id, started_by_name=by.name, started_at=utcnow(), alert_id=alert_id,
                     job_id=job_id, incident_id=incident_id)
    db.session.add(run)
    db.session.flush()
    if alert_id is not None:
        alert_note(alert_id, "runbook", f"{by.name} started runbook \"{runbook.title}\" (run #{run.id})", actor=by.name)
    if commit:
        db.session.commit()
        _tell_listeners(run)
    return run


def mark_step(run: RunbookRun, *, position: int, outcome: str, by: User) -> RunbookRunStep:
    """Mark one step of an open run done, skipped or failed, stamped now; marking it again changes the mark."""
    if not run.is_open:
        raise Conflict("This run is finished; its steps can no longer change.")
    if not 1 <= position <= len(run.step_titles):
        raise NotFound("No such step in this run.")
    try:
        outcome = StepOutcome(outcome).value
    except ValueError:
        raise Invalid("Mark the step done, skipped or failed.", "outcome") from None
    step = next((step for step in run.steps if step.position == position), None)
    if step is None:
        step = RunbookRunStep(run_id=run.id, position=position, title=str(run.step_titles[position - 1])[:200],
                              outcome=outcome, at=utcnow(), by_name=by.name)
        run.steps.append(step)
    else:
        step.outcome, step.at, step.by_name = outcome, utcnow(), by.name
    # The same step marked twice at once: the other mark stands.
    commit_or_conflict("Someone marked this step at the same moment; reload to see it.")
    return step


def finish_run(run: RunbookRun, *, outcome: str, note: str = "", by: User, commit: bool = True) -> RunbookRun:
    """Close the run with its outcome; "worked with deviations" and "failed" need a note saying what was wrong."""
    if not run.is_open:
        raise Conflict(f"This run was already finished ({RunOutcome(run.outcome).label.lower()}).")
    try:
        outcome = RunOutcome(outcome).value
    except ValueError:
        raise Invalid("Choose worked, worked with deviations or failed.", "outcome") from None
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid(f"Use at most {NOTE_MAX} characters.", "note")
    if outcome != RunOutcome.WORKED and not note:
        raise Invalid("Say what was wrong or what you did differently.", "note")
    run.outcome, run.note, run.finished_at = outcome, note, utcnow()
    if run.alert_id is not None:
        alert_note(run.alert_id, "runbook", f"{by.name} finished runbook \"{run.runbook.title}\": "
                   f"{RunOutcome(outcome).label.lower()}" + (f" ({note[:200]})" if note else ""), actor=by.name)
    if commit:
        db.session.commit()
        _tell_listeners(run)
    return run


def record_run(runbook: Runbook, *, by: User, steps: list[dict], outcome: str, note: str = "",
               alert_id: int | None = None, job_id: int | None = None, incident_id: int | None = None,
               step_titles: list[str], content_hash: str) -> RunbookRun:
    """Record a whole run at once (the API): each step {position, outcome}, then the outcome; all or nothing."""
    run = start_run(runbook, by=by, step_titles=step_titles, content_hash=content_hash, alert_id=alert_id,
                    job_id=job_id, incident_id=incident_id, commit=False)
    seen = set()
    for index, item in enumerate(steps):
        position, mark = item.get("position"), item.get("outcome")
        if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= len(step_titles) \
                or position in seen:
            db.session.rollback()
            raise Invalid(f"Use each step number from 1 to {len(step_titles)} once.", f"steps[{index}].position")
        if mark not in {outcome.value for outcome in StepOutcome}:
            db.session.rollback()
            raise Invalid("Use done, skipped or failed.", f"steps[{index}].outcome")
        seen.add(position)
        run.steps.append(RunbookRunStep(position=position, title=str(step_titles[position - 1])[:200], outcome=mark,
                                        at=utcnow(), by_name=by.name))
    try:
        finish_run(run, outcome=outcome, note=note, by=by, commit=False)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    _tell_listeners(run)
    return run


def runs_of(runbook: Runbook, limit: int = 20) -> list[RunbookRun]:
    return list(db.session.scalars(select(RunbookRun).where(RunbookRun.runbook_id == runbook.id)
                                   .order_by(RunbookRun.started_at.desc(), RunbookRun.id.desc()).limit(limit)))
