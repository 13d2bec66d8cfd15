"""Run mode end to end: from an alert to its runbook, each step marked with its time, the outcome, the error rate."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.alerting.models import AlertEvent
from app.alerting.services import raise_alert
from app.extensions import db
from app.runbooks.catalog import entry_for
from app.runbooks.models import RunbookRun
from app.runbooks.services import get_runbook
from tests.conftest import form_post
from tests.runbooks.support import run_through, write


def test_a_run_from_an_alert_page_marks_each_step_and_lands_on_the_alerts_timeline(folder, owner, sync, login_as):
    write(folder, "gateway.md", owner=owner.email, alerts=["payment-gateway:*"])
    sync()
    alert, _created = raise_alert(summary="Gateway down", source="api", dedup_key="payment-gateway:eu", severity="high")
    db.session.commit()
    client = login_as("responder")

    alert_page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert 'data-testid="related-runbooks"' in alert_page and 'href="/runbooks/gateway"' in alert_page
    run_link = re.search(r'href="(/runbooks/gateway/run\?alert_id=\d+)"', alert_page).group(1)
    start_page = client.get(run_link)
    assert start_page.status_code == 200
    started = form_post(client, "/runbooks/gateway/runs", {"alert_id": alert.id}, page_url=run_link)
    assert started.status_code == 302
    run_url = started.headers["Location"]
    run = db.session.scalar(select(RunbookRun))
    assert (run.alert_id, run.content_hash) == (alert.id, get_runbook("gateway").content_hash)

    for position, mark in ((1, "done"), (2, "failed"), (3, "done")):
        assert form_post(client, f"/runbooks/runs/{run.id}/steps/{position}", {"outcome": mark},
                         page_url=run_url).status_code == 302
    no_note = form_post(client, f"/runbooks/runs/{run.id}/finish", {"outcome": "deviations"}, page_url=run_url)
    assert no_note.status_code == 422 and "Say what was wrong" in no_note.get_data(as_text=True)
    finished = form_post(client, f"/runbooks/runs/{run.id}/finish",
                         {"outcome": "deviations", "note": "Restarted twice"}, page_url=run_url)
    assert finished.status_code == 302

    db.session.expire_all()
    run = db.session.get(RunbookRun, run.id)
    assert [(step.position, step.outcome, step.by_name) for step in run.steps] == [
        (1, "done", client.user.name), (2, "failed", client.user.name), (3, "done", client.user.name)]
    assert all(step.at is not None for step in run.steps) and run.outcome == "deviations"
    timeline = [event.text for event in db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id))]
    assert any("started runbook" in text for text in timeline)
    assert any("finished runbook" in text and "worked with deviations" in text for text in timeline)

    entry = entry_for(get_runbook("gateway"))
    assert (entry.stats.runs, entry.stats.percent, entry.stats.failing_step) == (1, 100, "Restart the job")
    page = client.get(run_url).get_data(as_text=True)
    assert 'data-testid="run-outcome"' in page and "Restarted twice" in page
    assert form_post(client, f"/runbooks/runs/{run.id}/steps/1", {"outcome": "failed"},
                     page_url=run_url).status_code == 302  # refused with a message: the run is finished
    assert db.session.get(RunbookRun, run.id).steps[0].outcome == "done"


def test_executives_read_runs_but_do_not_run_runbooks(folder, owner, sync, login_as):
    write(folder, "restart.md", owner=owner.email)
    sync()
    run = run_through("restart", owner, ["done", "done", "done"], "worked")
    client = login_as("executive")
    assert client.get(f"/runbooks/runs/{run.id}").status_code == 200
    assert client.get("/runbooks/restart/run").status_code == 403


def test_the_api_records_a_whole_run_or_nothing(folder, owner, sync, api_as):
    write(folder, "restart.md", owner=owner.email)
    sync()
    api = api_as("responder")
    bad = api.post("/api/v1/runbooks/restart/runs", json={"outcome": "worked", "steps": [
        {"position": 1, "outcome": "done"}, {"position": 9, "outcome": "done"}]})
    assert bad.status_code == 422 and "steps[1].position" in bad.get_json()["fields"]
    assert db.session.scalar(select(RunbookRun.id)) is None
    unknown_alert = api.post("/api/v1/runbooks/restart/runs", json={"outcome": "worked", "alert_id": 99999})
    assert unknown_alert.status_code == 422 and "alert_id" in unknown_alert.get_json()["fields"]
    good = api.post("/api/v1/runbooks/restart/runs", json={"outcome": "failed", "note": "Job never came back",
                                                           "incident_id": 7, "steps": [
        {"position": 1, "outcome": "done"}, {"position": 2, "outcome": "failed"}]})
    assert good.status_code == 201, good.get_json()
    assert [step["outcome"] for step in good.get_json()["steps"]] == ["done", "failed"]
    assert db.session.scalar(select(RunbookRun.incident_id)) == 7


def test_runs_tell_registered_listeners(folder, owner, sync):
    from app.runbooks import runs

    heard = []
    runs.add_run_listener(heard.append)
    try:
        write(folder, "restart.md", owner=owner.email)
        sync()
        run = run_through("restart", owner, ["done"], "worked", incident_id=12)
    finally:
        runs._RUN_LISTENERS.remove(heard.append)
    assert [item.id for item in heard] == [run.id, run.id] and run.incident_id == 12  # started, then finished


def test_the_error_rate_looks_at_the_last_four_fiscal_quarters(folder, owner, sync):
    import time_machine
    from datetime import UTC, datetime

    write(folder, "restart.md", owner=owner.email)
    with time_machine.travel(datetime(2025, 6, 10, 12, tzinfo=UTC), tick=False):  # Q2 FY26
        sync()
        run_through("restart", owner, ["failed"], "failed", note="old")
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):  # Q4 FY27: window from Q1 FY27
        run_through("restart", owner, ["done"], "worked")
        entry = entry_for(get_runbook("restart"))
    assert (entry.stats.runs, entry.stats.percent) == (1, 0)
