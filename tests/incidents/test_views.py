"""Incident pages: declaring from an alert, a job or a risk; the incident page with its forms and errors; the list
with "update overdue"; the alert pages saying what an alert is part of; the home page's tasks; export and print."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.alerting import services as alerting
from app.extensions import db
from app.incidents import review, tasks
from app.incidents.models import Incident, IncidentEvent, IncidentLink
from app.incidents.services import record_event
from tests.conftest import form_post
from tests.incidents.conftest import NOW


def errors(response) -> list[str]:
    return re.findall(r'class="error">([^<]*)<', response.get_data(as_text=True))


@pytest.fixture
def rowan_page(login_as):
    return login_as("responder", name="Rowan", email="rowan.page@example.com")


def test_an_alert_page_offers_declare_and_the_declare_page_is_prefilled_from_it(app, clock, rowan_page,
                                                                              make_app, make_job):
    job = make_job(app_id=make_app("ERP").id, name="billing-run")
    alert, _created = alerting.raise_alert(summary="billing-run missed", details="Exit 3", source="job",
                                           dedup_key=f"job:{job.id}")
    db.session.commit()

    alert_page = rowan_page.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert f'href="/incidents/declare?alert_id={alert.id}"' in alert_page

    page = rowan_page.get(f"/incidents/declare?alert_id={alert.id}").get_data(as_text=True)
    assert "From alert #" in page and "(job billing-run)" in page
    assert 'value="billing-run missed"' in page and f'value="{alert.id}"' in page

    response = form_post(rowan_page, "/incidents/declare", {
        "title": "billing-run missed", "severity": "SEV2", "commander_id": rowan_page.user.id, "alert_id": alert.id,
        "job_id": job.id}, page_url=f"/incidents/declare?alert_id={alert.id}")
    assert response.status_code == 302
    incident = db.session.scalar(select(Incident))
    assert response.headers["Location"] == f"/incidents/{incident.id}"
    listing = rowan_page.get("/alerts").get_data(as_text=True)
    assert f"INC-{incident.id} SEV2 (investigating)" in listing
    assert f"INC-{incident.id} SEV2" in rowan_page.get(f"/alerts/{alert.id}").get_data(as_text=True)


def test_the_job_and_risk_pages_link_to_declare_but_not_for_an_executive(app, clock, rowan_page, login_as, make_app,
                                                                        make_job):
    job = make_job(app_id=make_app("ERP").id, name="billing-run")
    assert f"/incidents/declare?job_id={job.id}" in rowan_page.get(f"/watchlist/jobs/{job.id}").get_data(as_text=True)
    executive = login_as("executive")
    assert "/incidents/declare" not in executive.get(f"/watchlist/jobs/{job.id}").get_data(as_text=True)
    page = rowan_page.get(f"/incidents/declare?job_id={job.id}").get_data(as_text=True)
    assert 'value="billing-run failing"' in page


def test_a_bad_declaration_shows_the_errors_and_writes_nothing(app, clock, rowan_page):
    response = form_post(rowan_page, "/incidents/declare", {"title": "", "severity": "SEV9",
                                                            "commander_id": rowan_page.user.id})
    assert response.status_code == 422
    assert "Not a valid choice." in errors(response) and "This field is required." in errors(response)
    future = form_post(rowan_page, "/incidents/declare", {"title": "x", "severity": "SEV3",
                                                          "commander_id": rowan_page.user.id,
                                                          "detected_at": "2026-11-18T11:30"})
    assert future.status_code == 422 and "That time is in the future." in errors(future)
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0


def test_times_typed_on_a_page_are_the_viewers_wall_clock(app, clock, login_as):
    page = login_as("responder", time_zone="Asia/Manila")
    form_post(page, "/incidents/declare", {"title": "x", "severity": "SEV3", "commander_id": page.user.id,
                                           "detected_at": "2026-11-18T17:30"})  # 09:30 UTC
    assert db.session.scalar(select(Incident.detected_at)) == NOW - timedelta(minutes=30)


def test_the_incident_page_posts_an_update_and_shows_a_bad_one_with_its_error(app, clock, rowan_page, declare):
    incident = declare(by=rowan_page.user, severity="SEV2")
    url = f"/incidents/{incident.id}"

    posted = form_post(rowan_page, f"{url}/updates", {"status": "identified", "message": "Found the bad node"}, url)
    refused = form_post(rowan_page, f"{url}/updates", {"status": "identified", "message": ""}, url)

    assert posted.status_code == 302 and posted.headers["Location"] == f"{url}#updates"
    assert refused.status_code == 422 and "This field is required." in errors(refused)
    page = rowan_page.get(url).get_data(as_text=True)
    assert "Found the bad node" in page and 'id="update-message"' in page and 'id="task-title"' in page


def test_the_list_and_the_incident_say_when_an_update_is_overdue(app, clock, rowan_page, declare):
    incident = declare(by=rowan_page.user, severity="SEV1")  # every 30 minutes
    clock.shift(timedelta(minutes=47))

    assert "update overdue by 17 min" in rowan_page.get("/incidents").get_data(as_text=True)
    assert "update overdue by 17 min" in rowan_page.get(f"/incidents/{incident.id}").get_data(as_text=True)


def test_an_executive_reads_and_subscribes_but_has_no_forms_to_work_it(app, clock, login_as, declare):
    incident = declare(severity="SEV3")
    executive = login_as("executive")
    page = executive.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Post update" not in page and "Resolve incident" not in page and ">Subscribe<" in page
    assert form_post(executive, f"/incidents/{incident.id}/subscription", {}, f"/incidents/{incident.id}") \
        .status_code == 302
    assert ">Unsubscribe<" in executive.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert form_post(executive, f"/incidents/{incident.id}/updates", {"status": "identified", "message": "x"},
                     f"/incidents/{incident.id}").status_code == 403


def test_linking_a_vendor_puts_its_escalation_ladder_one_tap_away(app, clock, rowan_page, declare):
    from app.vendors import services as vendors
    vendor = vendors.create_vendor(name="Oracle", tier="critical")
    incident = declare(by=rowan_page.user)
    url = f"/incidents/{incident.id}"

    response = form_post(rowan_page, f"{url}/links", {"target": f"vendor:{vendor.id}"}, url)
    again = form_post(rowan_page, f"{url}/links", {"target": f"vendor:{vendor.id}"}, url)

    assert response.status_code == 302 and again.status_code == 422
    assert f'href="/vendors/{vendor.id}#ladder-heading">Escalation ladder</a>' in rowan_page.get(url).get_data(
        as_text=True)
    assert db.session.scalar(select(func.count()).select_from(IncidentLink)) == 1


def test_the_home_page_lists_my_open_incident_tasks(app, clock, rowan_page, declare):
    incident = declare(by=rowan_page.user, title="Billing run failed")
    task = tasks.add_task(incident, title="Rerun the billing job", owner_id=rowan_page.user.id,
                          due_at=NOW + timedelta(hours=1), actor=rowan_page.user)
    home = rowan_page.get("/").get_data(as_text=True)
    assert "Your open incident tasks" in home and "Rerun the billing job" in home

    tasks.set_task_status(incident, task, status="done", actor=rowan_page.user)
    assert "Rerun the billing job" not in rowan_page.get("/").get_data(as_text=True)


def test_the_timeline_exports_as_markdown_and_prints_one_a4_page_per_40_events(app, clock, rowan_page, declare):
    incident = declare(by=rowan_page.user, title="Billing | run *failed*")
    for number in range(45):
        record_event(incident, kind="note", text=f"step {number}", actor="Rowan")
    db.session.commit()

    markdown = rowan_page.get(f"/incidents/{incident.id}/timeline.md")
    printed = rowan_page.get(f"/incidents/{incident.id}/print").get_data(as_text=True)

    text = markdown.get_data(as_text=True)
    assert markdown.mimetype == "text/markdown"
    assert text.startswith(f"# INC-{incident.id} Billing \\| run \\*failed\\*")
    assert text.count("| note | Rowan |") == 45
    assert printed.count('data-testid="print-page"') == 2  # 46 events: 40, then 6
    assert "<nav" not in printed and "Page 2 of 2" in printed


def test_the_review_page_completes_the_review_and_links_what_it_handed_over(app, clock, login_as, declare):
    casey = login_as("crisis_team", name="Casey C")
    incident = declare(by=casey.user)
    review.resolve(incident.id, resolution="Fixed", actor=casey.user)
    url = f"/incidents/{incident.id}/review"

    form_post(casey, f"{url}/lessons", {"title": "Dry-run pushes", "recommendation": "Always"}, url)
    form_post(casey, f"{url}/follow-ups", {"kind": "risk", "title": "Push tooling", "owner_id": casey.user.id,
                                           "category": "defect", "likelihood": 2, "impact": 3}, url)
    refused = form_post(casey, f"{url}/complete", {"what_happened": "A push"}, url)
    done = form_post(casey, f"{url}/complete", {"what_happened": "A push", "root_cause": "No dry run"}, url)

    assert refused.status_code == 422 and "Name the root cause." in errors(refused)
    assert done.status_code == 302
    page = casey.get(url).get_data(as_text=True)
    assert "Review <strong>completed</strong>" in page and "in readiness" in page and "/risks/" in page
    closed = form_post(casey, f"/incidents/{incident.id}/close", {}, url)
    assert closed.status_code == 302 and db.session.get(Incident, incident.id).status == "closed"


def test_an_admin_edits_a_severity_and_a_bad_interval_is_refused(app, clock, login_as):
    admin = login_as("admin")
    page = admin.get("/incidents/settings")
    assert page.status_code == 200 and "SEV4" in page.get_data(as_text=True)

    refused = form_post(admin, "/incidents/settings/SEV2", {"SEV2-description": "Major", "SEV2-update_interval_minutes":
                                                             2}, "/incidents/settings")
    saved = form_post(admin, "/incidents/settings/SEV2", {"SEV2-description": "Major outage",
                                                           "SEV2-update_interval_minutes": 45}, "/incidents/settings")

    assert refused.status_code == 422 and saved.status_code == 302
    from app.incidents.severities import get_severity
    assert (get_severity("SEV2").description, get_severity("SEV2").update_interval_minutes) == ("Major outage", 45)
    assert form_post(admin, "/incidents/settings/SEV9", {}, "/incidents/settings").status_code == 404


def test_the_timeline_shows_events_recorded_later_as_such(app, clock, rowan_page, declare):
    incident = declare(by=rowan_page.user)
    clock.shift(timedelta(minutes=20))
    form_post(rowan_page, f"/incidents/{incident.id}/notes", {"text": "DBA saw locks", "happened_at":
                                                              "2026-11-18T10:05"}, f"/incidents/{incident.id}")
    note = db.session.scalar(select(IncidentEvent).where(IncidentEvent.kind == "note"))
    assert note.at == NOW + timedelta(minutes=5)
    assert "(recorded 18 Nov 10:20)" in rowan_page.get(f"/incidents/{incident.id}").get_data(as_text=True)
