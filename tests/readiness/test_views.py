"""Readiness pages by role: executives read everything and edit nothing; the crisis team edits; owners update theirs."""
from __future__ import annotations

import re

import pytest

from app.readiness import checklist
from app.timeutil import fiscal_quarter
from tests.conftest import form_post

Q4 = fiscal_quarter(2027, 4)


@pytest.fixture
def owned_item(app, make_user):
    owner = make_user("responder", name="Owen Owner")
    checklist.save_template_item(title="Refresh contacts", track="people", owner_id=owner.id, bd_offset=-20)
    checklist.instantiate_quarter(quarter=Q4, by="test")
    return checklist.quarter_items(Q4)[0]


def test_the_nav_and_the_home_page_lead_to_the_readiness_page(login_as):
    page = login_as("executive").get("/").get_data(as_text=True)
    assert 'href="/readiness"' in page and 'data-testid="readiness-card"' in page


def test_the_executive_page_shows_score_tracks_reasons_and_links_but_no_edit_control(login_as, make_risk):
    risk = make_risk(likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
    response = login_as("executive").get("/readiness")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    main = page[page.index('<main'):]
    assert 'data-testid="overall-score"' in main and "Q4 FY27 close readiness" in main
    assert f'href="/risks/{risk.id}"' in main  # the reason links to the record
    assert "not tracked yet" in main  # the empty domains say so
    assert "No DR test passed this quarter" in main  # the gate is written down
    # The only form is the quarter picker, which reads (GET); nothing posts.
    assert re.findall(r"<form[^>]*>", main) == [
        '<form class="no-print quarter-picker" method="get" action="/readiness" data-testid="quarter-picker">']
    assert "What to chase" not in main


def test_the_crisis_team_also_sees_what_to_chase_per_owner(login_as, owned_item, clock):
    clock.move_to("2027-01-05T12:00:00+00:00")  # the item (due 1 January) is overdue
    page = login_as("crisis_team").get("/readiness").get_data(as_text=True)
    chase = page[page.index('data-testid="what-to-chase"'):]
    assert "Owen Owner" in chase and "Refresh contacts" in chase


def test_a_bad_quarter_in_the_address_is_a_422_not_a_500(login_as):
    assert login_as("executive").get("/readiness?quarter=nonsense").status_code == 422


def test_the_checklist_shows_forms_only_to_those_who_may_update(login_as, owned_item):
    url = "/readiness/checklist?quarter=FY27-Q4"
    assert "<form" not in _main(login_as("executive").get(url))
    assert f'action="/readiness/items/{owned_item.id}"' in _main(login_as("crisis_team").get(url))


def _main(response) -> str:
    page = response.get_data(as_text=True)
    return page[page.index("<main"):]


def test_an_owner_completes_their_own_item(app, client, owned_item):
    from tests.conftest import log_in
    log_in(client, owned_item.owner.email)
    response = form_post(client, f"/readiness/items/{owned_item.id}", {"status": "done", "evidence": "Checked"},
                         page_url="/readiness/checklist?quarter=FY27-Q4")
    assert response.status_code == 302
    assert checklist.get_item(owned_item.id).status == "done"


@pytest.mark.parametrize("role", ["responder", "executive"])
def test_someone_elses_item_cannot_be_updated(login_as, owned_item, role):
    client = login_as(role)
    response = form_post(client, f"/readiness/items/{owned_item.id}", {"status": "done"}, page_url="/readiness")
    assert response.status_code == 403
    assert checklist.get_item(owned_item.id).status == "todo"


def test_not_applicable_without_a_reason_is_shown_on_the_field(login_as, owned_item):
    client = login_as("crisis_team")
    response = form_post(client, f"/readiness/items/{owned_item.id}", {"status": "na"},
                         page_url="/readiness/checklist?quarter=FY27-Q4")
    assert response.status_code == 422
    assert "Say why it does not apply." in response.get_data(as_text=True)


def test_the_crisis_team_creates_a_quarters_checklist_by_hand_and_executives_cannot(login_as, make_user):
    checklist.save_template_item(title="Change freeze", track="checklist", owner_role="Change manager", bd_offset=-5)
    executive = login_as("executive")
    assert form_post(executive, "/readiness/checklist/create", {"quarter": "FY28-Q1"},
                     page_url="/readiness").status_code == 403
    crisis = login_as("crisis_team")
    response = form_post(crisis, "/readiness/checklist/create", {"quarter": "FY28-Q1"},
                         page_url="/readiness/checklist?quarter=FY28-Q1")
    assert response.status_code == 302
    assert [item.title for item in checklist.quarter_items(fiscal_quarter(2028, 1))] == ["Change freeze"]


def test_the_template_is_edited_by_the_crisis_team_only(login_as):
    assert login_as("executive").get("/readiness/template/new").status_code == 403
    crisis = login_as("crisis_team")
    response = form_post(crisis, "/readiness/template/new", {
        "title": "Loaner laptops ready", "track": "checklist", "owner_role": "IT service desk", "bd_offset": "-10"})
    assert response.status_code == 302
    assert [line.title for line in checklist.list_template()] == ["Loaner laptops ready"]
    refused = form_post(crisis, "/readiness/template/new", {"title": "No owner", "track": "checklist",
                                                            "bd_offset": "-10"})
    assert refused.status_code == 422 and "Name an owner" in refused.get_data(as_text=True)


def test_lessons_are_recorded_by_the_crisis_team_and_read_by_everyone(login_as):
    assert login_as("responder").post("/readiness/lessons/new", data={}).status_code in (400, 403)
    crisis = login_as("crisis_team")
    response = form_post(crisis, "/readiness/lessons/new", {
        "title": "Numbers were stale", "recommendation": "Confirm by BD-20", "learned_in": "FY27-Q3",
        "target_quarter": "FY27-Q4"}, page_url="/readiness/lessons")
    assert response.status_code == 302
    page = login_as("executive").get("/readiness/lessons")
    assert "Numbers were stale" in page.get_data(as_text=True) and "<form" not in _main(page)
