"""Journey on a 390 px phone: the on-call declares an incident from an alert's page, posts an update, and the
executive finds it at the top of the readiness page."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from app import create_app
from app.alerting.services import raise_alert
from app.extensions import db
from tests import support
from tests.browser.helpers import (
    DEMO_LOGINS,
    PHONE,
    open_place,
    sign_in,
    sign_out,
)


@pytest.fixture
def alert_summary(live_server, tmp_path_factory):
    """An alert raised on the live server's database (as monitoring would): its summary, unique to this run."""
    (path,) = tmp_path_factory.getbasetemp().glob("live[0-9]*/quarterdeck.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}, env=support.TEST_ENV)
    summary = f"Bookings feed stalled {uuid.uuid4().hex[:6]}"
    with app.app_context():
        raise_alert(summary=summary, details="No bookings since 06:00", source="api", severity="critical")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return summary


def test_the_on_call_declares_from_an_alert_posts_an_update_and_the_executive_sees_it(page, live_server,
                                                                                     alert_summary):
    page.set_viewport_size(PHONE)
    sign_in(page, DEMO_LOGINS["responder"])
    page.wait_for_url(f"{live_server}/")
    open_place(page, "Alerts")
    page.get_by_role("link", name=alert_summary).click()
    page.get_by_role("link", name="Declare incident").click()

    expect(page.get_by_test_id("declared-from")).to_contain_text(alert_summary)
    expect(page.get_by_label("Title")).to_have_value(alert_summary)
    page.get_by_label("Severity").select_option("SEV2")
    page.get_by_role("button", name="Declare").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(alert_summary)
    expect(page.get_by_test_id("commander")).to_have_text("Rowan Responder")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the incident page scrolls sideways"
    update = f"Feed host out of disk; clearing space {uuid.uuid4().hex[:4]}"
    page.get_by_label("Status").first.select_option("identified")
    page.get_by_label("Update", exact=True).fill(update)
    page.get_by_role("button", name="Post update").click()
    expect(page.get_by_test_id("updates")).to_contain_text(update)
    expect(page.get_by_test_id("incident-state")).to_contain_text("identified")

    sign_out(page)
    sign_in(page, DEMO_LOGINS["executive"])
    page.wait_for_url(f"{live_server}/")
    open_place(page, "Readiness")
    section = page.get_by_test_id("open-incidents")
    expect(section).to_contain_text(alert_summary)
    expect(section).to_contain_text(update)
    assert section.bounding_box()["y"] < page.get_by_test_id("readiness-summary").bounding_box()["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
