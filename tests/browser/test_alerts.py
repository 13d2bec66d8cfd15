"""Journey: the crisis team pages a responder now; the paging engine sends the SMS; the responder opens the
alert and acknowledges it with one click."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from app.alerting.engine import run_engine_tick
from app.extensions import db
from app.seed import DEMO_PASSWORD
from tests.browser.helpers import open_place, sign_out

CRISIS, RESPONDER = "crisis@acme.example", "oncall@acme.example"
RESPONDER_SMS = "+14155550102"  # the demo responder's number (app/oncall/demo.py)


def sign_in(page, live_server, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")


def test_the_crisis_team_pages_a_responder_who_acknowledges_on_the_alert_page(page, live_server, same_db_app):
    summary = f"EU orders stuck in the queue {uuid.uuid4().hex[:6]}"
    # Other journeys share this server's database: send what they left due, or it would be bundled with ours.
    with same_db_app.app_context():
        run_engine_tick()
        db.session.remove()
    sign_in(page, live_server, CRISIS)
    open_place(page, "Alerts")
    page.get_by_role("link", name="Page someone now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Page someone now")
    page.get_by_label("Page", exact=True).select_option(label=f"Rowan Responder ({RESPONDER})")
    page.get_by_label("Summary").fill(summary)
    page.get_by_label("Severity").select_option("high")
    page.get_by_role("button", name="Page now").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(summary)
    expect(page.get_by_text("Direct page to Rowan Responder").first).to_be_visible()
    alert_url = page.url

    # The scheduler's engine tick sends what the page queued (console channel: no Twilio in the demo).
    with same_db_app.app_context():
        sent = run_engine_tick()["sent"]
        db.session.remove()
    assert sent >= 1

    sign_out(page)
    sign_in(page, live_server, RESPONDER)
    open_place(page, "Alerts")
    page.get_by_role("link", name=summary).click()
    assert page.url == alert_url
    messages = page.get_by_test_id("alert-messages")
    expect(messages).to_contain_text(RESPONDER_SMS)
    expect(messages).to_contain_text("sent")

    page.get_by_role("button", name="Acknowledge").click()

    expect(page.get_by_text(re.compile(r"Acknowledged alert #\d+: escalation stopped\."))).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("Acknowledged by Rowan Responder via web.")
    expect(page.get_by_test_id("alert-status")).to_contain_text("acknowledged")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
