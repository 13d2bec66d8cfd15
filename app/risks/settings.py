"""Saving the register settings: a new grid re-levels every risk, a new cadence moves every next review date."""
from __future__ import annotations

from datetime import time

from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.risks import cadence, history
from app.risks.models import LEVEL_ORDER, Risk, RiskSettings
from app.risks.scoring import check_grid, check_review_slot, default_settings, level_for

CADENCE_FIELDS = tuple(f"cadence_{level.value}_days" for level in LEVEL_ORDER)


def settings_values(settings: RiskSettings) -> dict:
    """The settings keyed like the form: one field per grid cell, the cadence and the review slot."""
    values = {f"cell_{l}_{i}": settings.grid[l - 1][i - 1] for l in range(1, 6) for i in range(1, 6)}
    values.update({name: getattr(settings, name) for name in CADENCE_FIELDS})
    values.update(stale_days=settings.stale_days, review_weekday=settings.review_weekday,
                  review_time=settings.review_time, review_zone=settings.review_zone)
    return values


def grid_from_cells(values: dict) -> list[list[str]]:
    return [[values.get(f"cell_{l}_{i}") for i in range(1, 6)] for l in range(1, 6)]


def _days(value, field: str, low: int = 1, high: int = 366) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"A whole number of days from {low} to {high}.", field)
    return value


def relevel_all(settings: RiskSettings) -> int:
    """Recompute every risk's levels from the grid and its next review from the cadence; returns how many levels
    changed (each change opens a history period, so the trend shows when the grid moved it)."""
    changed = 0
    for risk in db.session.scalars(select(Risk).order_by(Risk.id)):
        inherent = level_for(settings.grid, risk.inherent_likelihood, risk.inherent_impact)
        level = level_for(settings.grid, risk.likelihood, risk.impact)
        if (inherent, level) != (risk.inherent_level, risk.level):
            risk.inherent_level, risk.level = inherent, level
            history.record_state(risk, cause="grid")
            changed += 1
        cadence.schedule_review(risk, settings)
    return changed


def save_settings(*, review_time: time | None, review_zone: str, review_weekday: int | None, stale_days: int | None,
                  **cells_and_cadence) -> tuple[RiskSettings, int]:
    """Check and save the grid, cadence and review slot, then re-level the register; all or nothing.

    Returns the settings and how many risks changed level.
    """
    grid = check_grid(grid_from_cells(cells_and_cadence))
    cadence_days = {name: _days(cells_and_cadence.get(name), name) for name in CADENCE_FIELDS}
    stale = _days(stale_days, "stale_days", 1, 365)
    check_review_slot(review_weekday=review_weekday if review_weekday is not None else -1, review_zone=review_zone)
    if review_time is None:
        raise Invalid("Give the time the review's agenda is built.", "review_time")
    settings = db.session.get(RiskSettings, 1)
    if settings is None:
        settings = default_settings()
        db.session.add(settings)
    settings.grid = grid
    for name, days in cadence_days.items():
        setattr(settings, name, days)
    settings.stale_days, settings.review_weekday = stale, review_weekday
    settings.review_time, settings.review_zone = review_time, review_zone
    db.session.flush()
    changed = relevel_all(settings)
    db.session.commit()
    return settings, changed
