"""The 5x5 grid that turns likelihood and impact into a level, and the register settings an administrator edits.

The grid is stored as rows by likelihood (1..5), each row a list of levels by impact (1..5). Until an administrator
saves settings, the defaults below apply (they are also written in the README).
"""
from __future__ import annotations

from datetime import time

from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.risks.models import LEVEL_ORDER, RiskLevel, RiskSettings
from app.timeutil import is_valid_zone

SCALE = range(1, 6)
L, M, H, C = "low", "medium", "high", "critical"
# DEFAULT_GRID[likelihood - 1][impact - 1]; read bottom-up it is the usual heat map (likelihood 5 on top).
DEFAULT_GRID: list[list[str]] = [
    [L, L, L, M, M],  # likelihood 1 (rare)
    [L, L, M, M, H],  # likelihood 2
    [L, M, M, H, H],  # likelihood 3
    [M, M, H, H, C],  # likelihood 4
    [M, H, H, C, C],  # likelihood 5 (almost certain)
]
DEFAULT_CADENCE = {RiskLevel.CRITICAL: 7, RiskLevel.HIGH: 14, RiskLevel.MEDIUM: 30, RiskLevel.LOW: 91}
DEFAULT_STALE_DAYS = 14
DEFAULT_REVIEW_WEEKDAY, DEFAULT_REVIEW_TIME, DEFAULT_REVIEW_ZONE = 1, time(9), "America/Los_Angeles"
LIKELIHOOD_WORDS = {1: "rare", 2: "unlikely", 3: "possible", 4: "likely", 5: "almost certain"}
IMPACT_WORDS = {1: "negligible", 2: "minor", 3: "moderate", 4: "major", 5: "severe"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def default_settings() -> RiskSettings:
    """Settings holding the defaults, not added to the session (saved only when an administrator changes them)."""
    settings = RiskSettings(id=1, grid=[list(row) for row in DEFAULT_GRID], stale_days=DEFAULT_STALE_DAYS,
                            review_weekday=DEFAULT_REVIEW_WEEKDAY, review_time=DEFAULT_REVIEW_TIME,
                            review_zone=DEFAULT_REVIEW_ZONE)
    for level, days in DEFAULT_CADENCE.items():
        setattr(settings, f"cadence_{level.value}_days", days)
    return settings


def current_settings() -> RiskSettings:
    """The saved settings, or the defaults when nobody has changed them."""
    return db.session.scalar(select(RiskSettings).where(RiskSettings.id == 1)) or default_settings()


def level_for(grid: list[list[str]], likelihood: int, impact: int) -> RiskLevel:
    """The level of one cell; likelihood and impact are 1..5."""
    if likelihood not in SCALE or impact not in SCALE:
        raise Invalid("Likelihood and impact are whole numbers from 1 to 5.", "likelihood")
    return RiskLevel(grid[likelihood - 1][impact - 1])


def cell_field(likelihood: int, impact: int) -> str:
    return f"cell_{likelihood}_{impact}"


def check_grid(grid: list[list[str]]) -> list[list[str]]:
    """A clean copy of a 5x5 grid of level names; refuse a malformed grid or one where more risk means a lower level.

    A level never falls when likelihood or impact rises: otherwise making a risk worse could lower its level and
    stretch its review cadence.
    """
    if not isinstance(grid, list) or len(grid) != 5 or any(not isinstance(row, list) or len(row) != 5
                                                           for row in grid):
        raise Invalid("The grid has 5 rows (likelihood) of 5 cells (impact).", "grid")
    clean: list[list[str]] = []
    for likelihood in SCALE:
        row = []
        for impact in SCALE:
            value = grid[likelihood - 1][impact - 1]
            if value not in {level.value for level in RiskLevel}:
                raise Invalid("Choose low, medium, high or critical.", cell_field(likelihood, impact))
            row.append(value)
        clean.append(row)
    rank = {level.value: level.rank for level in LEVEL_ORDER}
    for likelihood in SCALE:
        for impact in SCALE:
            here = rank[clean[likelihood - 1][impact - 1]]
            left = rank[clean[likelihood - 1][impact - 2]] if impact > 1 else -1
            below = rank[clean[likelihood - 2][impact - 1]] if likelihood > 1 else -1
            if here < max(left, below):
                raise Invalid(f"Likelihood {likelihood} × impact {impact} would be lower than a smaller risk next to "
                              "it: levels must not fall as likelihood or impact rise.", cell_field(likelihood, impact))
    return clean


def check_review_slot(*, review_weekday: int, review_zone: str) -> None:
    if review_weekday not in range(7):
        raise Invalid("Choose a day of the week.", "review_weekday")
    if not is_valid_zone(review_zone):
        raise Invalid("Unknown time zone; use an IANA name such as America/Los_Angeles.", "review_zone")


def grid_rows_for_display(grid: list[list[str]]) -> list[tuple[int, list[tuple[int, RiskLevel]]]]:
    """(likelihood, [(impact, level)...]) with likelihood 5 first, the way a heat map is read."""
    return [(likelihood, [(impact, RiskLevel(grid[likelihood - 1][impact - 1])) for impact in SCALE])
            for likelihood in reversed(SCALE)]
