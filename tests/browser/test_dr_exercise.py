"""The demo ERP failover/failback exercise in a browser: every step in order, one uploaded piece of evidence,
one finding, the replication point, the computed recovery time against its target, and the owner's sign-off."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from app.drtests.demo import DEMO_STEPS
from app.seed import DEMO_PASSWORD
from app.timeutil import utcnow
from config import INSTANCE_DIR
from tests.browser.helpers import open_place

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EVIDENCE_DIR = INSTANCE_DIR / "drtest-evidence"  # the live server runs with the default configuration


def sign_in(page, email: str):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_run_the_erp_failover_exercise_from_first_step_to_sign_off(page, live_server):
    before = set(EVIDENCE_DIR.iterdir()) if EVIDENCE_DIR.exists() else set()
    try:
        _journey(page, live_server)
    finally:
        for path in (set(EVIDENCE_DIR.iterdir()) if EVIDENCE_DIR.exists() else set()) - before:
            path.unlink()


def _journey(page, live_server):
    sign_in(page, "crisis@acme.example")
    page.wait_for_url(f"{live_server}/")
    open_place(page, "DR tests")
    page.get_by_test_id("exercises").get_by_role("link", name=re.compile(r"^ERP failover.failback")).click()
    page.wait_for_url(re.compile(r"/drtests/exercises/\d+$"))
    expect(page.get_by_text("Waits for step 1.").first).to_be_visible()

    uploaded = False
    for number, step in enumerate(DEMO_STEPS, 1):
        card = page.get_by_test_id(f"step-{number}")
        card.get_by_role("button", name=f"Start step {number}").click()
        expect(page.get_by_text(f"Step {number} started.")).to_be_visible()
        if step[6]:  # evidence required
            card = page.get_by_test_id(f"step-{number}")
            if not uploaded:
                card.locator('input[name="file"]').set_input_files(
                    {"name": "replication-lag.png", "mimeType": "image/png", "buffer": PNG})
                uploaded = True
            else:
                card.locator('input[name="url"]').fill(f"https://tickets.acme.example/DR-{number}")
            card.get_by_role("button", name=f"Add evidence to step {number}").click()
            expect(page.get_by_text(f"Evidence added to step {number}.")).to_be_visible()
        card = page.get_by_test_id(f"step-{number}")
        card.locator('select[name="outcome"]').select_option("ok")
        card.get_by_role("button", name=f"Complete step {number}").click()
        expect(page.get_by_text(f"Step {number} completed.")).to_be_visible()

    expect(page.get_by_role("link", name="replication-lag.png")).to_be_visible()
    replicated = (utcnow() - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M")
    page.locator('input[name="last_replicated_at"]').fill(replicated)
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("Last replicated transaction recorded.")).to_be_visible()

    page.get_by_text("Record a finding").click()
    page.locator('#findings input[name="title"]').fill("Batch hold took longer than planned")
    page.locator('#findings select[name="severity"]').select_option("medium")
    page.get_by_role("button", name="Record finding").click()
    expect(page.get_by_text("Finding recorded: Batch hold took longer than planned.")).to_be_visible()

    figures = page.get_by_test_id("figures")
    assert re.fullmatch(r"\d+ min( \d\d s)?", figures.get_by_test_id("recovery").inner_text())
    assert "120 min" in figures.inner_text() and "met" in figures.inner_text()

    page.get_by_role("button", name="Sign off this exercise").click()
    expect(page.get_by_text("Signed off: passed. The record is frozen.")).to_be_visible()
    expect(page.get_by_test_id("signed-off")).to_be_visible()
    assert page.get_by_role("button", name=re.compile("Start step")).count() == 0
