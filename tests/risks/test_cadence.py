"""Review cadence by level: each risk's next review date, and overdue reviews."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.risks import cadence, services, workflow
from app.risks.scoring import current_settings
from app.risks.settings import save_settings, settings_values
from tests.risks.fixtures import TUESDAY

TODAY = date(2026, 11, 17)


@pytest.mark.parametrize("likelihood, impact, level, days", [
    (5, 5, "critical", 7), (4, 4, "high", 14), (3, 3, "medium", 30), (1, 1, "low", 91),
])
def test_a_new_risk_is_next_reviewed_after_the_cadence_of_its_level(app, make_risk, at, likelihood, impact,
                                                                     level, days):
    with at(TUESDAY):
        risk = make_risk(likelihood=likelihood, impact=impact)
    assert risk.level.value == level
    assert risk.next_review_on == TODAY + timedelta(days=days)


def test_a_review_moves_the_next_one_a_full_cadence_from_the_day_of_the_review(app, make_risk, at):
    with at(TUESDAY):
        risk = make_risk(likelihood=4, impact=4)
    with at(TUESDAY + timedelta(days=20)):
        assert cadence.is_review_overdue(risk, cadence.team_today(current_settings()))
        services.mark_risk_reviewed(risk)
    assert risk.last_reviewed_at == TUESDAY + timedelta(days=20)
    assert risk.next_review_on == TODAY + timedelta(days=20 + 14)


def test_a_risk_that_becomes_critical_is_due_a_week_after_its_last_review(app, make_risk, at):
    with at(TUESDAY):
        risk = make_risk(likelihood=2, impact=2)  # low: a quarter
    with at(TUESDAY + timedelta(days=10)):
        services.update_risk(risk, **{**services.risk_fields(risk), "likelihood": 5, "impact": 5})
        overdue = cadence.is_review_overdue(risk, cadence.team_today(current_settings()))
    assert risk.next_review_on == TODAY + timedelta(days=7)
    assert overdue  # created ten days ago and never reviewed: a critical risk is late


def test_changing_the_cadence_moves_every_next_review(app, make_risk, at):
    with at(TUESDAY):
        risk = make_risk(likelihood=4, impact=4)
        values = settings_values(current_settings())
        save_settings(**{**values, "cadence_high_days": 3})
    assert risk.next_review_on == TODAY + timedelta(days=3)


@pytest.mark.parametrize("move, extra", [("close", {"reason": "Gone"}),
                                         ("accept", {"reason": "Tolerable", "expires_on": TODAY + timedelta(days=9)})])
def test_closed_and_accepted_risks_are_not_reviewed_by_cadence(app, make_risk, make_user, at, move, extra):
    with at(TUESDAY):
        risk = make_risk()
        workflow.change_status(risk, transition=move, actor=make_user("admin"), **extra)
    assert risk.next_review_on is None
    assert not cadence.is_review_overdue(risk, TODAY + timedelta(days=400))


def test_the_register_flags_and_filters_overdue_reviews(app, make_risk, login_as, at):
    with at(TUESDAY - timedelta(days=30)):
        late = make_risk(title="Late review", likelihood=5, impact=5)
    with at(TUESDAY):
        make_risk(title="Fresh risk", likelihood=5, impact=5)
        client = login_as("executive")
        page = client.get("/risks?overdue=review").get_data(as_text=True)
    assert "Late review" in page and "Fresh risk" not in page
    with at(TUESDAY):
        risk_page = client.get(f"/risks/{late.id}").get_data(as_text=True)
    assert "Review overdue: it was due on 2026-10-25" in risk_page
