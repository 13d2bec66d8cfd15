"""The executive's journey on a 390 px phone: sign in, open Readiness, follow a red reason, never meet an edit control."""
from __future__ import annotations

import re

from tests.browser.helpers import DEMO_LOGINS, PHONE, open_place, sign_in

# Links that lead to a change: named like one, or pointing at an edit, delete, remove or new route.
EDIT_LINK_NAMES = re.compile(r"^\s*(edit|delete|remove|add|new)\b", re.IGNORECASE)
EDIT_LINK_TARGETS = 'a[href*="/edit"], a[href*="/delete"], a[href*="/remove"], a[href$="/new"]'


def _width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_an_executive_reads_readiness_on_a_phone_and_opens_a_red_reason(page, live_server):
    page.set_viewport_size(PHONE)
    sign_in(page, DEMO_LOGINS["executive"])
    page.wait_for_url(f"{live_server}/")
    open_place(page, "Readiness")
    page.wait_for_url(f"{live_server}/readiness")
    assert page.get_by_role("heading", level=1).inner_text().endswith("close readiness")
    assert page.get_by_test_id("overall-score").is_visible()
    assert _width(page) <= PHONE["width"], "the readiness page scrolls sideways at 390 px"
    main = page.locator("main")
    # The quarter picker only reads; acknowledging an escalation is the executive's own action.
    read_only = ':not(form[method="get" i] *):not([data-testid="escalated"] *)'
    controls = main.locator(", ".join(['form:not([method="get" i]):not([data-testid="escalated"] *)'] + [
        f"{tag}{read_only}" for tag in ("button", "input", "select", "textarea")]))
    assert controls.count() == 0, "an executive sees an edit control"

    red_reason = main.locator(".reasons li.severe a").first
    target = red_reason.get_attribute("href")
    red_reason.click()
    page.wait_for_url(f"{live_server}{target}")
    assert page.get_by_role("heading", level=1).is_visible()
    _assert_no_edit_controls(page, f"the record page {target}")


def _assert_no_edit_controls(page, where: str) -> None:
    """Nothing in <main> lets the viewer change the record: no form that posts, no button or field (Save,
    Delete ...) outside a read-only GET form (a schedule's "Show in zone" changes nothing), no link to an edit,
    delete or new page."""
    main = page.locator("main")
    outside_get_forms = ':not(form[method="get" i] *)'
    controls = main.locator(", ".join(['form:not([method="get" i])'] + [
        f"{tag}{outside_get_forms}" for tag in ("button", "input", "select", "textarea", "[role=button]")]))
    assert controls.count() == 0, f"{where} offers an executive a form or button: {controls.all_inner_texts()}"
    for edit_links in (main.get_by_role("link", name=EDIT_LINK_NAMES), main.locator(EDIT_LINK_TARGETS)):
        assert edit_links.count() == 0, f"{where} offers an executive an edit link: {edit_links.all_inner_texts()}"


def test_the_readiness_page_prints_without_the_navigation(page, live_server):
    sign_in(page, DEMO_LOGINS["executive"])
    page.wait_for_url(f"{live_server}/")
    page.goto("/readiness")
    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden()
    assert page.get_by_test_id("readiness-summary").is_visible()
