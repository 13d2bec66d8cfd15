"""Every page each role can reach, on a 390 px phone: no sideways scrolling, the main bar collapsed to one row of
at most 56 px, no main action smaller than a 44 px tap, and no serious or critical axe-core violation.

The pages are found the way a person finds them: from the main menu, then one more click, each kind of page once
(/risks/7 and /risks/9 are the same page)."""
from __future__ import annotations

import hashlib
import os
import re
from urllib.parse import urlsplit

import pytest

from tests.browser.helpers import (
    DEMO_LOGINS,
    PHONE,
    axe_violations,
    bar_height,
    overflow,
    sign_in,
    small_targets,
    widest,
)

# Downloads, feeds and redirects to other places are not pages to look at.
NOT_PAGES = re.compile(r"(\.csv|\.ics|\.md|\.vcf|/export|/download|vcard|/evidence/|/feeds?/|/static/|/api/|/ping/|"
                       r"/healthz|/a/\d+$|/login|/logout|/metrics)")
PAGES_PER_ROLE = 90


def kind_of(path: str) -> str:
    """/risks/12/edit and /risks/3/edit are one kind of page."""
    path = re.sub(r"\d{4}-W\d{2}", "W", path)
    return re.sub(r"/\d+(?=/|$)", "/N", path.rstrip("/") or "/")


def _links(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('a[href]')]
        .map(a => a.getAttribute('href')).filter(h => h.startsWith('/') && !h.startsWith('//'))""")


def crawl(page, base: str):
    """Yield (path, kind) for each kind of page reachable in two clicks from the main menu."""
    page.goto("/")
    seen: set[str] = set()
    queue = [(href, 0) for href in ["/", *_links(page)]]
    count = 0
    while queue and count < PAGES_PER_ROLE:
        href, depth = queue.pop(0)
        path = urlsplit(href).path
        kind = kind_of(path)
        if kind in seen or NOT_PAGES.search(path):
            continue
        seen.add(kind)
        response = page.goto(path)
        if response is None or response.status >= 400 or "text/html" not in response.headers.get("content-type", ""):
            continue
        if urlsplit(page.url).path != path:  # a redirect: its target is its own kind of page
            continue
        count += 1
        yield path, kind
        if depth < 2:
            queue.extend((link, depth + 1) for link in _links(page))


@pytest.fixture(scope="session")
def first_to_axe(tmp_path_factory):
    """axe-core is a third of this test's CPU (99 s with it, 65 s without): each kind of page is checked once per run,
    by the first role to see it, in whichever test process that is (the roles share most pages; a page only one role
    sees is checked for that role). The claims are files in a folder of this run that every xdist worker shares;
    creating one is atomic."""
    run_folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_folder = run_folder.parent  # each worker's basetemp is a folder of the run's
    claims = run_folder / "axe-claims"
    claims.mkdir(exist_ok=True)

    def claim(kind: str) -> bool:
        try:
            os.close(os.open(claims / hashlib.sha1(kind.encode()).hexdigest(), os.O_CREAT | os.O_EXCL))
            return True
        except FileExistsError:
            return False

    return claim


@pytest.mark.parametrize("role", list(DEMO_LOGINS))
def test_every_page_fits_a_phone_and_passes_axe(browser, live_server, first_to_axe, role):
    context = browser.new_context(base_url=live_server, viewport=PHONE)
    context.set_default_timeout(8000)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, DEMO_LOGINS[role])
        page.wait_for_url(f"{live_server}/")
        visited = 0
        for path, kind in crawl(page, live_server):
            visited += 1
            if (sideways := overflow(page)) > 0:
                problems.append(f"{path}: scrolls {sideways} px sideways ({widest(page)})")
            if (height := bar_height(page)) > 56:
                problems.append(f"{path}: the main bar is {height:.0f} px tall")
            if small := small_targets(page):
                problems.append(f"{path}: small tap targets {small[:4]}")
            if first_to_axe(kind) and (found := axe_violations(page)):
                problems.append(f"{path}: axe {found}")
    finally:
        context.close()
    assert visited >= 15, f"only {visited} pages reached: the crawl is broken"
    assert not problems, "\n".join(problems)
