"""Journey: a responder adds a phone number, reads the code the console channel delivered, and verifies it."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from app.seed import DEMO_PASSWORD

RESPONDER = "oncall@acme.example"
PHONE = {"width": 390, "height": 844}


def test_a_responder_verifies_a_new_sms_number_with_the_code_from_messages(page, live_server):
    page.goto("/login")
    page.get_by_label("Email").fill(RESPONDER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")

    page.goto("/oncall/people")
    page.get_by_role("link", name="My contact details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rowan Responder")
    person_url = page.url

    # The demo responder works in APAC (the Philippines): a local mobile number is read as a PH number.
    page.get_by_label("Kind").select_option("sms")
    page.get_by_label("Phone number or email").fill("0917 123 4567")
    page.get_by_role("button", name="Add", exact=True).click()
    method = page.locator("li", has_text="+639171234567")
    expect(method.locator(".pill")).to_have_text("unverified")

    method.get_by_role("button", name="Send code").click()
    expect(page.get_by_text("A code is on its way to +639171234567")).to_be_visible()

    page.goto("/messages")
    newest = page.get_by_test_id("messages").locator("li").first
    expect(newest).to_contain_text("+639171234567")
    code = re.search(r"Quarterdeck code: (\d{6})\.", newest.inner_text()).group(1)

    page.go_back()
    assert page.url == person_url
    method.get_by_label("Code").fill(code)
    method.get_by_role("button", name="Verify").click()

    expect(method.locator(".pill")).to_have_text("verified")
    expect(page.get_by_text("+639171234567 is verified.")).to_be_visible()
    expect(page.get_by_test_id("not-phoneable")).to_have_count(0)

    # The page stays readable on a phone: nothing scrolls sideways.
    page.set_viewport_size(PHONE)
    for url in (person_url, f"{live_server}/oncall/people"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{url} scrolls sideways"
