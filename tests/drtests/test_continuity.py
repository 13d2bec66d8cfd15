"""Business continuity plans (flagged when never exercised or overdue for review) and alternate sites."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.drtests import continuity
from app.drtests.continuity import PlanFlag
from app.errors import Conflict, Invalid
from tests.conftest import form_post


def test_a_plan_never_exercised_or_overdue_for_review_is_flagged(app, make_user, clock):
    owner = make_user()
    plan = continuity.save_plan(None, name="Order fulfilment", owner_id=owner.id, review_due=date(2026, 12, 1))
    assert continuity.plan_flags(plan, date(2026, 11, 24)) == [PlanFlag.NEVER_EXERCISED]
    continuity.record_simulation(plan, user=owner, held_on=date(2026, 11, 20), result="passed_with_issues")
    assert continuity.plan_flags(plan, date(2026, 11, 24)) == []
    assert continuity.plan_flags(plan, date(2026, 12, 2)) == [PlanFlag.REVIEW_OVERDUE]
    assert plan.last_test.held_on == date(2026, 11, 20)


def test_the_latest_simulation_is_the_last_one_held(app, make_user, clock):
    owner = make_user()
    plan = continuity.save_plan(None, name="Strategic sourcing")
    continuity.record_simulation(plan, user=owner, held_on=date(2026, 11, 1), result="failed")
    continuity.record_simulation(plan, user=owner, held_on=date(2026, 8, 1), result="passed")
    assert (plan.last_test.held_on, plan.last_test.result.value) == (date(2026, 11, 1), "failed")
    with pytest.raises(Invalid):
        continuity.record_simulation(plan, user=owner, held_on=date(2027, 1, 1), result="passed")


def test_plans_use_sites_and_names_are_unique(app):
    site = continuity.save_site(None, name="Manila ops room", city="Manila", time_zone="Asia/Manila", capacity=30)
    plan = continuity.save_plan(None, name="Order fulfilment", site_ids=[site.id])
    assert plan.sites == [site]
    with pytest.raises(Conflict):
        continuity.save_plan(None, name="order fulfilment")
    with pytest.raises(Invalid):
        continuity.save_site(None, name="Nowhere", time_zone="Mars/Olympus")


def test_a_site_readiness_check_records_who_and_when(login_as, clock):
    site = continuity.save_site(None, name="Reading DR site", city="Reading", time_zone="Europe/London", capacity=40)
    client = login_as("crisis_team")
    response = form_post(client, f"/drtests/continuity/sites/{site.id}/check", {"notes": "badges work"},
                         page_url="/drtests/continuity")
    assert response.status_code == 303
    assert site.last_check_by_id == client.user.id and site.last_check_at == datetime(2026, 11, 24, 8, tzinfo=UTC)
    html = client.get("/drtests/continuity").get_data(as_text=True)
    assert "badges work" in html


def test_the_continuity_page_shows_flags_and_empty_states(login_as, make_user, clock):
    client = login_as("executive")
    html = client.get("/drtests/continuity").get_data(as_text=True)
    assert "No continuity plans yet" in html and "No sites yet" in html
    continuity.save_plan(None, name="Order fulfilment")
    html = client.get("/drtests/continuity").get_data(as_text=True)
    assert "never exercised" in html and "no review date" in html
