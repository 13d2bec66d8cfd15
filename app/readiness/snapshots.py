"""The daily readiness snapshot (one row per day) and the trend read back from it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.readiness.models import ReadinessSnapshot
from app.readiness.score import Readiness, compute_readiness
from app.timeutil import FiscalQuarter, utcnow


def take_snapshot(*, day: date | None = None) -> ReadinessSnapshot | None:
    """Store today's (UTC) readiness once; a second call the same day, from any process, stores nothing."""
    day = day or utcnow().date()
    if db.session.scalar(select(ReadinessSnapshot.id).where(ReadinessSnapshot.day == day)) is not None:
        return None
    readiness = compute_readiness()
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

    def polyline(self, width: int = 300, height: int = 80) -> str:
        """SVG points for the score line (0..100 bottom to top), drawn server-side."""
        if len(self.points) < 2:
            return ""
        step = width / (len(self.points) - 1)
        return " ".join(f"{i * step:.1f},{height - point.score * height / 100:.1f}"
                        for i, point in enumerate(self.points))


def quarter_trend(quarter: FiscalQuarter, current: Readiness | None = None) -> Trend:
    """The quarter's snapshots in day order, and the change since last week and since the quarter began."""
    points = list(db.session.scalars(select(ReadinessSnapshot).where(
        ReadinessSnapshot.fiscal_year == quarter.fiscal_year, ReadinessSnapshot.quarter == quarter.quarter)
        .order_by(ReadinessSnapshot.day)))
    now_score = current.score if current is not None and current.score is not None else (
        points[-1].score if points else None)
    if now_score is None or not points:
        return Trend(points, None, None)
    week_ago = utcnow().date() - timedelta(days=7)
    base = next((point for point in reversed(points) if point.day <= week_ago), points[0])
    return Trend(points, now_score - base.score, now_score - points[0].score)


def latest_score() -> int | None:
    """The score of the newest daily snapshot (None before the first): cheap enough for every metrics scrape."""
    return db.session.scalar(select(ReadinessSnapshot.score).order_by(ReadinessSnapshot.day.desc()).limit(1))
