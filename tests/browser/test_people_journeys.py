"""The three people Quarterdeck is made for, each on a 390 px phone and on a 1280 px laptop, asserting what they see:

- the responder: home says whether they are on call, an alert paging them is acknowledged in one tap, and a newly
  verified number asks to be added to how they are paged;
- the crisis team: a refused DR step says so on screen, inside the step; "Escalate" in the meeting reaches
  the executive page;
- the executive: the readiness page with its trend chart, bands, quarter picker and a track's plain-language page.
"""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.alerting.services import raise_alert
from app.auth.services import find_user_by_email
from app.drtests import exercises
from app.drtests.demo import DEMO_OWNER, DEMO_TEMPLATE
from app.drtests.models import DrTemplate
from app.extensions import db
from app.reviews.agenda import build_review
from app.timeutil import utcnow
from tests.browser.helpers import (
    DEMO_LOGINS,
    LAPTOP,
    PHONE,
    open_place,
    overflow,
    sign_in,
)

SCREENS = {"phone": PHONE, "laptop": LAPTOP}
# A different number per screen: each run adds one to the same demo responder.
NUMBERS = {"phone": ("0917 555 0101", "+639175550101"), "laptop": ("0917 555 0102", "+639175550102")}


@pytest.fixture(params=list(SCREENS))
def screen(request, page):
    page.set_viewport_size(SCREENS[request.param])
    return request.param


def _paging_the_responder(app) -> str:
    summary = f"Order import stalled {uuid.uuid4().hex[:6]}"
    with app.app_context():
        responder = find_user_by_email(DEMO_LOGINS["responder"])
        raise_alert(summary=summary, source="api", severity="high", page_user_id=responder.id)
        db.session.commit()
        db.session.remove()
    return summary


def test_the_responder_sees_their_shift_acknowledges_in_one_tap_and_adds_a_new_number_to_paging(
        page, live_server, same_db_app, screen):
    summary = _paging_the_responder(same_db_app)
    sign_in(page, DEMO_LOGINS["responder"])
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_test_id("on-call")).to_contain_text(re.compile(r"You are (not )?on call now"))
    mine = page.get_by_test_id("my-alerts").locator("li", has_text=summary)
    mine.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text(re.compile(r"Acknowledged alert #\d+: escalation stopped\."))).to_be_in_viewport()
    expect(page.get_by_role("heading", level=1)).to_contain_text(summary)
    assert overflow(page) <= 0

    typed, stored = NUMBERS[screen]
    page.goto("/")
    page.get_by_role("link", name="My contact details").click()
    page.get_by_label("Kind").select_option("sms")
    page.get_by_label("Phone number or email").fill(typed)
    page.get_by_role("button", name="Add", exact=True).click()
    method = page.locator("li", has_text=stored)
    method.get_by_role("button", name="Send code").click()
    person_url = page.url
    page.goto("/messages")
    newest = page.get_by_test_id("messages").locator("li", has_text=stored).first
    code = re.search(r"Quarterdeck code: (\d{6})\.", newest.inner_text()).group(1)
    page.goto(person_url)
    method = page.locator("li", has_text=stored)
    method.get_by_label("Code").fill(code)
    method.get_by_role("button", name="Verify").click()

    prompt = page.get_by_test_id("add-to-paging").filter(has_text=stored)
    expect(prompt.get_by_role("heading")).to_have_text("Add this number to how you are paged?")
    expect(prompt).to_be_in_viewport()
    expect(prompt.get_by_label(re.compile("minutes after a page starts"))).to_have_value("0")
    prompt.get_by_role("button", name=re.compile("Add it to my paging")).click()
    expect(page.get_by_text(f"Rule added: {stored} after 0 min.")).to_be_visible()
    expect(page.get_by_test_id("rules")).to_contain_text(stored)
    expect(page.get_by_test_id("add-to-paging").filter(has_text=stored)).to_have_count(0)

    # Deleting asks first, naming what goes: "No" keeps it, "Yes" deletes it.
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("li", has_text=stored).get_by_role("button", name="Delete").click()
    expect(page.locator("li", has_text=stored).first).to_be_visible()
    assert asked == [f"Delete SMS {stored} and its notification rules?"]
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("li", has_text=stored).get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"{stored} deleted, with its notification rules.")).to_be_visible()


def _fresh_exercise(app) -> int:
    with app.app_context():
        template = db.session.scalar(select(DrTemplate).where(DrTemplate.name == DEMO_TEMPLATE))
        owner = find_user_by_email(DEMO_OWNER)
        exercise = exercises.schedule_exercise(template=template, kind="full_failover", owner_id=owner.id,
                                               scheduled_for=utcnow() + timedelta(days=2),
                                               name=f"Journey failover {uuid.uuid4().hex[:4]}")
        exercise_id = exercise.id
        db.session.remove()
    return exercise_id


def test_the_crisis_team_sees_a_refused_step_on_screen_inside_the_step(page, live_server, same_db_app, screen):
    exercise_id = _fresh_exercise(same_db_app)
    sign_in(page, DEMO_LOGINS["crisis_team"])
    page.wait_for_url(f"{live_server}/")
    page.goto(f"/drtests/exercises/{exercise_id}")
    # A colleague starts step 1 from another screen; this page still offers "Start step 1".
    other = page.context.new_page()
    other.goto(f"/drtests/exercises/{exercise_id}")
    other.get_by_test_id("step-1").get_by_role("button", name="Start step 1").click()
    expect(other.get_by_text("Step 1 started.")).to_be_visible()
    other.close()

    page.get_by_test_id("step-1").get_by_role("button", name="Start step 1").click()
    refusal = page.get_by_test_id("step-1-refused")
    expect(refusal).to_be_in_viewport()
    expect(refusal).to_contain_text("Not done:")
    expect(page.get_by_text("Step 1 started.")).to_have_count(0)
    assert overflow(page) <= 0


def test_escalate_in_the_meeting_reaches_the_executive_page(page, live_server, same_db_app, screen):
    with same_db_app.app_context():
        review, _built = build_review(built_by="journey")
        review_id, items = review.id, len(review.items)
        db.session.remove()
    assert items >= 2, "the demo week should have a real agenda"
    position = items if screen == "phone" else items - 1  # one item per run: an item is escalated once
    sign_in(page, DEMO_LOGINS["crisis_team"])
    page.wait_for_url(f"{live_server}/")
    page.goto(f"/reviews/{review_id}/meeting?item={position}")
    if page.get_by_role("button", name="Start the meeting").count():
        page.get_by_role("button", name="Start the meeting").click()
        page.goto(f"/reviews/{review_id}/meeting?item={position}")
    heading = page.locator("#item-heading").inner_text()
    reference = re.match(r"(R-\d+)", heading).group(1)
    page.get_by_label("Escalate").check()
    page.get_by_label("Note for the minutes").fill("Needs a decision on the standby budget")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".flash-success", has_text="Escalated to the executives")).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, DEMO_LOGINS["executive"])
    page.wait_for_url(re.compile(f"{live_server}/"))
    open_place(page, "Readiness")
    escalated = page.get_by_test_id("escalated").get_by_test_id("escalation").filter(has_text=reference)
    expect(escalated.first).to_be_visible()
    expect(escalated.first).to_contain_text("Needs a decision on the standby budget")
    expect(page.get_by_role("button", name="Acknowledge").first).to_be_visible()


def test_the_executive_reads_the_trend_picks_a_quarter_and_opens_a_track(page, live_server, screen):
    sign_in(page, DEMO_LOGINS["executive"])
    page.wait_for_url(re.compile(f"{live_server}/"))
    open_place(page, "Readiness")
    chart = page.get_by_test_id("trend-chart")
    expect(chart).to_be_visible()
    assert chart.locator("rect.band").count() == 3 and chart.locator("text.date-tick").count() >= 2
    page.get_by_test_id("score-bands").locator("summary").click()
    expect(page.get_by_text(re.compile(r"Green\s+is 85 or more"))).to_be_visible()
    assert overflow(page) <= 0

    picker = page.get_by_test_id("quarter-picker")
    shown = picker.get_by_label("Quarter", exact=True).input_value()
    options = picker.locator("option")
    earlier = options.nth(options.count() - 3).get_attribute("value")
    picker.get_by_label("Quarter", exact=True).select_option(earlier)
    picker.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Quarter", exact=True)).to_have_value(earlier)
    assert earlier != shown

    page.goto("/readiness")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page\r") + pdf.count(b"/Type /Page ") \
        + pdf.count(b"/Type /Page>") + pdf.count(b"/Type /Page/") == 1, "the executive page prints on one A4 sheet"
    page.get_by_test_id("track-risks").get_by_role("link", name="Risks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Risks")
    expect(page.get_by_text(re.compile("Are the risks that threaten the close"))).to_be_visible()
    assert overflow(page) <= 0
