"""The 5x5 grid: its default levels (as the README prints them), an administrator's edits, and what an edit does to
the register's risks."""
from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.risks import cadence, history
from app.risks.models import RiskScore
from app.risks.scoring import DEFAULT_GRID, check_grid, current_settings, level_for
from app.risks.settings import save_settings, settings_values
from tests.conftest import form_post

README = Path(__file__).resolve().parents[2] / "README.md"


def settings_with(**changes) -> dict:
    values = settings_values(current_settings())
    values.update(changes)
    return values


@pytest.mark.parametrize("likelihood, impact, level", [
    (1, 1, "low"), (1, 5, "medium"), (2, 3, "medium"), (3, 4, "high"), (4, 4, "high"), (4, 5, "critical"),
    (5, 4, "critical"), (5, 1, "medium"), (3, 3, "medium"), (5, 5, "critical"),
])
def test_the_default_grid_gives_the_documented_levels(app, likelihood, impact, level):
    assert level_for(current_settings().grid, likelihood, impact).value == level


def test_the_readme_prints_the_default_grid(app):
    text = README.read_text()
    section = text[text.index("## Risks"):]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*\*\*(\d)\*\*[^|]*\|(.+)\|$", line.strip())
        if match:
            rows[int(match.group(1))] = [cell.strip() for cell in match.group(2).split("|")]
        if len(rows) == 5:
            break
    assert rows == {likelihood: DEFAULT_GRID[likelihood - 1] for likelihood in range(1, 6)}


@pytest.mark.parametrize("cell, value, message", [
    ((3, 3), "severe", "Choose low, medium, high or critical."),
    ((2, 4), "low", "levels must not fall"),  # lower than (2, 3), which is medium
    ((5, 5), "high", "levels must not fall"),  # lower than (5, 4), which is critical
])
def test_a_grid_that_is_malformed_or_lowers_a_bigger_risk_is_refused_naming_the_cell(app, cell, value, message):
    grid = [list(row) for row in DEFAULT_GRID]
    grid[cell[0] - 1][cell[1] - 1] = value
    with pytest.raises(Invalid, match=message) as refused:
        check_grid(grid)
    assert refused.value.field == f"cell_{cell[0]}_{cell[1]}"


def test_a_grid_of_the_wrong_shape_is_refused(app):
    with pytest.raises(Invalid, match="5 rows"):
        check_grid([["low"] * 5] * 4)


def test_editing_the_grid_changes_the_level_of_existing_risks_and_records_it(app, make_risk):
    risk = make_risk(likelihood=3, impact=3, inherent_likelihood=3, inherent_impact=3)
    other = make_risk(likelihood=1, impact=1, inherent_likelihood=1, inherent_impact=1)
    assert risk.level.value == "medium"

    _settings, changed = save_settings(**settings_with(cell_3_3="high"))

    assert changed == 1
    assert (risk.level.value, risk.inherent_level.value) == ("high", "high")
    assert other.level.value == "low"
    periods = history.score_history(risk)
    assert [(p.level.value, p.cause, p.score_changed) for p in periods] == [("medium", "created", True),
                                                                           ("high", "grid", False)]
    assert periods[0].valid_to == periods[1].valid_from


def test_a_new_grid_level_also_moves_the_next_review_to_the_new_cadence(app, make_risk):
    risk = make_risk(likelihood=3, impact=3)
    created = cadence.team_date(current_settings(), risk.created_at)
    assert risk.next_review_on == created + timedelta(days=30)  # medium: monthly

    save_settings(**settings_with(**{f"cell_{l}_{i}": "critical" for l in (3, 4, 5) for i in (3, 4, 5)}))

    assert risk.level.value == "critical"
    assert risk.next_review_on == created + timedelta(days=7)


def test_saved_settings_are_read_back_and_audited(app):
    save_settings(**settings_with(cadence_high_days=10, stale_days=21, review_weekday=3, review_time=time(8, 30),
                                  review_zone="Europe/London"))
    settings = current_settings()
    assert (settings.cadence_high_days, settings.stale_days, settings.review_weekday) == (10, 21, 3)
    assert (settings.review_time, settings.review_zone) == (time(8, 30), "Europe/London")
    assert settings.id == 1 and db.session.scalar(select(RiskScore.id)) is None


@pytest.mark.parametrize("changes, field", [
    ({"cadence_low_days": 0}, "cadence_low_days"), ({"cadence_critical_days": 400}, "cadence_critical_days"),
    ({"review_zone": "Mars/Olympus"}, "review_zone"), ({"review_weekday": 9}, "review_weekday"),
])
def test_bad_settings_are_refused_and_nothing_is_saved(app, changes, field):
    with pytest.raises(Invalid) as refused:
        save_settings(**settings_with(**changes))
    assert refused.value.field == field
    db.session.rollback()
    assert current_settings().cadence_low_days == 91 and current_settings().review_zone == "America/Los_Angeles"


def test_the_settings_page_edits_the_grid_for_admins_only(app, login_as, make_risk):
    risk = make_risk(likelihood=2, impact=2)
    admin = login_as("admin")
    page = admin.get("/risks/settings")
    assert page.status_code == 200 and 'name="cell_2_2"' in page.get_data(as_text=True)

    values = {key: (value.strftime("%H:%M") if hasattr(value, "strftime") else value)
              for key, value in settings_with(cell_2_2="medium").items()}
    saved = form_post(admin, "/risks/settings", values)

    assert saved.status_code == 302
    db.session.refresh(risk)
    assert risk.level.value == "medium"
    assert login_as("crisis_team").get("/risks/settings").status_code == 403


def test_the_settings_page_shows_a_refused_cell_next_to_it(app, login_as):
    admin = login_as("admin")
    values = {key: (value.strftime("%H:%M") if hasattr(value, "strftime") else value)
              for key, value in settings_with(cell_1_2="critical").items()}
    refused = form_post(admin, "/risks/settings", values)

    assert refused.status_code == 422
    assert "levels must not fall" in refused.get_data(as_text=True)
    assert current_settings().grid == DEFAULT_GRID
