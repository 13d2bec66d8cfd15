"""An incident and the runbook catalog: the runbooks covering what the incident touches are one tap away on its
page, and a run opened from there is recorded on the incident as a runbook in use, with its outcome."""
from __future__ import annotations

import pytest
from flask import current_app

from app.incidents import links
from app.incidents.models import IncidentEvent, IncidentRunbook
from app.extensions import db
from app.runbooks.sync import sync_runbooks
from sqlalchemy import select
from tests.runbooks.support import make_job, run_through, table_of_contents, write


@pytest.fixture
def catalog(app, tmp_path, people):
    folder = tmp_path / "runbooks"
    folder.mkdir()
    current_app.config["RUNBOOKS_DIR"] = str(folder)
    job = make_job("Billing", "Billing run")
    write(folder, "billing-restart.md", title="Restarting billing", owner=people["casey"].email, jobs=["billing-run"])
    write(folder, "payroll.md", title="Payroll", owner=people["casey"].email, systems=["Payroll"])
    table_of_contents(folder, "billing-restart.md", "payroll.md")
    sync_runbooks()
    return job


def test_the_incident_page_offers_the_runbooks_for_its_jobs_with_run_mode(catalog, declare, people, login_as):
    incident = declare(title="Billing run failed")
    links.add_link(incident, kind="job", target_id=catalog.id, actor=people["rowan"])

    page = login_as("responder").get(f"/incidents/{incident.id}").get_data(as_text=True)

    section = page[page.index('data-testid="suggested-runbooks"'):]
    section = section[:section.index("</ul>")]
    assert "Restarting billing" in section and "Payroll" not in section
    assert f"/runbooks/billing-restart/run?incident_id={incident.id}" in section


def test_a_run_opened_from_the_incident_is_in_use_there_with_its_outcome(catalog, declare, people):
    incident = declare(title="Billing run failed")

    run_through("billing-restart", people["rowan"], ["done", "failed", "done"], "deviations", note="Log was empty",
                incident_id=incident.id)

    [in_use] = db.session.scalars(select(IncidentRunbook).where(IncidentRunbook.incident_id == incident.id))
    assert (in_use.runbook_slug, in_use.title) == ("billing-restart", "Restarting billing")
    assert in_use.outcome.endswith("Log was empty") and "deviation" in in_use.outcome.lower()
    texts = [event.text for event in db.session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "runbook"))]
    assert any("run #" in text and "started" in text for text in texts)
    assert links.suggested_runbooks(incident) == []  # in use now: no longer suggested
