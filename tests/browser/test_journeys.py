"""Journeys in headless Chromium against the real app with the demo company."""
from __future__ import annotations

import re

import pytest

from app.seed import DEMO_PASSWORD
from tests.browser.helpers import DEMO_LOGINS, PHONE, main_nav, sign_in, sign_out

# Records every CSP violation the page reports, whether or not Chromium also logs it to the console.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


@pytest.mark.parametrize("role", list(DEMO_LOGINS))
def test_each_role_signs_in_sees_the_quarter_and_signs_out(page, live_server, role):
    sign_in(page, DEMO_LOGINS[role])
    page.wait_for_url(f"{live_server}/")
    heading = page.get_by_role("heading", level=1)
    assert "FY" in heading.inner_text()
    users_links = main_nav(page).get_by_role("link", name="Users", exact=True)
    assert users_links.count() == (1 if role == "admin" else 0)

    sign_out(page)
    assert page.get_by_role("heading", name="Sign in").is_visible()
    assert main_nav(page).count() == 0
    page.goto("/")
    page.wait_for_url(re.compile(r"/login\?next=%2F$|/login\?next=/$"))


def test_a_wrong_password_is_refused_with_a_clear_message(page, live_server):
    sign_in(page, DEMO_LOGINS["crisis_team"], "not-the-password")
    assert page.get_by_text("Wrong email or password.").is_visible()
    assert page.url == f"{live_server}/login"
    assert main_nav(page).count() == 0


def test_signing_in_works_with_the_keyboard_alone(page, live_server):
    page.goto("/login")
    assert page.evaluate("document.activeElement.id") == "email", "focus should start in the email field"
    page.keyboard.type(DEMO_LOGINS["responder"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/")
    assert "FY" in page.get_by_role("heading", level=1).inner_text()


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_login_and_home_pages_fit_a_phone_without_sideways_scrolling(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto("/login")
    assert _overflow(page) <= PHONE["width"], "login page scrolls sideways at 390 px"
    # The admin has the longest navigation: the widest case.
    sign_in(page, DEMO_LOGINS["admin"])
    page.wait_for_url(f"{live_server}/")
    assert main_nav(page).get_by_role("link", name="Users", exact=True).is_visible()
    assert _overflow(page) <= PHONE["width"], "home page scrolls sideways at 390 px"


def test_the_content_security_policy_blocks_nothing_the_pages_need(page, live_server):
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.add_init_script(CSP_WATCH)

    login = page.goto("/login")
    assert "default-src 'self'" in (login.header_value("content-security-policy") or ""), \
        "the policy must actually be sent, or this test proves nothing"
    assert page.evaluate("window.__cspViolations") == []

    sign_in(page, DEMO_LOGINS["admin"])
    page.wait_for_url(f"{live_server}/")
    home = page.reload()
    assert "default-src 'self'" in (home.header_value("content-security-policy") or "")
    # The stylesheet really applied (a blocked stylesheet would leave the top bar unstyled).
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "flex"
    assert page.evaluate("window.__cspViolations") == []
    csp_messages = [text for text in console_errors if "Content Security Policy" in text]
    assert csp_messages == []

    # Control: the watcher does see a violation when there is one (an inline style the policy refuses).
    page.evaluate("document.head.appendChild(Object.assign(document.createElement('style'), {textContent: 'p{}'}))")
    page.wait_for_function("window.__cspViolations.length > 0")


STATIC_TRANSFERS = """performance.getEntriesByType('resource').filter(e => e.name.includes('/static/'))
    .map(e => [new URL(e.name).pathname, e.transferSize])"""


def test_the_next_page_of_a_visit_asks_for_no_stylesheet_or_script_again(page, live_server):
    # Resource Timing: a file taken from the browser's cache moved no bytes over the network.
    page.goto("/login")
    first_visit = page.evaluate(STATIC_TRANSFERS)
    assert len(first_visit) >= 6 and all(transferred > 0 for _path, transferred in first_visit), first_visit

    sign_in(page, DEMO_LOGINS["crisis_team"])
    page.wait_for_url(f"{live_server}/")
    page.goto("/risks")
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "flex"  # styled
    next_page = page.evaluate(STATIC_TRANSFERS)
    assert len(next_page) >= 6
    assert [path for path, transferred in next_page if transferred > 0] == []
