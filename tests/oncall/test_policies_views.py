"""Escalation policy pages: list, view, create, edit, delete, and who may do what."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.oncall.models import EscalationPolicy
from app.timeutil import UTC
from tests.conftest import form_post

READERS = ["responder", "executive"]
INSIDE_CLOSE_WINDOW = datetime(2027, 1, 27, 9, tzinfo=UTC)  # Wed, BD-2 of Q4 FY27 (window Tue 26 Jan – Wed 3 Feb)
OUTSIDE_CLOSE_WINDOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def policy_count() -> int:
    return db.session.scalar(select(func.count()).select_from(EscalationPolicy))


def page_form(rows: list[dict], **fields) -> dict:
    """The page's form data: policy fields, then step rows as steps-<i>-<field>."""
    data = {"name": "Critical jobs", "description": "", "repeat": "0", "close_mode_max_delay": "5", **fields}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"steps-{index}-{key}"] = value
    return data


def saved_steps(policy_id: int) -> list[tuple[int, list[str]]]:
    db.session.expire_all()
    policy = db.session.get(EscalationPolicy, policy_id)
    return [(step.delay_minutes, [t.schedule.name if t.schedule else t.user.email for t in step.targets])
            for step in policy.steps]


def squash(html: str) -> str:
    """The page's text with tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def error_of(html: str, field_id: str) -> str | None:
    match = re.search(rf'<p id="{re.escape(field_id)}-error" class="error">([^<]*)</p>', html)
    return match.group(1) if match else None


@pytest.fixture
def editor(login_as):
    return login_as("crisis_team")


@pytest.fixture
def targets(make_user, make_schedule):
    """A schedule and two people, as the page's option values."""
    sun = make_schedule("Follow the sun")
    casey, avery = make_user("crisis_team", email="casey@example.com"), make_user("admin", email="avery@example.com")
    return {"sun": f"schedule:{sun.id}", "casey": f"user:{casey.id}", "avery": f"user:{avery.id}",
            "ids": {"sun": sun.id, "casey": casey.id, "avery": avery.id}}


@pytest.fixture
def saved(make_policy, targets):
    ids = targets["ids"]
    return make_policy([{"delay_minutes": 5, "targets": [{"schedule_id": ids["sun"]}]},
                        {"delay_minutes": 10, "targets": [{"user_id": ids["casey"]}, {"user_id": ids["avery"]}]}],
                       repeat=2, close_mode=True, close_mode_max_delay=2, description="Pages the on-call")


# --- list and view -----------------------------------------------------------------------------------------

def test_the_list_shows_steps_repeat_and_close_mode(login_as, saved, make_policy, targets):
    make_policy([{"delay_minutes": 30, "targets": [{"user_id": targets["ids"]["casey"]}]}], name="Vendors")

    html = login_as("executive").get("/policies").get_data(as_text=True)

    rows = re.findall(r'<tr>\s*<td><a href="/policies/\d+">([^<]+)</a></td>\s*<td>(\d+)</td>\s*<td>(\d+)×</td>\s*'
                      r'<td><span class="pill (\w+)">([^<]+)</span>', html)
    assert rows == [("Critical jobs", "2", "2", "amber", "on · ≤ 2 min"), ("Vendors", "1", "0", "grey", "off")]
    assert "New policy" not in html  # executives only read


@pytest.mark.parametrize("role, invitation", [("crisis_team", True), ("responder", False)])
def test_an_empty_list_says_so(login_as, role, invitation):
    html = login_as(role).get("/policies").get_data(as_text=True)

    assert "No escalation policies yet." in html
    assert ("Create one to say who is paged" in html) is invitation
    assert ('href="/policies/new"' in html) is invitation


def test_the_policy_page_shows_steps_by_name_with_close_mode_waits_and_history(login_as, saved, targets):
    with time_machine.travel(OUTSIDE_CLOSE_WINDOW, tick=False):
        html = login_as("responder").get(f"/policies/{saved.id}").get_data(as_text=True)

    steps = re.search(r'<ol class="timeline" data-testid="steps">(.*?)</ol>', html, re.S).group(1)
    # Step 2 waits 10 min, capped to 2 in close mode; step 1's 5 min too.
    assert squash(steps) == ("Step 1: notify whoever is on call in Follow the sun then wait 5 min (2 min in close mode) "
                    "Step 2: notify Crisis Team 1 casey@example.com, Admin 2 avery@example.com "
                    "then wait 10 min (2 min in close mode)")
    assert "runs again, <strong>2</strong> more times" in html
    assert f'href="/history/escalation_policies/{saved.id}"' in html
    assert f'href="/policies/{saved.id}/edit"' not in html  # responders only read
    assert "Not in the close window Next close window (Q4 FY27): Tue 26 Jan 2027 to Wed 03 Feb 2027" in squash(html)
    assert "In close window now" not in html


def test_the_policy_page_says_when_close_mode_is_in_force_now(login_as, saved):
    with time_machine.travel(INSIDE_CLOSE_WINDOW, tick=False):
        html = login_as("executive").get(f"/policies/{saved.id}").get_data(as_text=True)

    assert "<strong>In close window now:</strong>" in html
    assert '<span class="pill amber">Close window now</span>' in html


def test_an_unknown_policy_page_is_404(login_as):
    assert login_as("executive").get("/policies/999").status_code == 404


def test_the_history_link_leads_to_the_policys_changes(login_as, saved):
    response = login_as("executive").get(f"/history/escalation_policies/{saved.id}")

    assert response.status_code == 200
    assert "Critical jobs" in response.get_data(as_text=True)


# --- create ------------------------------------------------------------------------------------------------

def test_an_editor_creates_a_policy_from_the_page(editor, targets):
    data = page_form([{"position": "1", "targets": [targets["sun"]], "delay_minutes": "5"},
                      {"position": "2", "targets": [targets["casey"], targets["avery"]], "delay_minutes": "10"}],
                     repeat="2", close_mode="y", close_mode_max_delay="3")

    response = form_post(editor, "/policies/new", data)

    assert response.status_code == 302
    policy = db.session.scalar(select(EscalationPolicy))
    assert response.headers["Location"] == f"/policies/{policy.id}"
    assert (policy.repeat, policy.close_mode, policy.close_mode_max_delay) == (2, True, 3)
    assert saved_steps(policy.id) == [(5, ["Follow the sun"]), (10, ["casey@example.com", "avery@example.com"])]


def test_rows_follow_their_order_numbers_and_blank_rows_are_ignored(editor, targets):
    data = page_form([{"position": "2", "targets": [targets["casey"]], "delay_minutes": "10"},
                      {"position": "", "targets": [], "delay_minutes": ""},  # left empty
                      {"position": "1", "targets": [targets["sun"]], "delay_minutes": "5"}])

    assert form_post(editor, "/policies/new", data).status_code == 302

    policy = db.session.scalar(select(EscalationPolicy))
    assert saved_steps(policy.id) == [(5, ["Follow the sun"]), (10, ["casey@example.com"])]


@pytest.mark.parametrize("rows, field_id, message", [
    # Notify chosen but no wait: the service names steps[0].delay_minutes, shown on that row.
    ([{"targets": ["casey"], "delay_minutes": ""}], "steps-0-delay_minutes", "The wait must be a whole number"),
    ([{"targets": [], "delay_minutes": "5"}], "steps-0-targets", "Choose at least one schedule or person"),
    ([{"targets": ["casey"], "delay_minutes": "1441"}], "steps-0-delay_minutes", "Number must be between 1 and 1440"),
    ([{"targets": ["casey"], "delay_minutes": "soon"}], "steps-0-delay_minutes", "Not a valid integer value"),
    ([{"targets": ["user:99999"], "delay_minutes": "5"}], "steps-0-targets", "is not a valid choice"),
    # The second saved step is the third row on the page: the error goes to that row.
    ([{"targets": ["casey"], "delay_minutes": "5"}, {"targets": [], "delay_minutes": ""},
      {"targets": [], "delay_minutes": "5"}], "steps-2-targets", "Choose at least one schedule or person"),
])
def test_a_bad_row_is_refused_with_the_error_on_that_row(editor, targets, rows, field_id, message):
    page_rows = [{**row, "targets": [targets.get(t, t) for t in row["targets"]]} for row in rows]

    response = form_post(editor, "/policies/new", page_form(page_rows))

    assert response.status_code == 422
    assert message in (error_of(response.get_data(as_text=True), field_id) or "")
    assert policy_count() == 0


def test_a_policy_with_no_steps_is_refused_with_a_message(editor):
    response = form_post(editor, "/policies/new", page_form([{"targets": [], "delay_minutes": ""}]))

    assert response.status_code == 422
    assert '<p class="error" role="alert">Add at least one step.</p>' in response.get_data(as_text=True)
    assert policy_count() == 0


@pytest.mark.parametrize("fields, field_id, message", [
    ({"name": ""}, "name", "This field is required."),
    ({"repeat": "10"}, "repeat", "Number must be between 0 and 9."),
    ({"repeat": ""}, "repeat", "Repeat must be a whole number from 0 to 9."),  # refused by the service
    ({"close_mode_max_delay": "0"}, "close_mode_max_delay", "Number must be between 1 and 60."),
])
def test_a_bad_policy_field_is_refused_next_to_it(editor, targets, fields, field_id, message):
    data = page_form([{"targets": [targets["casey"]], "delay_minutes": "5"}], **fields)

    response = form_post(editor, "/policies/new", data)

    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), field_id) == message
    assert policy_count() == 0


def test_a_taken_name_is_refused_next_to_the_name(editor, saved, targets):
    response = form_post(editor, "/policies/new", page_form([{"targets": [targets["casey"]], "delay_minutes": "5"}]))

    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "name") == "A policy named Critical jobs already exists."
    assert policy_count() == 1


def test_add_another_step_adds_a_row_and_keeps_what_was_typed_without_saving(editor, targets):
    data = page_form([{"targets": [targets["casey"]], "delay_minutes": "7"}, {"delay_minutes": ""}],
                     name="Half done", add_step="1")

    response = form_post(editor, "/policies/new", data)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('data-testid="step-row"') == 3
    assert 'value="Half done"' in html and 'name="steps-0-delay_minutes" type="number" value="7"' in html
    assert policy_count() == 0


# --- edit and delete ---------------------------------------------------------------------------------------

def test_the_edit_page_shows_the_saved_steps_and_a_blank_row(editor, saved, targets):
    html = editor.get(f"/policies/{saved.id}/edit").get_data(as_text=True)

    assert html.count('data-testid="step-row"') == 3
    selected = re.findall(r'<select[^>]*name="(steps-\d-targets)"[^>]*>(.*?)</select>', html, re.S)
    chosen = {name: re.findall(r'<option selected value="([^"]+)"', options) for name, options in selected}
    assert chosen == {"steps-0-targets": [targets["sun"]], "steps-1-targets": [targets["avery"], targets["casey"]],  # by name
                      "steps-2-targets": []}


def test_an_editor_removes_and_reorders_steps(editor, saved, targets):
    data = page_form([{"position": "2", "targets": [targets["sun"]], "delay_minutes": "5"},
                      {"position": "1", "targets": [targets["avery"]], "delay_minutes": "3", "remove": ""},
                      {"position": "3", "targets": [targets["casey"]], "delay_minutes": "9", "remove": "y"}],
                     repeat="1", close_mode="y", close_mode_max_delay="2")

    response = form_post(editor, f"/policies/{saved.id}/edit", data)

    assert response.status_code == 302
    assert saved_steps(saved.id) == [(3, ["avery@example.com"]), (5, ["Follow the sun"])]


def test_a_refused_edit_keeps_the_saved_steps(editor, saved, targets):
    before = saved_steps(saved.id)
    data = page_form([{"targets": [targets["sun"]], "delay_minutes": "1"}, {"targets": [], "delay_minutes": "4"}],
                     name="Renamed")

    response = form_post(editor, f"/policies/{saved.id}/edit", data)

    assert response.status_code == 422
    assert saved_steps(saved.id) == before
    assert db.session.get(EscalationPolicy, saved.id).name == "Critical jobs"



def test_a_person_deactivated_since_stays_visible_and_must_be_replaced(editor, saved, targets):
    casey = db.session.get(EscalationPolicy, saved.id).steps[1].targets[0].user
    casey.active = False
    db.session.commit()

    html = editor.get(f"/policies/{saved.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{targets["casey"]}">{casey.name} (deactivated)</option>' in html

    data = page_form([{"targets": [targets["sun"]], "delay_minutes": "5"},
                      {"targets": [targets["casey"], targets["avery"]], "delay_minutes": "10"}])
    response = form_post(editor, f"/policies/{saved.id}/edit", data)

    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "steps-1-targets") == \
        f"{casey.name} is deactivated; choose someone who can be reached."


def test_an_edit_counts_only_what_was_submitted(editor, saved, targets):
    # The row's wait input is missing from the post: it must not fall back to the saved 5 minutes.
    data = page_form([{"position": "1", "targets": [targets["sun"]]}])

    response = form_post(editor, f"/policies/{saved.id}/edit", data)

    assert response.status_code == 422
    assert "The wait must be a whole number" in error_of(response.get_data(as_text=True), "steps-0-delay_minutes")

def test_an_editor_deletes_a_policy(editor, saved):
    response = form_post(editor, f"/policies/{saved.id}/delete", {}, page_url=f"/policies/{saved.id}/edit")

    assert response.status_code == 302 and response.headers["Location"] == "/policies"
    assert policy_count() == 0


# --- who may do what ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("method, path", [
    ("GET", "/policies/new"), ("POST", "/policies/new"), ("GET", "/policies/{id}/edit"),
    ("POST", "/policies/{id}/edit"), ("POST", "/policies/{id}/delete"),
])
def test_readers_cannot_write_policies(login_as, saved, targets, role, method, path):
    client = login_as(role)
    data = page_form([{"targets": [targets["casey"]], "delay_minutes": "5"}], name="Mine")

    url = path.format(id=saved.id)
    # A valid CSRF token (read from a page readers may open), so that the role check is what answers.
    response = client.get(url) if method == "GET" else form_post(client, url, data, page_url="/policies")

    assert response.status_code == 403
    assert saved_steps(saved.id)[0] == (5, ["Follow the sun"])
    assert policy_count() == 1


@pytest.mark.parametrize("role", ["admin", "crisis_team"])
def test_editors_see_the_edit_link(login_as, saved, role):
    html = login_as(role).get(f"/policies/{saved.id}").get_data(as_text=True)

    assert f'href="/policies/{saved.id}/edit"' in html

