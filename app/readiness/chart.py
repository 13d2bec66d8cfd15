"""The readiness trend drawn as an SVG chart on the server: axes, dates and the colour bands, no script, so it
reads the same on a phone, in print and without a network."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.readiness.score import AMBER_AT, GREEN_AT

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 34, 10, 8, 26  # room for the score axis on the left and the dates below


@dataclass(frozen=True)
class Band:
    colour: str
    y: float
    height: float
    label: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: int
    bands: list[Band]
    score_ticks: list[Tick]
    date_ticks: list[Tick]
    points: str
    last: Tick


def _y(score: float) -> float:
    return TOP + (100 - score) * (HEIGHT - TOP - BOTTOM) / 100


def trend_chart(points: list[tuple[date, int]]) -> TrendChart | None:
    """Geometry for the scores by day (at least two), with the green, amber and red bands behind the line."""
    if len(points) < 2:
        return None
    first, last_day = points[0][0], points[-1][0]
    span = max((last_day - first).days, 1)
    plot_width = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return LEFT + (day - first).days * plot_width / span

    bands = [Band("green", _y(100), _y(GREEN_AT) - _y(100), f"green {GREEN_AT}–100"),
             Band("amber", _y(GREEN_AT), _y(AMBER_AT) - _y(GREEN_AT), f"amber {AMBER_AT}–{GREEN_AT - 1}"),
             Band("red", _y(AMBER_AT), _y(0) - _y(AMBER_AT), f"red below {AMBER_AT}")]
    score_ticks = [Tick(LEFT - 4, _y(score), str(score)) for score in (0, AMBER_AT, GREEN_AT, 100)]
    # First, last and (when there is room) the middle day: more labels collide on a phone.
    days = [first, last_day]
    if span >= 6:
        days.insert(1, points[len(points) // 2][0])
    date_ticks = [Tick(x(day), HEIGHT - 8, day.strftime("%d %b")) for day in days]
    line = " ".join(f"{x(day):.1f},{_y(score):.1f}" for day, score in points)
    end_day, end_score = points[-1]
    return TrendChart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, bands, score_ticks, date_ticks, line,
                      Tick(x(end_day), _y(end_score), str(end_score)))
