"""On a phone, a crisis-team member links a risk to a job by typing part of the job's name and choosing it from
the picker's suggestions (the demo company has hundreds of names to choose from; a list of them all is no use)."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.risks.models import Risk
from tests.browser.helpers import DEMO_LOGINS, PHONE, axe_violations, overflow, sign_in

CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""
JOB_LABEL = "Job · Payment reconciliation (Billing)"


def test_on_a_phone_typing_part_of_a_job_name_offers_it_and_links_it(page, live_server, same_db_app):
    with same_db_app.app_context():
        risk_id = db.session.scalar(select(Risk.id).where(Risk.title.like("Payment reconciliation depends%")))
        db.session.remove()
    page.set_viewport_size(PHONE)
    page.add_init_script(CSP_WATCH)
    sign_in(page, DEMO_LOGINS["crisis_team"])
    page.wait_for_url(f"{live_server}/")
    page.goto(f"/risks/{risk_id}")

    field = page.get_by_label("App, job or vendor")
    field.press_sequentially("reconcil")
    suggestions = page.locator("datalist#link-targets option")
    expect(suggestions.first).to_have_attribute("value", JOB_LABEL)  # the server's answer, offered as suggestions
    field.fill(JOB_LABEL)  # what choosing a suggestion does: the field takes its label
    assert page.locator("input[name=kind]").input_value() == "job"
    assert re.fullmatch(r"\d+", page.locator("input[name=target_id]").input_value())

    page.get_by_role("button", name="Link", exact=True).click()
    page.wait_for_url(re.compile(rf"/risks/{risk_id}#links$"))
    expect(page.get_by_text("Linked to job Payment reconciliation.")).to_be_visible()
    expect(page.locator("#links").get_by_role("link", name="Payment reconciliation", exact=True)).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    assert overflow(page) == 0, "the risk page scrolls sideways at 390 px"
    assert axe_violations(page) == []
