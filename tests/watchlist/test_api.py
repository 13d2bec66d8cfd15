"""API: /api/v1/watchlist — editors change apps and jobs, everyone reads; runs, windows, CSV round trip."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.watchlist.models import Job, WatchedApp
from tests.watchlist.conftest import fresh

URL = "/api/v1/watchlist"
READERS = ["responder", "executive"]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def erp(api_as):
    response = api_as("admin").post(f"{URL}/apps", json={"name": "ERP", "criticality": "critical",
                                                         "rto_minutes": 240, "rpo_minutes": 60})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def job_body(app_id: int, **changes) -> dict:
    return {"app_id": app_id, "name": "GL posting", "schedule_kind": "cron", "cron_expr": "0 */4 * * *",
            "time_zone": "America/Los_Angeles", "grace_minutes": 10, "max_duration_minutes": 45, **changes}


def test_an_editor_creates_a_job_and_gets_its_ping_url(api_as, erp, clock):
    response = api_as("crisis_team").post(f"{URL}/jobs", json=job_body(erp["id"]))

    assert response.status_code == 201
    body = response.get_json()
    job = db.session.get(Job, body["id"])
    assert body["ping_url"] == f"http://127.0.0.1:5000/ping/{job.ping_key}"
    assert (body["state"], body["cron_expr"], body["grace_minutes"]) == ("new", "0 */4 * * *", 10)


@pytest.mark.parametrize("role", READERS)
def test_readers_list_jobs_without_ping_urls_and_cannot_change_anything(api_as, erp, role, clock):
    api_as("admin").post(f"{URL}/jobs", json=job_body(erp["id"]))
    reader = api_as(role)

    listed = reader.get(f"{URL}/jobs")
    job_id = listed.get_json()["jobs"][0]["id"]

    assert listed.status_code == 200 and listed.get_json()["total"] == 1
    assert "ping_url" not in listed.get_json()["jobs"][0]
    assert reader.post(f"{URL}/jobs", json=job_body(erp["id"], name="Other")).status_code == 403
    assert reader.patch(f"{URL}/jobs/{job_id}", json={"name": "Renamed"}).status_code == 403
    assert reader.post(f"{URL}/jobs/{job_id}/pause").status_code == 403
    assert reader.delete(f"{URL}/apps/{erp['id']}").status_code == 403
    assert reader.get(f"{URL}/apps").get_json()[0]["name"] == "ERP"


@pytest.mark.parametrize("change, field", [
    ({"cron_expr": "0 */4 * *"}, "cron_expr"),
    ({"schedule_kind": "weekly"}, "schedule_kind"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"app_id": 999}, "app_id"),
    ({"max_duration_minutes": 0}, "max_duration_minutes"),
    ({"min_duration_minutes": 50}, "min_duration_minutes"),
    ({"failures_before_paging": 21}, "failures_before_paging"),
    ({"colour": "red"}, "colour"),
])
def test_an_invalid_job_is_a_422_naming_the_field(api_as, erp, change, field, clock):
    response = api_as("admin").post(f"{URL}/jobs", json={**job_body(erp["id"]), **change})

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"]
    assert count(Job) == 0


def test_a_taken_name_in_the_same_app_is_a_409(api_as, erp, clock):
    api = api_as("admin")
    api.post(f"{URL}/jobs", json=job_body(erp["id"]))

    assert api.post(f"{URL}/jobs", json=job_body(erp["id"])).status_code == 409


def test_patch_keeps_what_it_leaves_out(api_as, erp, clock):
    api = api_as("admin")
    job_id = api.post(f"{URL}/jobs", json=job_body(erp["id"], min_duration_minutes=2)).get_json()["id"]

    response = api.patch(f"{URL}/jobs/{job_id}", json={"grace_minutes": 30})

    body = response.get_json()
    assert response.status_code == 200
    assert (body["grace_minutes"], body["cron_expr"], body["min_duration_minutes"], body["name"]) == \
        (30, "0 */4 * * *", 2, "GL posting")


def test_pause_and_resume_through_the_api(api_as, erp, clock):
    api = api_as("crisis_team")
    job_id = api.post(f"{URL}/jobs", json=job_body(erp["id"])).get_json()["id"]

    assert api.post(f"{URL}/jobs/{job_id}/pause").get_json()["state"] == "paused"
    assert api.post(f"{URL}/jobs/{job_id}/resume").get_json()["state"] == "new"


def test_runs_are_listed_newest_first(api_as, erp, ping, clock):
    api = api_as("admin")
    job = db.session.get(Job, api.post(f"{URL}/jobs", json=job_body(erp["id"])).get_json()["id"])
    ping(job, "start")
    ping(job, "3", method="POST", data=b"disk full")

    response = api_as("executive").get(f"{URL}/jobs/{job.id}/runs")

    [run] = response.get_json()["runs"]
    assert (run["outcome"], run["exit_code"], run["log"]) == ("failed", 3, "disk full")


def test_maintenance_windows_through_the_api(api_as, erp, clock):
    api = api_as("admin")
    job_id = api.post(f"{URL}/jobs", json=job_body(erp["id"])).get_json()["id"]

    added = api.post(f"{URL}/jobs/{job_id}/maintenance-windows",
                     json={"kind": "weekly", "weekday": 6, "start_time": "01:00", "end_time": "03:00",
                           "time_zone": "Europe/London"})

    assert added.status_code == 201
    assert added.get_json()["description"] == "Sundays 01:00–03:00 (UTC, London)"
    assert api.delete(f"{URL}/jobs/{job_id}/maintenance-windows/{added.get_json()['id']}").status_code == 200
    assert api.get(f"{URL}/jobs/{job_id}").get_json()["windows"] == []


def test_an_app_with_jobs_cannot_be_deleted(api_as, erp, clock):
    api = api_as("admin")
    job_id = api.post(f"{URL}/jobs", json=job_body(erp["id"])).get_json()["id"]

    assert api.delete(f"{URL}/apps/{erp['id']}").status_code == 409
    assert api.delete(f"{URL}/jobs/{job_id}").status_code == 200
    assert api.delete(f"{URL}/apps/{erp['id']}").status_code == 200
    assert count(WatchedApp) == 0


CSV = ("app,name,description,owner_email,criticality,escalation_policy,schedule_kind,interval_minutes,cron,"
       "time_zone,grace_minutes,max_duration_minutes,min_duration_minutes,failures_before_paging,paused\n"
       "ERP,GL posting,,,critical,,cron,,0 */4 * * *,America/Los_Angeles,10,45,,1,false\n"
       "Billing,Billing run,Nightly,,high,,cron,,0 2 * * *,Europe/London,15,150,5,2,false\n"
       "Orders,Order import,,,high,,interval,60,,UTC,15,20,,1,true\n")


def test_a_csv_import_dry_run_reports_each_row_and_changes_nothing(api_as, clock):
    response = api_as("admin").post(f"{URL}/jobs/import", json={"csv": CSV})

    body = response.get_json()
    assert response.status_code == 200
    assert (body["applied"], body["counts"]) == (False, {"create": 3, "update": 0, "unchanged": 0, "error": 0})
    assert body["rows"][0]["notes"] == ["creates app ERP"]
    assert count(Job) == 0 and count(WatchedApp) == 0


def test_a_csv_import_with_one_bad_row_reports_it_and_applies_nothing_even_when_confirmed(api_as, clock):
    bad = CSV.replace("0 2 * * *", "0 2 * *")

    response = api_as("admin").post(f"{URL}/jobs/import", json={"csv": bad, "confirm": True})

    body = response.get_json()
    assert response.status_code == 422 and body["applied"] is False
    assert body["rows"][1]["errors"] == {"cron": "Use five fields: minute hour day-of-month month day-of-week, "
                                                 "e.g. 30 2 * * 1-5, or a nickname such as @daily."}
    assert [row["action"] for row in body["rows"]] == ["create", "error", "create"]
    assert count(Job) == 0


def test_a_confirmed_import_applies_and_the_export_round_trips(api_as, clock):
    api = api_as("admin")

    applied = api.post(f"{URL}/jobs/import", json={"csv": CSV, "confirm": True})
    exported = api.get(f"{URL}/jobs/export").get_json()["csv"]
    again = api.post(f"{URL}/jobs/import", json={"csv": exported, "confirm": True}).get_json()

    assert applied.get_json()["applied"] is True and count(Job) == 3
    assert sorted(exported.splitlines()) == sorted(CSV.splitlines())
    assert again["counts"] == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    paused = db.session.scalar(select(Job).where(Job.name == "Order import"))
    assert (fresh(paused).paused, fresh(paused).state) == (True, "paused")


def test_an_import_updates_a_matching_job_and_says_what_changes(api_as, clock):
    api = api_as("admin")
    api.post(f"{URL}/jobs/import", json={"csv": CSV, "confirm": True})

    changed = CSV.replace("America/Los_Angeles,10,45", "America/Los_Angeles,20,45")
    body = api.post(f"{URL}/jobs/import", json={"csv": changed}).get_json()

    assert body["counts"]["update"] == 1 and body["rows"][0]["notes"] == ["grace_minutes: 10 → 20"]


def test_an_import_with_unknown_columns_is_refused(api_as, clock):
    response = api_as("admin").post(f"{URL}/jobs/import", json={"csv": "app,name,schedule_kind,colour\n"})

    assert response.status_code == 422 and "colour" in response.get_json()["fields"]["csv"]


# --- one app: get and patch --------------------------------------------------------------------------------------

def test_getting_one_app_answers_all_its_fields_with_its_jobs(api_as, make_user, erp, clock):
    owner = make_user("crisis_team", name="Olga Owner")
    admin = api_as("admin")
    admin.patch(f"{URL}/apps/{erp['id']}", json={"owner_id": owner.id, "description": "General ledger",
                                                 "runbook_url": "/runbooks/erp"})
    job_id = admin.post(f"{URL}/jobs", json=job_body(erp["id"])).get_json()["id"]

    response = api_as("executive").get(f"{URL}/apps/{erp['id']}")

    assert response.status_code == 200
    assert response.get_json() == {"id": erp["id"], "name": "ERP", "description": "General ledger",
                                   "owner_id": owner.id, "criticality": "critical", "rto_minutes": 240,
                                   "rpo_minutes": 60, "runbook_url": "/runbooks/erp", "job_ids": [job_id]}


def test_getting_an_app_that_does_not_exist_is_a_404(api_as, clock):
    assert api_as("responder").get(f"{URL}/apps/999").status_code == 404


def test_patching_an_app_saves_the_change_and_keeps_what_it_leaves_out(api_as, erp, clock):
    response = api_as("crisis_team").patch(f"{URL}/apps/{erp['id']}", json={"rto_minutes": 120,
                                                                            "criticality": "high"})

    assert response.status_code == 200
    body = response.get_json()
    assert (body["rto_minutes"], body["criticality"], body["rpo_minutes"], body["name"]) == (120, "high", 60, "ERP")
    db.session.expire_all()
    saved = db.session.get(WatchedApp, erp["id"])
    assert (saved.rto_minutes, saved.criticality, saved.rpo_minutes, saved.name) == (120, "high", 60, "ERP")


@pytest.mark.parametrize("change, field", [
    ({"criticality": "urgent"}, "criticality"),
    ({"rto_minutes": -5}, "rto_minutes"),
    ({"rpo_minutes": "an hour"}, "rpo_minutes"),
    ({"name": ""}, "name"),
    ({"owner_id": 999}, "owner_id"),
    ({"colour": "red"}, "colour"),
])
def test_patching_an_app_with_a_bad_field_is_a_422_naming_it_and_changes_nothing(api_as, erp, change, field,
                                                                                 clock):
    response = api_as("admin").patch(f"{URL}/apps/{erp['id']}", json={"rto_minutes": 5, **change})

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(WatchedApp, erp["id"]).rto_minutes == 240


def test_patching_a_name_another_app_has_is_a_409(api_as, erp, clock):
    admin = api_as("admin")
    other = admin.post(f"{URL}/apps", json={"name": "CRM"}).get_json()

    response = admin.patch(f"{URL}/apps/{other['id']}", json={"name": "ERP"})

    assert response.status_code == 409 and "name" in response.get_json()["fields"]


@pytest.mark.parametrize("role", READERS)
def test_a_reader_may_get_an_app_but_not_patch_it(api_as, erp, role, clock):
    reader = api_as(role)

    assert reader.get(f"{URL}/apps/{erp['id']}").status_code == 200
    assert reader.patch(f"{URL}/apps/{erp['id']}", json={"rto_minutes": 1}).status_code == 403
    db.session.expire_all()
    assert db.session.get(WatchedApp, erp["id"]).rto_minutes == 240
