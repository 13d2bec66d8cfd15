""""Who do I call?" on a phone: search ERP from the top bar, open the vendor, call from its ladder, and confirm a
stale contact so the quarter's validation progress moves. Runs against the demo company."""
from __future__ import annotations

import re

from app.seed import DEMO_PASSWORD

PHONE = {"width": 390, "height": 844}
E164_TEL = re.compile(r"^tel:\+[1-9]\d{6,14}$")


def sign_in(page, email: str):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def confirmed_count(page) -> int:
    page.goto("/vendors/campaign")
    return int(page.get_by_test_id("contacts-confirmed").inner_text())


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_on_a_phone_search_erp_open_the_ladder_and_confirm_a_stale_contact(page, live_server):
    page.set_viewport_size(PHONE)
    sign_in(page, "crisis@acme.example")
    page.wait_for_url(f"{live_server}/")
    before = confirmed_count(page)

    page.get_by_role("navigation", name="Main").locator("summary", has_text="More").click()  # search sits in More
    page.get_by_role("searchbox", name="Who do I call?").fill("ERP")
    page.get_by_role("searchbox", name="Who do I call?").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=ERP$"))
    assert fits_the_phone(page), "search results scroll sideways at 390 px"
    page.get_by_test_id("results-vendors").get_by_role("link", name="Orbis ERP").click()
    page.wait_for_url(re.compile(r"/vendors/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Orbis ERP"
    assert fits_the_phone(page), "the vendor card scrolls sideways at 390 px"

    for level in ("level-1", "level-2"):
        calls = page.get_by_test_id(level).locator('a[href^="tel:"]')
        assert calls.count() >= 1, f"{level} has no tap-to-call link"
        for index in range(calls.count()):
            link = calls.nth(index)
            assert E164_TEL.match(link.get_attribute("href")), link.get_attribute("href")
            assert link.is_visible() and link.bounding_box()["height"] >= 44  # big enough for a thumb
    assert page.get_by_test_id("level-1").locator('a[href^="mailto:"]').count() >= 1

    stale = page.locator(".contact-card", has=page.locator('[data-state="stale"]')).first
    name = stale.locator(".contact-name strong").inner_text()
    stale.get_by_role("button", name=f"Confirm {name}").click()
    page.wait_for_url(re.compile(r"/vendors/\d+#contact-\d+$"))
    assert page.get_by_text(f"{name} confirmed for Q").is_visible()

    assert confirmed_count(page) == before + 1
    assert fits_the_phone(page), "the campaign page scrolls sideways at 390 px"
