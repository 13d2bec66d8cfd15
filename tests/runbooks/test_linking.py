"""Runbooks one tap away: a watched job's page, an alert's page and email, a DR template's page, the rotation page
and the pre-shift reminder of people who have not read their rotation's runbooks."""
from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.alerting.render import email_parts
from app.alerting.services import raise_alert
from app.auth.roles import Role
from app.drtests.templates import create_template
from app.extensions import db
from app.oncall.reminders import send_shift_reminders
from app.runbooks.matching import runbooks_for, runbooks_for_many
from app.runbooks.reviews import acknowledge
from app.runbooks.services import get_runbook
from tests.oncall.conftest import make_oncall_schedule, make_rotation, reachable_by  # noqa: F401  (fixtures)
from tests.runbooks.support import make_job, write


def test_matching_by_job_slug_system_dedup_key_pattern_vendor_and_template(folder, owner, sync):
    run = make_job("Billing", "Billing run")
    other = make_job("CRM", "Opportunity sync")
    write(folder, "by-job.md", owner=owner.email, jobs=["billing-*"])
    write(folder, "by-system.md", owner=owner.email, systems=["crm"])
    write(folder, "by-alert.md", owner=owner.email, alerts=["gateway:*:eu"], vendors=["PayStream"],
          drtests=["ERP failover*"])
    sync()

    def titles(found):
        return [runbook.slug for runbook in found]

    assert titles(runbooks_for(job=run)) == ["by-job"]
    assert titles(runbooks_for(job=other)) == ["by-system"]
    assert titles(runbooks_for(dedup_key=f"job:{run.id}")) == ["by-job"]  # a job's alert gets its runbooks
    assert titles(runbooks_for(dedup_key="gateway:cards:eu")) == ["by-alert"]
    assert titles(runbooks_for(dedup_key="gateway:cards:us")) == []
    assert titles(runbooks_for(vendor="paystream")) == titles(runbooks_for(dr_template="ERP failover/failback")) \
        == ["by-alert"]
    assert titles(runbooks_for_many(jobs=[run], app_names=["CRM"], dedup_keys=["gateway:x:eu"])) == [
        "by-alert", "by-job", "by-system"]


def test_a_watched_jobs_page_and_its_alerts_page_and_email_show_the_runbook(folder, owner, sync, login_as):
    job = make_job("Billing", "Billing run")
    write(folder, "restart.md", owner=owner.email, title="Restart billing", jobs=["billing-run"])
    sync()
    alert, _created = raise_alert(summary="Billing run failed", source="job", dedup_key=f"job:{job.id}",
                                  severity="critical")
    db.session.commit()
    client = login_as("responder")
    job_page = client.get(f"/watchlist/jobs/{job.id}").get_data(as_text=True)
    assert 'href="/runbooks/restart"' in job_page and f"/runbooks/restart/run?job_id={job.id}" in job_page
    alert_page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert f"/runbooks/restart/run?alert_id={alert.id}" in alert_page
    with client.application.test_request_context():
        _subject, body = email_parts([alert])
    assert "Runbook: Restart billing: http://127.0.0.1:5000/runbooks/restart" in body


def test_an_alert_no_runbook_covers_shows_no_runbook_card(folder, owner, sync, login_as):
    alert, _created = raise_alert(summary="Something", source="api", dedup_key="unknown:1", severity="low")
    db.session.commit()
    assert 'data-testid="related-runbooks"' not in login_as("responder").get(f"/alerts/{alert.id}").get_data(
        as_text=True)


def test_a_dr_template_page_lists_its_runbook(folder, owner, sync, login_as):
    template = create_template(name="ERP failover/failback", rto_minutes=120, rpo_minutes=15)
    write(folder, "erp.md", owner=owner.email, drtests=["ERP failover/failback"])
    sync()
    page = login_as("executive").get(f"/drtests/templates/{template.id}").get_data(as_text=True)
    assert 'href="/runbooks/erp"' in page


def test_the_rotation_page_and_the_pre_shift_reminder_name_unread_runbooks(folder, owner, sync, login_as, make_user,
                                                                           make_rotation, make_oncall_schedule,
                                                                           reachable_by):
    ana = make_user(Role.RESPONDER, name="Ana", time_zone="UTC")
    ben = make_user(Role.RESPONDER, name="Ben", time_zone="UTC")
    reachable_by(ana, "email", "ana@example.com")
    reachable_by(ben, "email", "ben@example.com")
    rotation = make_rotation(members=[ana, ben], name="Billing on-call")
    make_oncall_schedule("Primary", [rotation])
    write(folder, "restart.md", owner=owner.email, title="Restart billing", acknowledge=["Billing on-call"])
    sync()
    acknowledge(get_runbook("restart"), user=ana)

    page = login_as("executive").get(f"/rotations/{rotation.id}").get_data(as_text=True)
    unread = page[page.index('data-testid="rotation-unread"'):]
    unread = unread[:unread.index("</section>")]
    assert "Ben" in unread and "Restart billing" in unread and "Ana" not in unread

    with time_machine.travel(datetime(2026, 11, 9, 8, 30, tzinfo=UTC), tick=False):  # Ben's shift starts at 09:00
        assert send_shift_reminders()["reminders"] == 1
    [message] = db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "shift_reminder"))
    assert message.user_id == ben.id and "- Restart billing" in message.body and "/runbooks/reading" in message.body
