"""Journey on a phone: the responder opens the alert of the demo's failing tax job, taps the runbook that covers
it, runs it step by step and records the outcome, which lands on the alert's timeline."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from app.seed import DEMO_PASSWORD

PHONE = {"width": 390, "height": 844}
RESPONDER = "oncall@acme.example"


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_from_an_alert_to_its_runbook_and_through_run_mode_on_a_phone(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email").fill(RESPONDER)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/")

        page.goto("/alerts")
        page.get_by_role("link", name=re.compile("Tax calculation")).first.click()
        runbooks = page.get_by_test_id("related-runbooks")
        expect(runbooks).to_contain_text("Tax engine unavailable during invoicing")

        runbooks.get_by_role("link", name="Tax engine unavailable during invoicing").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Tax engine unavailable during invoicing")
        expect(page.get_by_test_id("runbook-body")).to_contain_text("Read the failed run's log")
        assert _overflow(page) <= PHONE["width"], "the runbook page scrolls sideways on a phone"
        page.go_back()  # back to the alert: run it from there, so the run is linked to the alert

        page.get_by_test_id("related-runbooks").get_by_role("link", name="Run this runbook").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Run “Tax engine unavailable")
        page.get_by_test_id("start-run").click()
        expect(page.get_by_test_id("run-steps")).to_be_visible()
        assert _overflow(page) <= PHONE["width"], "run mode scrolls sideways on a phone"

        for position, mark in ((1, "Done"), (2, "Done"), (3, "Skipped"), (4, "Failed"), (5, "Done")):
            page.locator(f"#step-{position}").get_by_role("button", name=mark, exact=True).click()
            expect(page.get_by_test_id(f"step-{position}-mark")).to_contain_text(mark.lower())

        page.get_by_label("Worked with deviations").check()
        page.get_by_label("What was wrong or different").fill("tax-ctl rerun needed --force after the outage")
        page.get_by_test_id("finish-run").click()
        expect(page.get_by_test_id("run-outcome")).to_contain_text("Worked with deviations")

        page.get_by_role("link", name=re.compile(r"alert #\d+")).click()
        expect(page.get_by_test_id("timeline")).to_contain_text("finished runbook")
    finally:
        context.close()
