"""A crisis-team member runs the weekly risk review in the browser, from the agenda to the minutes: one score is
changed, one action added, and the keyboard walks the agenda. Runs against the demo company."""
from __future__ import annotations

import re
from datetime import date, timedelta

from app.seed import DEMO_PASSWORD
from tests.browser.helpers import open_place

CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


def sign_in(page, email: str):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def item_heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def test_a_crisis_team_member_runs_the_weekly_review_from_agenda_to_minutes(page, live_server):
    page.add_init_script(CSP_WATCH)
    sign_in(page, "crisis@acme.example")
    page.wait_for_url(f"{live_server}/")
    open_place(page, "Reviews")
    page.wait_for_url(re.compile(r"/reviews$"))
    build = page.get_by_role("button", name="Build this week's agenda now")
    if build.count():
        build.click()
    else:  # the scheduler of another journey's run may have built it already
        page.get_by_role("link", name=re.compile(r"^Risk review \d{4}-W\d{2}$")).click()
    page.wait_for_url(re.compile(r"/reviews/\d+$"))
    agenda = page.get_by_test_id("agenda").locator("li")
    assert agenda.count() >= 3, "the demo week should have a real agenda"

    start = page.get_by_role("button", name="Start the meeting")
    if start.count():
        start.click()
    else:  # another journey already recorded a decision this week, which started the meeting
        page.goto(page.url + "/meeting?item=1")
    page.wait_for_url(re.compile(r"/meeting\?item=1$"))
    assert page.get_by_test_id("position").inner_text().startswith("Item 1 of")
    first = item_heading(page)

    # Item 1: the team lowers the residual likelihood by one.
    residual = page.get_by_test_id("changes")  # the "since the last review" block is there for the team to read
    assert residual.is_visible()
    page.get_by_label("Change the score").check()
    current = int(page.get_by_label("New residual likelihood").input_value())
    new_likelihood = current - 1 if current > 1 else current + 1
    page.get_by_label("New residual likelihood").select_option(str(new_likelihood))
    page.get_by_label("Note for the minutes").fill("Load test passed at 3x")
    page.get_by_role("button", name="Record the decision").click()
    # The page stays on the item: a meeting often takes more than one decision on a risk.
    page.wait_for_url(re.compile(r"/meeting\?item=1$"))
    assert page.get_by_text(re.compile(r"Residual score \d×\d \(\w+\) → \d×\d")).first.is_visible()
    assert page.get_by_test_id("decision").inner_text().startswith("Change the score")
    page.get_by_label("Add an action").check()
    page.get_by_label("Action", exact=True).fill("Run the load test again at 4x")
    page.get_by_label("Action owner").select_option(label="Rowan Responder")
    page.get_by_label("Action due").fill((date.today() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(re.compile(r"/meeting\?item=1$"))
    assert page.get_by_test_id("decision").count() == 2

    # The keyboard walks the agenda: on to item 2, back to item 1, forward again.
    page.locator("body").press("j")
    page.wait_for_url(re.compile(r"/meeting\?item=2$"))
    page.locator("body").press("ArrowLeft")
    page.wait_for_url(re.compile(r"/meeting\?item=1$"))
    assert item_heading(page) == first
    page.locator("body").press("j")
    page.wait_for_url(re.compile(r"/meeting\?item=2$"))

    # Item 2: the team adds an action.
    due = (date.today() + timedelta(days=10)).isoformat()
    page.get_by_label("Add an action").check()
    page.get_by_label("Action", exact=True).fill("Rehearse the failover with the vendor")
    page.get_by_label("Action owner").select_option(label="Rowan Responder")
    page.get_by_label("Action due").fill(due)
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(re.compile(r"/meeting\?item=2$"))
    assert page.get_by_text("Action added: Rehearse the failover with the vendor").first.is_visible()

    page.get_by_role("link", name="Finish the meeting").click()
    page.wait_for_url(re.compile(r"/finish$"))
    assert page.get_by_label("Casey Crisis").is_checked()
    page.get_by_label("Avery Admin").check()
    page.get_by_label("Summary").fill("Three decisions; the rest carried to next week.")
    page.get_by_role("button", name="Finish and save the minutes").click()
    page.wait_for_url(re.compile(r"/reviews/\d+/minutes$"))

    minutes = page.get_by_test_id("minutes")
    assert "Avery Admin, Casey Crisis" in page.get_by_test_id("attendees").inner_text()
    decisions = page.get_by_test_id("minutes-decisions").inner_text()
    assert "Change the score" in decisions and "Load test passed at 3x" in decisions
    assert "Add an action" in decisions and "Rehearse the failover with the vendor" in decisions
    assert "Run the load test again at 4x" in decisions
    assert "Not discussed" in minutes.inner_text()
    markdown = page.get_by_role("link", name="Download as Markdown").get_attribute("href")
    assert markdown.endswith("/minutes.md")
    assert page.evaluate("window.__cspViolations") == []
