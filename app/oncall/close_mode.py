"""Close mode and the policy snapshot an alert escalates from.

The quarter-close window runs from the start of business day BD(CLOSE_WINDOW_START_BD) of a fiscal quarter to the
end of BD(CLOSE_WINDOW_END_BD), in local days of the close region (CLOSE_TIME_ZONE: midnight there, whatever the
viewer's zone; UTC when unset), so it is one company-wide period. Business days skip weekends and, when
CLOSE_WINDOW_COUNTRY is set, that country's public holidays.

A policy with close mode on, asked for its steps at an instant inside a window, caps every delay at its
close_mode_max_delay and asks for voice first; otherwise the steps are what was saved.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app

from app.calendar.services import close_region
from app.oncall.models import EscalationPolicy, EscalationTarget
from app.calendar.close_region import CloseRegion
from app.timeutil import FiscalQuarter, as_utc, date_in, utcnow

SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class CloseWindow:
    quarter: FiscalQuarter
    start: datetime  # the start of the first business day in the close region
    end: datetime  # exclusive: the start of the day after the last business day there
    zone: str  # the close region's zone, whose dates the window's days are

    @property
    def first_day(self) -> date:
        return date_in(self.start, self.zone)

    @property
    def last_day(self) -> date:
        return date_in(self.end, self.zone) - timedelta(days=1)

    def contains(self, at: datetime) -> bool:
        return self.start <= as_utc(at) < self.end


def _offsets() -> tuple[int, int]:
    config = current_app.config
    return int(config["CLOSE_WINDOW_START_BD"]), int(config["CLOSE_WINDOW_END_BD"])


def close_window(quarter: FiscalQuarter) -> tuple[datetime, datetime]:
    """(start, end) in UTC of `quarter`'s close window; `end` is exclusive (when the day after the last begins)."""
    return close_region().span(quarter, *_offsets())


def _window(region: CloseRegion, quarter: FiscalQuarter) -> CloseWindow:
    return CloseWindow(quarter, *region.span(quarter, *_offsets()), region.zone)


def window_containing(at: datetime) -> CloseWindow | None:
    """The close window `at` falls in, or None. ValueError at the ends of the calendar (years 1 and 9999)."""
    region = close_region()
    quarter = region.quarter_at(as_utc(at))
    # BD+3 of a quarter lies in the next one, so the previous quarter's window can cover `at`; the next
    # quarter's is checked too so that any configured offsets (even a window starting after BD0) work.
    for candidate in (quarter.previous(), quarter, quarter.next()):
        window = _window(region, candidate)
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
    region = close_region()
    quarter = region.quarter_at(now)
    for candidate in (quarter, quarter.next()):
        window = _window(region, candidate)
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
