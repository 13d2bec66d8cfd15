"""Close mode and the policy snapshot an alert escalates from.

The quarter-close window runs from 00:00 UTC on business day BD(CLOSE_WINDOW_START_BD) of a fiscal quarter
to the end (24:00 UTC) of BD(CLOSE_WINDOW_END_BD). Days are whole UTC days on purpose: the window is one
company-wide period, not a different one per viewer's zone. Business days skip weekends and, when
CLOSE_WINDOW_COUNTRY is set, that country's public holidays.

A policy with close mode on, asked for its steps at an instant inside a window, caps every delay at its
close_mode_max_delay and asks for voice first; otherwise the steps are what was saved.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app

from app.calendar.models import business_calendar
from app.calendar.services import quarter_for
from app.oncall.models import EscalationPolicy, EscalationTarget
from app.timeutil import UTC, BusinessCalendar, FiscalQuarter, as_utc, business_day_offset, utcnow

SNAPSHOT_VERSION = 1
_ONE_DAY = timedelta(days=1)


def _calendar() -> BusinessCalendar:
    return business_calendar(current_app.config["CLOSE_WINDOW_COUNTRY"] or None, None)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class CloseWindow:
    quarter: FiscalQuarter
    start: datetime  # 00:00 UTC of the first business day
    end: datetime  # exclusive: 00:00 UTC of the day after the last business day

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - _ONE_DAY).date()

    def contains(self, at: datetime) -> bool:
        return self.start <= as_utc(at) < self.end


def close_window(quarter: FiscalQuarter) -> tuple[datetime, datetime]:
    """(start, end) in UTC of `quarter`'s close window; `end` is exclusive (midnight after the last day)."""
    config, calendar = current_app.config, _calendar()
    first = business_day_offset(quarter, int(config["CLOSE_WINDOW_START_BD"]), calendar)
    last = business_day_offset(quarter, int(config["CLOSE_WINDOW_END_BD"]), calendar)
    return _midnight(first), _midnight(last + _ONE_DAY)


def _window(quarter: FiscalQuarter) -> CloseWindow:
    return CloseWindow(quarter, *close_window(quarter))


def window_containing(at: datetime) -> CloseWindow | None:
    """The close window `at` falls in, or None. ValueError at the ends of the calendar (years 1 and 9999)."""
    quarter = quarter_for(as_utc(at).date())
    # BD+3 of a quarter lies in the next one, so the previous quarter's window can cover `at`; the next
    # quarter's is checked too so that any configured offsets (even a window starting after BD0) work.
    for candidate in (quarter.previous(), quarter, quarter.next()):
        window = _window(candidate)
        if window.contains(at):
            return window
    return None


def in_close_window(at: datetime) -> bool:
    return window_containing(at) is not None


def current_close_window() -> tuple[CloseWindow, bool]:
    """The close window in force now, or else the next one; and whether it is in force."""
    now = utcnow()
    window = window_containing(now)
    if window is not None:
        return window, True
    quarter = quarter_for(now.date())
    for candidate in (quarter, quarter.next()):
        window = _window(candidate)
        if window.start > now:
            return window, False
    raise AssertionError("a quarter's close window always lies ahead within two quarters")  # pragma: no cover


# --- the snapshot ---------------------------------------------------------------------------------------

def _target_snapshot(target: EscalationTarget) -> dict[str, Any]:
    if target.schedule_id is not None:
        return {"schedule_id": target.schedule_id, "name": target.schedule.name}
    return {"user_id": target.user_id, "email": target.user.email, "name": target.user.name}


def snapshot_policy(policy: EscalationPolicy) -> dict[str, Any]:
    """A JSON-safe copy of everything escalation needs, so later edits of the policy cannot reach it."""
    return {
        "version": SNAPSHOT_VERSION,
        "policy_id": policy.id,
        "name": policy.name,
        "repeat": policy.repeat,
        "close_mode": policy.close_mode,
        "close_mode_max_delay": policy.close_mode_max_delay,
        "ack_timeout_minutes": policy.ack_timeout_minutes,
        "steps": [{"delay_minutes": step.delay_minutes, "targets": [_target_snapshot(t) for t in step.targets]}
                  for step in policy.steps],
    }


@dataclass(frozen=True)
class StepTarget:
    """Whoever is on call in a schedule, or one person; `label` is the name they had when the snapshot was taken."""

    schedule_id: int | None
    user_id: int | None
    label: str

    @property
    def is_schedule(self) -> bool:
        return self.schedule_id is not None


@dataclass(frozen=True)
class EffectiveStep:
    delay_minutes: int  # wait this long before the next step
    targets: tuple[StepTarget, ...]
    voice_first: bool  # close mode: call before texting


def _step_target(raw: Mapping[str, Any]) -> StepTarget:
    return StepTarget(schedule_id=raw.get("schedule_id"), user_id=raw.get("user_id"), label=raw["name"])


def steps_from_snapshot(snapshot: Mapping[str, Any], at: datetime) -> list[EffectiveStep]:
    """The steps to run for an alert raised at `at`: shortened and voice-first in the close window with close mode on."""
    tighten = bool(snapshot["close_mode"]) and in_close_window(at)
    cap = int(snapshot["close_mode_max_delay"])
    return [EffectiveStep(delay_minutes=min(step["delay_minutes"], cap) if tighten else step["delay_minutes"],
                          targets=tuple(_step_target(t) for t in step["targets"]), voice_first=tighten)
            for step in snapshot["steps"]]


def effective_steps(policy: EscalationPolicy, at: datetime) -> list[EffectiveStep]:
    """The steps `policy` would run for an alert raised at `at`."""
    return steps_from_snapshot(snapshot_policy(policy), at)
