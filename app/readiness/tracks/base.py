"""What every track returns, and the one rule for turning findings into lost points."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from app.timeutil import FiscalQuarter

# Each track lists at most this many records per finding; the rest are one "and N more" line.
LISTED_PER_FINDING = 5


@dataclass(frozen=True)
class Context:
    """The quarter being judged and the moment it is judged at."""

    quarter: FiscalQuarter
    today: date
    now: datetime
    close_day: date  # BD0 on the reference calendar
    gate_day: date  # BD-5: from this day an unmitigated critical risk turns the quarter red
    is_current: bool


@dataclass(frozen=True)
class ChaseItem:
    """One thing somebody has to do before the close: what, who, where it is fixed."""

    text: str
    owner: str  # a person's name, a role, or "No owner"
    url: str | None = None
    due_on: date | None = None
    urgent: bool = False  # overdue, down, failing: listed first, in red


@dataclass(frozen=True)
class Reason:
    text: str
    points: int
    url: str | None = None
    severe: bool = False  # shown in red: the finding that makes the track red or trips a gate


@dataclass
class TrackResult:
    track: str
    score: int | None  # None: the domain has no data, so the track is not tracked yet
    reasons: list[Reason] = field(default_factory=list)
    note: str = ""  # why it is not tracked, or what it looked at
    colour: str = "grey"
    gates: list[Gate] = field(default_factory=list)  # hard gates this track trips for the whole quarter


@dataclass(frozen=True)
class Gate:
    """A rule that caps the quarter's colour whatever the score."""

    cap: str  # "amber" or "red"
    text: str
    url: str | None = None


@dataclass(frozen=True)
class Finding:
    """A kind of problem in a track: how many records have it, what each costs, and at most what it costs."""

    label: str  # "{n} high or critical risks without an active mitigation"
    count: int
    each: int
    cap: int
    listed: Sequence[tuple[str, str | None]]  # (text, url) of the first records
    more_url: str | None = None
    severe: bool = False

    @property
    def lost(self) -> int:
        return min(self.cap, self.count * self.each)


def reasons_for(finding: Finding) -> list[Reason]:
    """Turn one finding into reasons whose points add up to what the finding costs."""
    if finding.count == 0:
        return []
    remaining = finding.lost
    reasons = []
    for text, url in finding.listed[:LISTED_PER_FINDING]:
        points = min(finding.each, remaining)
        remaining -= points
        reasons.append(Reason(text, points, url, finding.severe))
    shown = len(reasons)
    if finding.count > shown:
        rest = finding.count - shown
        reasons.append(Reason(f"{rest} more: {finding.label}", remaining, finding.more_url, finding.severe))
    return reasons


def scored(track: str, findings: Sequence[Finding], note: str = "", extra: Sequence[Reason] = (),
           gates: Sequence[Gate] = ()) -> TrackResult:
    """100 minus what the findings (and extra reasons) cost, never below 0; reasons sorted by cost."""
    reasons = [reason for finding in findings for reason in reasons_for(finding)] + list(extra)
    lost = sum(finding.lost for finding in findings) + sum(reason.points for reason in extra)
    reasons.sort(key=lambda reason: (-reason.severe, -reason.points))
    return TrackResult(track=track, score=max(0, 100 - lost), reasons=reasons, note=note, gates=list(gates))


def not_tracked(track: str, note: str, gates: Sequence[Gate] = ()) -> TrackResult:
    return TrackResult(track=track, score=None, note=note, gates=list(gates))
