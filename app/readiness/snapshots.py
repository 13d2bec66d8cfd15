"""Readiness over time: the daily snapshot (one row per day of the close region), the trend read back from it, and
each closed quarter frozen as it stood at the end of its BD0.

`readiness_of()` is the one place that chooses between the live result (an open quarter, kept per process by
live.py) and the frozen record (a closed one); every page and the API go through it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.calendar.services import close_region
from app.extensions import db
from app.readiness.models import ReadinessFrozenQuarter, ReadinessSnapshot
from app.readiness.live import live_readiness
from app.readiness.page import top_risk_rows
from app.readiness.score import Frozen, Readiness, compute_readiness, context_for
from app.readiness.tracks.base import Gate, Reason, TrackResult
from app.timeutil import FiscalQuarter, utcnow

# A quarter is frozen by the first scheduler run after its BD0 ends; one that only runs later than this (a new
# installation, a long outage) leaves the quarter unfrozen rather than freezing today's data under its name.
FREEZE_WITHIN = timedelta(days=7)


# --- frozen quarters ---------------------------------------------------------------------------------------------

def frozen_record(quarter: FiscalQuarter) -> ReadinessFrozenQuarter | None:
    return db.session.scalar(select(ReadinessFrozenQuarter).where(
        ReadinessFrozenQuarter.fiscal_year == quarter.fiscal_year, ReadinessFrozenQuarter.quarter == quarter.quarter))


def _detail(readiness: Readiness, top_risks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"tracks": [{"track": result.track, "score": result.score, "colour": result.colour, "note": result.note,
                        "reasons": [asdict(reason) for reason in result.reasons],
                        "gates": [asdict(gate) for gate in result.gates]} for result in readiness.tracks],
            "gates": [asdict(gate) for gate in readiness.gates], "top_risks": top_risks}


def _from_record(quarter: FiscalQuarter, record: ReadinessFrozenQuarter) -> Readiness:
    """The Readiness a frozen record describes, judged as on its BD0 at the end of that day."""
    ctx = context_for(quarter, at=record.as_of, today=record.close_day)
    detail = record.detail
    tracks = [TrackResult(track=row["track"], score=row["score"], note=row.get("note", ""),
                          colour=row.get("colour", "grey"),
                          reasons=[Reason(**reason) for reason in row.get("reasons", [])],
                          gates=[Gate(**gate) for gate in row.get("gates", [])]) for row in detail.get("tracks", [])]
    return Readiness(quarter, ctx, tracks, record.score, record.colour, record.score_colour,
                     [Gate(**gate) for gate in detail.get("gates", [])],
                     frozen=Frozen(as_of=record.as_of, taken_at=record.taken_at))


def frozen_top_risks(readiness: Readiness) -> list[dict[str, Any]]:
    """The top risks a frozen quarter recorded (id, title, level, status), for its page."""
    if readiness.frozen is None:
        return []
    record = frozen_record(readiness.quarter)
    return list(record.detail.get("top_risks", [])) if record is not None else []


def freeze_quarter(quarter: FiscalQuarter, *, now: datetime | None = None) -> ReadinessFrozenQuarter | None:
    """Freeze `quarter` as at the end of its BD0 in the close region, once; None when it is not closed yet, was
    frozen already (by this or another scheduler), or closed more than FREEZE_WITHIN ago."""
    region = close_region()
    now = now or utcnow()
    as_of = region.end_of_close_day(quarter)
    if now < as_of or now - as_of > FREEZE_WITHIN or frozen_record(quarter) is not None:
        return None
    readiness = compute_readiness(quarter=quarter, at=as_of, today=region.close_day(quarter))
    risks = top_risk_rows()
    row = ReadinessFrozenQuarter(fiscal_year=quarter.fiscal_year, quarter=quarter.quarter,
                                 close_day=readiness.context.close_day, as_of=as_of, taken_at=now,
                                 score=readiness.score, colour=readiness.colour, score_colour=readiness.score_colour,
                                 detail=_detail(readiness, risks))
    try:
        db.session.add(row)
        db.session.commit()
    except IntegrityError:  # another scheduler froze it first: the same quarter, kept once
        db.session.rollback()
        return None
    return row


def freeze_closed_quarter(now: datetime | None = None) -> ReadinessFrozenQuarter | None:
    """Freeze the quarter whose BD0 has ended, if any is waiting: this quarter's (BD0 may fall before its last
    calendar day) or the previous one's."""
    now = now or utcnow()
    current = close_region().quarter_at(now)
    for quarter in (current.previous(), current):
        row = freeze_quarter(quarter, now=now)
        if row is not None:
            return row
    return None


def readiness_of(quarter: FiscalQuarter | None = None) -> Readiness:
    """What a page shows for `quarter` (default: the current one): the frozen record once the quarter is closed and
    frozen, else a live computation. The one place that makes this choice."""
    region = close_region()
    quarter = quarter or region.quarter_at()
    if utcnow() >= region.end_of_close_day(quarter):
        record = frozen_record(quarter)
        if record is not None:
            return _from_record(quarter, record)
    return live_readiness(quarter)


def is_frozen(fiscal_year: int, quarter: int) -> bool:
    return db.session.scalar(select(ReadinessFrozenQuarter.id).where(
        ReadinessFrozenQuarter.fiscal_year == fiscal_year, ReadinessFrozenQuarter.quarter == quarter)) is not None


# --- daily snapshots ---------------------------------------------------------------------------------------------

def take_snapshot(*, day: date | None = None) -> ReadinessSnapshot | None:
    """Store the day's readiness of the current quarter once (the close region's date); a second call the same day,
    from any process, stores nothing, and neither does a call for a quarter already frozen."""
    region = close_region()
    day = day or region.today()
    if db.session.scalar(select(ReadinessSnapshot.id).where(ReadinessSnapshot.day == day)) is not None:
        return None
    quarter = region.quarter_at()
    if is_frozen(quarter.fiscal_year, quarter.quarter):
        return None  # after BD0 the quarter's line stops where it was frozen
    readiness = compute_readiness(quarter=quarter)
    row = ReadinessSnapshot(day=day, fiscal_year=readiness.quarter.fiscal_year, quarter=readiness.quarter.quarter,
                            score=readiness.score if readiness.score is not None else 0, colour=readiness.colour,
                            tracks={result.track: result.score for result in readiness.tracks})
    try:
        db.session.add(row)
        db.session.commit()
    except IntegrityError:  # another scheduler stored today's first
        db.session.rollback()
        return None
    return row


@dataclass(frozen=True)
class Trend:
    points: list[ReadinessSnapshot]
    since_week: int | None  # score change since the snapshot a week ago (or the oldest within the week)
    since_start: int | None  # change since the quarter's first snapshot


def quarter_trend(quarter: FiscalQuarter, current: Readiness | None = None) -> Trend:
    """The quarter's snapshots in day order, and the change since last week and since the quarter began, as seen
    on `current`'s day (a frozen quarter: its BD0)."""
    points = list(db.session.scalars(select(ReadinessSnapshot).where(
        ReadinessSnapshot.fiscal_year == quarter.fiscal_year, ReadinessSnapshot.quarter == quarter.quarter)
        .order_by(ReadinessSnapshot.day)))
    today = current.context.today if current is not None else close_region().today()
    points = [point for point in points if point.day <= today]
    now_score = current.score if current is not None and current.score is not None else (
        points[-1].score if points else None)
    if now_score is None or not points:
        return Trend(points, None, None)
    week_ago = today - timedelta(days=7)
    base = next((point for point in reversed(points) if point.day <= week_ago), points[0])
    return Trend(points, now_score - base.score, now_score - points[0].score)


def latest_score() -> int | None:
    """The score of the newest daily snapshot (None before the first): cheap enough for every metrics scrape."""
    return db.session.scalar(select(ReadinessSnapshot.score).order_by(ReadinessSnapshot.day.desc()).limit(1))
