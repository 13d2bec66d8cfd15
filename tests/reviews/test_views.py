"""Review pages: the list, building this week's agenda, meeting mode, finishing and the minutes."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.reviews.agenda import build_review
from app.reviews.models import RiskReview
from app.risks import actions
from tests.conftest import form_post
from tests.risks.fixtures import TUESDAY


@pytest.fixture
def review(app, make_risk, at):
    with at(TUESDAY - timedelta(days=2)):
        make_risk(title="Order import backlog", likelihood=4, impact=4)
        make_risk(title="Tax engine outage", likelihood=3, impact=3)
    with at(TUESDAY):
        built, _created = build_review()
    return built


def test_the_list_offers_to_build_this_weeks_agenda_which_builds_it_once(app, make_risk, login_as):
    make_risk(title="Fresh risk")
    client = login_as("crisis_team")
    page = client.get("/reviews").get_data(as_text=True)
    assert "Build this week's agenda now" in page and "No review yet." in page
    built = form_post(client, "/reviews/build", {}, page_url="/reviews")
    review = db.session.scalar(db.select(RiskReview))
    assert built.status_code == 302 and built.headers["Location"] == f"/reviews/{review.id}"
    again = form_post(client, "/reviews/build", {}, page_url="/reviews")
    assert again.headers["Location"] == f"/reviews/{review.id}"
    assert "already exists" in client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert review.built_by == client.user.email
    assert "Build this week's agenda now" not in client.get("/reviews").get_data(as_text=True)


def test_the_review_page_lists_the_agenda_with_its_reasons(review, login_as):
    page = login_as("executive").get(f"/reviews/{review.id}").get_data(as_text=True)
    agenda = page[page.index('data-testid="agenda"'):]
    first, second = (item.risk_id for item in review.items)
    assert agenda.index(f"R-{first} Order import backlog") < agenda.index(f"R-{second} Tax engine outage")
    assert 'data-reason="new"' in agenda and "Start the meeting" not in page  # executives read only


def test_meeting_mode_walks_the_agenda_with_links_and_keys(review, login_as):
    client = login_as("crisis_team")
    start = form_post(client, f"/reviews/{review.id}/start", {}, page_url=f"/reviews/{review.id}")
    assert start.headers["Location"] == f"/reviews/{review.id}/meeting?item=1"
    first = client.get(f"/reviews/{review.id}/meeting?item=1").get_data(as_text=True)
    assert "Item 1 of 2" in first and 'id="prev-item"' not in first
    assert f'href="/reviews/{review.id}/meeting?item=2" rel="next" id="next-item"' in first
    assert re.search(r'<script src="/static/js/meeting.js\?v=[0-9a-f]+" defer></script>', first)
    assert "New: the risk did not exist when the last review was built." in first
    second = client.get(f"/reviews/{review.id}/meeting?item=2").get_data(as_text=True)
    assert "Item 2 of 2" in second and f'href="/reviews/{review.id}/finish" rel="next" id="next-item"' in second
    assert client.get("/static/js/meeting.js").status_code == 200


def test_a_decision_from_the_meeting_page_stays_on_the_item_for_another(review, owner, login_as):
    client = login_as("crisis_team")
    url = f"/reviews/{review.id}/meeting?item=1"
    item = review.items[0]
    decided = form_post(client, f"/reviews/{review.id}/items/{item.id}/decision",
                        {"decision": "change_score", "likelihood": "2", "impact": "4", "note": "Better"},
                        page_url=url)
    assert decided.status_code == 302 and decided.headers["Location"] == url
    db.session.refresh(item)
    assert (item.decision_values, item.risk.likelihood) == (["change_score"], 2)
    page = client.get(url).get_data(as_text=True)
    assert "Residual score 4×4 (high) → 2×4 (medium)." in page and 'data-testid="decision-form"' in page
    assert f'href="/reviews/{review.id}/meeting?item=2">Next item →</a>' in page

    second = form_post(client, f"/reviews/{review.id}/items/{item.id}/decision",
                       {"decision": "add_action", "action_description": "Add workers", "action_owner_id": str(owner.id),
                        "action_due_on": "2030-01-15"}, page_url=url)
    assert second.status_code == 302
    db.session.refresh(item)
    assert item.decision_values == ["change_score", "add_action"]
    assert client.get(url).get_data(as_text=True).count('data-testid="decision"') == 2


def test_meeting_mode_shows_the_residual_score_then_and_now_once_the_meeting_changed_it(app, make_risk, owner,
                                                                                         login_as, at):
    last_week = TUESDAY - timedelta(days=7)
    with at(last_week - timedelta(days=1)):
        risk = make_risk(title="Order import backlog", likelihood=4, impact=4)
    with at(last_week):
        build_review()  # the risk was 4×4 when the last review was built
    with at(TUESDAY - timedelta(days=1)):
        actions.add_action(risk, description="Add workers", owner_id=owner.id, due_on=date(2026, 11, 20))
    with at(TUESDAY):
        review, _created = build_review()
    [item] = review.items
    url = f"/reviews/{review.id}/meeting?item=1"
    with at(TUESDAY + timedelta(minutes=10)):
        client = login_as("crisis_team")
        before = client.get(url).get_data(as_text=True)
        decided = form_post(client, f"/reviews/{review.id}/items/{item.id}/decision",
                            {"decision": "change_score", "likelihood": "2", "impact": "4"}, page_url=url)
        after = client.get(url).get_data(as_text=True)

    def changes(page):
        return page[page.index('data-testid="changes"'):page.index("<h2>Actions</h2>")]

    assert "Score and status unchanged: residual 4×4, open." in changes(before)
    assert decided.status_code == 302
    assert "Then residual 4×4 (high, open) → now 2×4 (medium, open)." in changes(after)
    assert "unchanged" not in changes(after)


def test_a_refused_decision_is_shown_next_to_its_field(review, login_as):
    client = login_as("crisis_team")
    item = review.items[1]
    refused = form_post(client, f"/reviews/{review.id}/items/{item.id}/decision",
                        {"decision": "close", "reason": ""}, page_url=f"/reviews/{review.id}/meeting?item=2")
    assert refused.status_code == 422
    assert re.search(r'id="reason-error" class="error">Say why the risk is closed.', refused.get_data(as_text=True))
    db.session.refresh(item)
    assert item.decisions == [] and item.risk.status.value == "open"


def test_finishing_shows_the_minutes_and_the_markdown(review, login_as):
    client = login_as("crisis_team")
    finish = client.get(f"/reviews/{review.id}/finish").get_data(as_text=True)
    assert "2 items without a decision will be minuted as not discussed" in finish
    assert f'<input checked id="attendee_ids-0" name="attendee_ids" type="checkbox" value="{client.user.id}">' \
        in finish  # whoever finishes is ticked; the rest of the team is offered
    done = form_post(client, f"/reviews/{review.id}/finish", {"attendee_ids": [client.user.id],
                                                              "summary": "Quick one"})
    assert done.status_code == 302 and done.headers["Location"] == f"/reviews/{review.id}/minutes"
    minutes = client.get(f"/reviews/{review.id}/minutes").get_data(as_text=True)
    assert client.user.name in minutes and "Quick one" in minutes and "Not discussed" in minutes
    markdown = client.get(f"/reviews/{review.id}/minutes.md")
    assert markdown.mimetype == "text/markdown"
    assert markdown.headers["Content-Disposition"] == 'attachment; filename="risk-review-2026-W47.md"'
    assert markdown.get_data(as_text=True).startswith("# Weekly risk review 2026-W47")


def test_finishing_without_attendees_is_refused(review, login_as):
    client = login_as("crisis_team")
    refused = form_post(client, f"/reviews/{review.id}/finish", {"summary": "Nobody came"})
    assert refused.status_code == 422 and "Tick who attended" in refused.get_data(as_text=True)


def test_only_the_crisis_team_and_admins_run_the_meeting(review, login_as):
    responder = login_as("responder")
    assert responder.get(f"/reviews/{review.id}/meeting").status_code == 200
    item = review.items[0]
    assert form_post(responder, f"/reviews/{review.id}/items/{item.id}/decision", {"decision": "keep"},
                     page_url=f"/reviews/{review.id}/meeting").status_code == 403
    assert responder.get(f"/reviews/{review.id}/finish").status_code == 403


def test_a_risk_raised_after_the_agenda_was_built_joins_this_weeks_meeting(review, make_risk, login_as, at):
    with at(TUESDAY + timedelta(hours=2)):
        late = make_risk(title="Bank cut-off moved", likelihood=4, impact=5)
    client = login_as("crisis_team")
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    offered = page[page.index('data-testid="add-to-agenda"'):]
    assert f'<option value="{late.id}">R-{late.id} Bank cut-off moved</option>' in offered
    assert "Order import backlog" not in offered[:offered.index("</form>")]  # already on the agenda

    added = form_post(client, f"/reviews/{review.id}/items", {"risk_id": late.id}, page_url=f"/reviews/{review.id}")
    assert added.status_code == 302
    db.session.expire_all()
    item = next(item for item in db.session.get(RiskReview, review.id).items if item.risk_id == late.id)
    assert (item.position, item.reasons) == (3, ["added"])
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Added during the week" in page and f"R-{late.id} added to the agenda as item 3." in page
    assert "Item 3 of 3" in client.get(f"/reviews/{review.id}/meeting?item=3").get_data(as_text=True)

    again = form_post(client, f"/reviews/{review.id}/items", {"risk_id": late.id}, page_url=f"/reviews/{review.id}")
    assert f"R-{late.id} is already on this agenda." in client.get(again.headers["Location"]).get_data(as_text=True)
    nonsense = form_post(client, f"/reviews/{review.id}/items", {"risk_id": "x"}, page_url=f"/reviews/{review.id}")
    assert "Choose a live risk." in client.get(nonsense.headers["Location"]).get_data(as_text=True)
