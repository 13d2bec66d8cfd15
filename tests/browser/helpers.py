"""Moving around the app the way a person does: the main bar, "More", signing out; and the page checks shared by
the phone sweep and the journeys (sideways overflow, bar height, tap targets, axe-core)."""
from __future__ import annotations

import re

from app.seed import DEMO_PASSWORD

DEMO_LOGINS = {
    "admin": "admin@acme.example",
    "crisis_team": "crisis@acme.example",
    "responder": "oncall@acme.example",
    "executive": "exec@acme.example",
}
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
AXE = "/static/vendor/axe-core/axe.min.js"


def sign_in(page, email: str, password: str = DEMO_PASSWORD):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def main_nav(page):
    return page.get_by_role("navigation", name="Main")


def open_place(page, name: str) -> None:
    """Follow a main-menu link: straight from the bar when it is one of the role's five, else through More."""
    link = main_nav(page).get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        main_nav(page).locator("summary", has_text="More").click()
    link.click()


def sign_out(page) -> None:
    sign_out_button = page.get_by_role("button", name="Sign out")
    if not sign_out_button.is_visible():
        main_nav(page).locator("summary", has_text="More").click()
    sign_out_button.click()
    page.wait_for_url(re.compile(r"/login"))


def overflow(page) -> int:
    """How many pixels the page scrolls sideways."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def widest(page) -> list[str]:
    """The elements that stick out on the right, to say what makes a page scroll sideways."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
        .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5))
        .slice(0, 3).map(e => `${e.tagName.toLowerCase()}.${e.className} "${(e.innerText || '').slice(0, 30)}"`)""")


def bar_height(page) -> float:
    return page.evaluate("(document.querySelector('header.topbar') || {getBoundingClientRect: () => ({height: 0})}).getBoundingClientRect().height")


# The main actions: the bar's places and More, buttons, button-styled links and tap links. Text links inside
# prose and table cells are not counted (WCAG 2.5.8 exempts inline links).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'header.topbar .primary > li > a, header.topbar summary, main button:not(.link), main a.button, main a.tap,'
    + ' main input[type=submit]')]
  .filter(e => e.offsetParent !== null)
  .map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.height < 44 - 0.5)
  .map(([e, r]) => `${e.tagName.toLowerCase()} "${(e.innerText || e.value || '').trim().slice(0, 40)}" ${Math.round(r.height)}px`)
"""


def small_targets(page) -> list[str]:
    return page.evaluate(SMALL_TARGETS)


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now (the vendored axe.min.js)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE)
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
          .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
    }""")
    return found
