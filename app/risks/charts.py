"""Server-drawn charts: the register's 12-week trend as stacked bars and a risk's score as a step line.

Only geometry is computed here; the templates draw it as inline SVG (no script: the CSP forbids inline code and
the charts must print and work without JavaScript).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.risks.history import TrendPoint
from app.risks.models import LEVEL_ORDER, RiskLevel, RiskScore
from app.timeutil import utcnow

WIDTH, HEIGHT, BOTTOM, LEFT, TOP = 640, 200, 24, 32, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    level: RiskLevel
    count: int


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, str]]  # x of the label's centre, text
    totals: list[tuple[float, float, int]]  # x, y, total above each column
    max_total: int
    baseline: float
    points: list[TrendPoint]
    table: list[tuple[str, list[int], int]]  # week label, counts critical..low, total


def trend_chart(points: list[TrendPoint], date_of) -> TrendChart:
    """Stacked bars, low at the bottom and critical on top; `date_of(instant)` gives the label's date."""
    plot_width, plot_height = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_width / max(len(points), 1)
    width = slot * 0.7
    top = max([point.total for point in points] + [1])
    scale = plot_height / top
    baseline = TOP + plot_height
    bars, labels, totals = [], [], []
    for index, point in enumerate(points):
        x = LEFT + index * slot + (slot - width) / 2
        y = baseline
        for level in LEVEL_ORDER:
            count = point.counts.get(level, 0)
            if count:
                height = count * scale
                y -= height
                bars.append(Bar(round(x, 1), round(y, 1), round(width, 1), round(height, 1), level, count))
        labels.append((round(x + width / 2, 1), date_of(point.at).strftime("%d %b")))
        totals.append((round(x + width / 2, 1), round(y - 3, 1), point.total))
    table = [(label, [point.counts.get(level, 0) for level in reversed(LEVEL_ORDER)], point.total)
             for (_x, label), point in zip(labels, points)]
    return TrendChart(WIDTH, HEIGHT, bars, labels, totals, top, baseline, points, table)


@dataclass(frozen=True)
class ScoreChart:
    width: int
    height: int
    residual: str  # SVG polyline points
    inherent: str
    first: datetime
    last: datetime
    gridlines: list[tuple[float, int]]


def score_chart(periods: list[RiskScore], now: datetime | None = None) -> ScoreChart | None:
    """Residual and inherent scores (1..25) as step lines over the risk's life; None before it has history."""
    if not periods:
        return None
    now = now or utcnow()
    first = periods[0].valid_from
    span = max((now - first).total_seconds(), 1.0)
    plot_width, plot_height = WIDTH - LEFT - 8, 120

    def x(at: datetime) -> float:
        return round(LEFT + (at - first).total_seconds() / span * plot_width, 1)

    def y(score: int) -> float:
        return round(TOP + plot_height - (score - 1) / 24 * plot_height, 1)

    def line(score_of) -> str:
        coordinates = []
        for period in periods:
            end = period.valid_to or now
            coordinates += [(x(period.valid_from), y(score_of(period))), (x(end), y(score_of(period)))]
        return " ".join(f"{a},{b}" for a, b in coordinates)

    return ScoreChart(width=WIDTH, height=plot_height + TOP + 20, first=first, last=now,
                      residual=line(lambda p: p.likelihood * p.impact),
                      inherent=line(lambda p: p.inherent_likelihood * p.inherent_impact),
                      gridlines=[(y(score), score) for score in (1, 5, 10, 15, 20, 25)])
