"""The risk pages: creating and editing, the status form, actions, comments, links, and a history that shows every
change."""
from __future__ import annotations

import re

from datetime import timedelta

import pytest

from app.extensions import db
from app.risks.models import Risk
from app.vendors import services as vendors
from tests.conftest import form_post
from tests.risks.support import risk_fields


def form_of(owner, **fields) -> dict:
    values = risk_fields(owner, **fields)
    return {key: "" if value is None else value for key, value in values.items()}


def test_the_crisis_team_creates_a_risk_from_the_form(app, login_as, owner):
    client = login_as("crisis_team")
    response = form_post(client, "/risks/new", form_of(owner, title="ERP database node", likelihood=4, impact=5,
                                                       exposure="2500000"))
    assert response.status_code == 302
    risk = db.session.scalar(db.select(Risk))
    assert response.headers["Location"] == f"/risks/{risk.id}"
    assert (risk.title, risk.level.value, str(risk.exposure), risk.owner_id) == \
        ("ERP database node", "critical", "2500000.00", owner.id)
    page = client.get(f"/risks/{risk.id}").get_data(as_text=True)
    assert f"R-{risk.id} ERP database node" in page and "2,500,000.00" in page


@pytest.mark.parametrize("fields, field, message", [
    ({"title": ""}, "title", "This field is required."),
    ({"likelihood": "7"}, "likelihood", "Not a valid choice"),
    ({"quarter": "next year"}, "quarter", "Give the quarter as e.g. Q4 FY27."),
    ({"exposure": "-5"}, "exposure", "Number must be at least 0"),
    ({"owner_id": "99999"}, "owner_id", "No active person with id 99999."),
])
def test_bad_input_is_shown_next_to_its_field(app, login_as, owner, fields, field, message):
    client = login_as("crisis_team")
    response = form_post(client, "/risks/new", {**form_of(owner), **fields})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert db.session.scalar(db.select(Risk)) is None


def test_editing_a_score_shows_in_the_history_and_the_score_table(app, login_as, make_risk, owner):
    risk = make_risk(title="Order import backlog", likelihood=4, impact=4)
    client = login_as("crisis_team")
    response = form_post(client, f"/risks/{risk.id}/edit", form_of(owner, title="Order import backlog",
                                                                  likelihood=2, impact=4),
                         page_url=f"/risks/{risk.id}/edit")
    assert response.status_code == 302
    page = client.get(f"/risks/{risk.id}").get_data(as_text=True)
    history = page[page.index('data-testid="history"'):]
    assert f"<strong>update</strong> R-{risk.id} Order import backlog" in history
    # named as on the form, not by their columns
    assert "<th scope=\"row\" title=\"likelihood\">Residual likelihood</th><td>4</td><td>2</td>" in history
    assert "<th scope=\"row\" title=\"level\">Level</th><td>high</td><td>medium</td>" in history
    scores = page[page.index('data-testid="score-history"'):]
    assert scores.index("2×4") < scores.index("4×4")  # newest first
    assert 'data-testid="score-chart"' in page


def test_the_status_form_closes_a_risk_and_refuses_without_a_reason(app, login_as, make_risk):
    risk = make_risk()
    client = login_as("crisis_team")
    refused = form_post(client, f"/risks/{risk.id}/transition", {"transition": "close", "reason": ""},
                        page_url=f"/risks/{risk.id}")
    assert refused.status_code == 422
    assert "Say why the risk is closed." in refused.get_data(as_text=True)
    closed = form_post(client, f"/risks/{risk.id}/transition", {"transition": "close", "reason": "Replaced"},
                       page_url=f"/risks/{risk.id}")
    assert closed.status_code == 302
    db.session.refresh(risk)
    assert risk.status.value == "closed"
    assert "Closed: Replaced" in client.get(f"/risks/{risk.id}").get_data(as_text=True)


def test_the_owner_is_told_on_the_page_that_someone_else_must_accept(app, login_as, make_risk):
    client = login_as("crisis_team")
    risk = make_risk(owner_id=client.user.id)
    response = form_post(client, f"/risks/{risk.id}/transition",
                         {"transition": "accept", "reason": "Tolerable",
                          "expires_on": (risk.created_at.date() + timedelta(days=20)).isoformat()},
                         page_url=f"/risks/{risk.id}")
    assert response.status_code == 422
    assert "You own this risk" in response.get_data(as_text=True)


def test_actions_are_added_flagged_and_finished_from_the_risk_page(app, login_as, make_risk, owner):
    risk = make_risk(quarter="Q4 FY27")
    client = login_as("crisis_team")
    added = form_post(client, f"/risks/{risk.id}/actions", {"description": "Second data centre link",
                                                            "owner_id": owner.id, "due_on": "2027-03-15"},
                      page_url=f"/risks/{risk.id}")
    assert added.status_code == 302
    page = client.get(f"/risks/{risk.id}").get_data(as_text=True)
    actions_table = page[page.index('data-testid="actions"'):page.index('id="links"')]
    assert "Second data centre link" in actions_table and "after close" in actions_table

    action = risk.actions[0]
    done = form_post(client, f"/risks/{risk.id}/actions/{action.id}/status", {"status": "done"},
                     page_url=f"/risks/{risk.id}")
    assert done.status_code == 302
    db.session.refresh(action)
    assert action.status.value == "done"
    history = client.get(f"/risks/{risk.id}").get_data(as_text=True).split('data-testid="history"')[1]
    assert f"<strong>update</strong> R-{risk.id} action: Second data centre link" in history
    assert "<th scope=\"row\" title=\"status\">Status</th><td>todo</td><td>done</td>" in history
    refused = form_post(client, f"/risks/{risk.id}/actions/{action.id}/status", {"status": "dropped"},
                        page_url=f"/risks/{risk.id}")
    assert refused.status_code == 422 and "Say why the action is dropped." in refused.get_data(as_text=True)


def test_an_action_is_edited_on_its_own_page(app, login_as, make_risk, owner):
    risk = make_risk()
    client = login_as("crisis_team")
    form_post(client, f"/risks/{risk.id}/actions", {"description": "Draft", "owner_id": owner.id,
                                                    "due_on": (risk.created_at.date() + timedelta(days=9)).isoformat()},
              page_url=f"/risks/{risk.id}")
    action = risk.actions[0]
    url = f"/risks/{risk.id}/actions/{action.id}/edit"
    saved = form_post(client, url, {"description": "Final wording", "owner_id": owner.id,
                                    "due_on": action.due_on.isoformat()})
    assert saved.status_code == 302
    db.session.refresh(action)
    assert action.description == "Final wording"


def test_comments_are_listed_newest_first(app, login_as, make_risk):
    risk = make_risk()
    client = login_as("crisis_team")
    for body in ("First thought", "Second thought"):
        form_post(client, f"/risks/{risk.id}/comments", {"body": body}, page_url=f"/risks/{risk.id}")
    page = client.get(f"/risks/{risk.id}").get_data(as_text=True)
    assert page.index("Second thought") < page.index("First thought")
    assert client.user.name in page


def test_a_risk_links_to_a_vendor_by_name_and_the_link_opens_it(app, login_as, make_risk):
    vendor = vendors.create_vendor(name="Orbis ERP", tier="critical")
    risk = make_risk()
    client = login_as("crisis_team")
    linked = form_post(client, f"/risks/{risk.id}/links", {"target": "Vendor · Orbis ERP"},
                       page_url=f"/risks/{risk.id}")
    assert linked.status_code == 302
    page = client.get(f"/risks/{risk.id}").get_data(as_text=True)
    assert f'<a href="/vendors/{vendor.id}">Orbis ERP</a>' in page
    missing = form_post(client, f"/risks/{risk.id}/links", {"target": "Job · Gone", "kind": "job", "target_id": 999},
                        page_url=f"/risks/{risk.id}")
    assert missing.status_code == 422 and "No job with id 999." in missing.get_data(as_text=True)

    link = risk.links[0]
    assert form_post(client, f"/risks/{risk.id}/links/{link.id}/delete", {}, page_url=f"/risks/{risk.id}") \
        .status_code == 302
    page = client.get(f"/risks/{risk.id}").get_data(as_text=True)
    assert "Not linked to anything." in page
    assert f"<strong>delete</strong> R-{risk.id} link vendor: Orbis ERP" in page  # the trail keeps the removed link


def test_everyone_reads_the_register_but_only_editors_change_it(app, login_as, make_risk):
    risk = make_risk()
    responder = login_as("responder")
    assert responder.get(f"/risks/{risk.id}").status_code == 200
    assert f'action="/risks/{risk.id}/transition"' not in responder.get(f"/risks/{risk.id}").get_data(as_text=True)
    assert responder.get("/risks/new").status_code == 403
    assert form_post(responder, f"/risks/{risk.id}/comments", {"body": "x"}, page_url=f"/risks/{risk.id}") \
        .status_code == 403


def test_the_register_exports_csv_for_everyone(app, login_as, make_risk):
    make_risk(title="Exported risk")
    response = login_as("executive").get("/risks/export.csv")
    assert response.mimetype == "text/csv"
    assert "Exported risk" in response.get_data(as_text=True)
    assert response.headers["Content-Disposition"] == 'attachment; filename="quarterdeck-risks.csv"'


def test_a_new_risk_must_be_scored_its_four_scores_start_unchosen(app, login_as, owner):
    client = login_as("crisis_team")
    page = client.get("/risks/new").get_data(as_text=True)
    for name in ("inherent_likelihood", "inherent_impact", "likelihood", "impact"):
        select = page[page.index(f'name="{name}"'):]
        select = select[:select.index("</select>")]
        assert re.search(r'<option selected value="">Choose…</option>', select), name  # nothing pre-chosen

    response = form_post(client, "/risks/new", form_of(owner, title="Unscored", likelihood=None, impact=None,
                                                       inherent_likelihood=None, inherent_impact=None))
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("Score it: choose 1 to 5.") == 4
    assert db.session.scalar(db.select(Risk).where(Risk.title == "Unscored")) is None
