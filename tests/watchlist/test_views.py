"""Watch list pages: the list with filters, a job's page, forms, pause/resume, windows, import, export, badges."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.watchlist.models import Job, MaintenanceWindow, WatchedApp
from tests.conftest import form_post
from tests.watchlist.conftest import START, fresh

READERS = ["responder", "executive"]


def squash(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def job_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Job))


def job_fields(app_id: int, **changes) -> dict:
    fields = {"app_id": str(app_id), "name": "Billing run", "criticality": "critical", "schedule_kind": "cron",
              "cron_expr": "0 2 * * *", "time_zone": "Europe/London", "grace_minutes": "15",
              "max_duration_minutes": "90", "failures_before_paging": "1"}
    fields.update(changes)
    return fields


def test_the_watch_list_is_empty_at_first_and_says_what_to_do(login_as):
    page = login_as("crisis_team").get("/watchlist")

    assert page.status_code == 200
    assert "No jobs are watched yet." in page.get_data(as_text=True)


def test_the_watch_list_shows_state_and_next_run_in_the_jobs_zone_and_the_viewers(login_as, make_job, ping, clock):
    job = make_job(cron_expr="0 2 * * *", time_zone="America/Los_Angeles", name="Revenue recognition")
    ping(job)  # at 01:00 PST; next slot: Mon 16 Nov 02:00 PST = 10:00 UTC = 19:00 in Tokyo

    text = squash(login_as("executive", time_zone="Asia/Tokyo").get("/watchlist").get_data(as_text=True))

    assert "Revenue recognition" in text and " up " in text
    # Zones by offset and place: "PST" could be Los Angeles or Manila.
    assert "Mon 16 Nov 02:00 UTC−8, Los Angeles" in text and "Mon 16 Nov 19:00 UTC+9, Tokyo" in text


def test_the_watch_list_filters_by_app_owner_and_state(login_as, make_app, make_job, make_user, ping, clock):
    erp, crm = make_app("ERP"), make_app("CRM")
    owner = make_user("crisis_team", name="Casey Crisis")
    make_job(app_id=erp.id, name="GL posting", owner_id=owner.id)
    down = make_job(app_id=crm.id, name="Opportunity sync")
    ping(down, "fail")
    client = login_as("responder")

    def names(query: str) -> set[str]:
        html = client.get(f"/watchlist?{query}").get_data(as_text=True)
        return set(re.findall(r'href="/watchlist/jobs/\d+">([^<]+)<', html))

    assert names("") == {"GL posting", "Opportunity sync"}
    assert names(f"app_id={erp.id}") == {"GL posting"}
    assert names(f"owner_id={owner.id}") == {"GL posting"}
    assert names("state=down") == {"Opportunity sync"}
    assert "No job matches these filters." in client.get("/watchlist?state=late").get_data(as_text=True)


def test_the_watch_list_pages_long_lists(login_as, make_app, make_job, clock):
    app = make_app("ERP")
    for index in range(3):
        make_job(app_id=app.id, name=f"Job {index}")

    client = login_as("responder")
    first = client.get("/watchlist?per_page=2").get_data(as_text=True)
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    html = client.get(next_link).get_data(as_text=True)

    assert "per_page=2" in next_link and "Job 2" in html and "Job 0" not in html and 'rel="next"' not in html


def test_an_editor_creates_a_job_from_the_page(login_as, make_app, clock):
    app = make_app("Billing")
    client = login_as("crisis_team")

    response = form_post(client, "/watchlist/jobs/new", job_fields(app.id))

    assert response.status_code == 302
    job = db.session.scalar(select(Job))
    assert (job.name, job.cron_expr, job.time_zone, job.max_duration_seconds) == ("Billing run", "0 2 * * *",
                                                                                   "Europe/London", 5400)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"http://127.0.0.1:5000/ping/{job.ping_key}" in page and "curl -fsS" in page


def test_a_bad_cron_expression_is_shown_next_to_its_field(login_as, make_app, clock):
    app = make_app("Billing")

    response = form_post(login_as("admin"), "/watchlist/jobs/new", job_fields(app.id, cron_expr="0 25 * * *"))

    assert response.status_code == 422
    assert re.search(r'id="cron_expr-error" class="error">Not a cron expression: bad hour', response.get_data(as_text=True))
    assert job_count() == 0


@pytest.mark.parametrize("role", READERS)
def test_readers_see_a_job_but_not_its_secret_ping_url(login_as, make_job, clock, role):
    job = make_job()
    client = login_as(role)

    page = client.get(f"/watchlist/jobs/{job.id}").get_data(as_text=True)

    assert job.name in page and job.ping_key not in page
    assert client.get(f"/watchlist/jobs/{job.id}/edit").status_code == 403
    assert client.post(f"/watchlist/jobs/{job.id}/pause").status_code in (400, 403)
    assert not fresh(job).paused


def test_an_editor_pauses_and_resumes_a_job(login_as, make_job, clock):
    job = make_job()
    client = login_as("crisis_team")

    form_post(client, f"/watchlist/jobs/{job.id}/pause", {}, page_url=f"/watchlist/jobs/{job.id}")
    assert (fresh(job).paused, fresh(job).state) == (True, "paused")

    form_post(client, f"/watchlist/jobs/{job.id}/resume", {}, page_url=f"/watchlist/jobs/{job.id}")
    assert (fresh(job).paused, fresh(job).state) == (False, "new")


def test_an_editor_edits_a_job_and_a_new_schedule_is_expected_from_now(login_as, make_job, ping, clock):
    job = make_job()
    ping(job)
    clock.move_to(START + timedelta(minutes=10))

    response = form_post(login_as("admin"), f"/watchlist/jobs/{job.id}/edit",
                         job_fields(job.app_id, name=job.name, schedule_kind="interval", interval_minutes="30",
                                    cron_expr=""))

    assert response.status_code == 302
    assert fresh(job).due_at == START + timedelta(minutes=40)


def test_an_editor_adds_and_removes_a_weekly_maintenance_window(login_as, make_job, clock):
    job = make_job()
    client = login_as("crisis_team")

    response = form_post(client, f"/watchlist/jobs/{job.id}/windows",
                         {"kind": "weekly", "weekday": "6", "start_time": "01:00", "end_time": "03:00",
                          "time_zone": "Europe/London", "note": "ERP patching"}, page_url=f"/watchlist/jobs/{job.id}")

    assert response.status_code == 302
    window = db.session.scalar(select(MaintenanceWindow))
    assert "Sundays 01:00–03:00 (UTC, London) — ERP patching" in client.get(f"/watchlist/jobs/{job.id}").get_data(
        as_text=True)
    form_post(client, f"/watchlist/jobs/{job.id}/windows/{window.id}/delete", {}, page_url=f"/watchlist/jobs/{job.id}")
    assert db.session.scalar(select(func.count()).select_from(MaintenanceWindow)) == 0


def test_a_one_off_window_must_end_after_it_starts(login_as, make_job, clock):
    job = make_job()

    response = form_post(login_as("crisis_team"), f"/watchlist/jobs/{job.id}/windows",
                         {"kind": "once", "starts_at": "2026-12-01T03:00", "ends_at": "2026-12-01T01:00",
                          "time_zone": "UTC"}, page_url=f"/watchlist/jobs/{job.id}")

    assert response.status_code == 422
    assert "The end must come after the start." in response.get_data(as_text=True)


def test_the_job_page_shows_runs_trend_and_timeline(login_as, make_job, ping, clock):
    job = make_job()
    ping(job, "start")
    clock.move_to(START + timedelta(minutes=3))
    ping(job, "0", method="POST", data=b"4,210 invoices posted")

    html = login_as("responder").get(f"/watchlist/jobs/{job.id}").get_data(as_text=True)

    main = html[html.index("<main"):]  # drawn on the server: no script in the page's content
    assert 'data-testid="trend"' in main and "<polyline" in main and "<script" not in main
    assert "4,210 invoices posted" in html and 'data-testid="timeline"' in html and 'data-testid="uptime"' in html


def test_the_top_jobs_page_ranks_and_switches_order(login_as, make_job, ping, clock):
    job = make_job(name="Tax calculation", failures_before_paging=5)
    ping(job, "fail")
    client = login_as("executive")

    html = client.get("/watchlist/top?sort=failures").get_data(as_text=True)

    assert "Tax calculation" in html and "<strong>failures</strong>" in html


def test_the_badge_is_public_and_keyed_by_its_own_secret(app, make_job, ping, clock):
    job = make_job(name="Billing run")
    ping(job, "fail")
    client = app.test_client()

    response = client.get(f"/badge/{job.badge_key}.svg")

    assert (response.status_code, response.mimetype) == (200, "image/svg+xml")
    assert ">Billing run<" in response.get_data(as_text=True) and ">down<" in response.get_data(as_text=True)
    assert client.get(f"/badge/{job.ping_key}.svg").status_code == 404  # the ping key is not a badge key
    assert job.badge_key not in job.ping_key


def test_apps_are_created_listed_and_refuse_deletion_while_they_have_jobs(login_as, make_job, clock):
    client = login_as("crisis_team")
    response = form_post(client, "/watchlist/apps/new", {"name": "ERP", "criticality": "critical",
                                                         "rto_minutes": "240", "runbook_url": "/runbooks/erp.md"})
    app = db.session.scalar(select(WatchedApp))
    assert response.status_code == 302 and (app.name, app.rto_minutes) == ("ERP", 240)
    make_job(app_id=app.id)

    form_post(client, f"/watchlist/apps/{app.id}/delete", {}, page_url=f"/watchlist/apps/{app.id}")

    assert db.session.get(WatchedApp, app.id) is not None
    assert "ERP" in client.get("/watchlist/apps").get_data(as_text=True)


def test_the_export_downloads_every_job_as_csv(login_as, make_app, make_job, clock):
    make_job(app_id=make_app("ERP").id, name="GL posting", cron_expr="0 */4 * * *", time_zone="America/Los_Angeles")

    response = login_as("executive").get("/watchlist/export.csv")

    assert response.mimetype == "text/csv"
    assert "ERP,GL posting,,,high,,cron,,0 */4 * * *,America/Los_Angeles,15,30,,1,false" in response.get_data(
        as_text=True)


def test_the_import_page_checks_first_and_applies_only_when_confirmed(login_as, clock):
    client = login_as("crisis_team")
    csv_text = ("app,name,schedule_kind,interval_minutes,cron,time_zone\n"
                "ERP,GL posting,cron,,0 */4 * * *,America/Los_Angeles\n"
                "ERP,Order import,interval,60,,UTC\n")

    checked = form_post(client, "/watchlist/import", {"csv_text": csv_text})

    assert checked.status_code == 200 and "2 to create" in checked.get_data(as_text=True)
    assert job_count() == 0
    applied = form_post(client, "/watchlist/import", {"csv_text": csv_text, "confirm": "y"})
    assert applied.status_code == 302 and job_count() == 2


def test_the_import_page_lists_each_rows_errors_and_changes_nothing(login_as, clock):
    client = login_as("admin")
    csv_text = ("app,name,schedule_kind,interval_minutes,cron,owner_email\n"
                "ERP,GL posting,cron,,0 99 * * *,\n"
                "ERP,Order import,interval,sixty,,\n"
                "ERP,Bookings,interval,60,,nobody@example.com\n")

    response = form_post(client, "/watchlist/import", {"csv_text": csv_text, "confirm": "y"})

    text = squash(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "cron: Not a cron expression: bad hour" in text
    assert "interval_minutes: Must be a whole number." in text
    assert "owner_email: No person with email nobody@example.com." in text
    assert job_count() == 0 and db.session.scalar(select(func.count()).select_from(WatchedApp)) == 0


def test_who_do_i_call_finds_apps_and_jobs_by_name(login_as, make_app, make_job, make_user):
    owner = make_user("crisis_team", name="Priya Patel")
    erp = make_app("ERP", owner_id=owner.id, criticality="critical", runbook_url="https://wiki.example.com/erp")
    make_app("Payroll")
    job = make_job(name="ERP nightly billing", app_id=erp.id)
    client = login_as("responder")

    html = client.get("/search?q=erp").get_data(as_text=True)

    assert '<h2 id="results-apps">Apps</h2>' in html and '<h2 id="results-jobs">Jobs</h2>' in html
    assert f'href="/watchlist/apps/{erp.id}"' in html and "critical · owner Priya Patel · runbook" in html
    assert f'href="/watchlist/jobs/{job.id}"' in html
    assert "Payroll" not in html


@pytest.mark.parametrize("starts, ends, stored", [
    ("2026-12-01T03:00", "2026-12-01T09:00", datetime(2026, 12, 1, 11, tzinfo=UTC)),  # 03:00 PST
    ("2027-03-14T02:30", "2027-03-14T09:00", datetime(2027, 3, 14, 10, tzinfo=UTC)),  # skipped: the jump
    ("2026-12-01T03:00+01:00", "2026-12-01T09:00", datetime(2026, 12, 1, 2, tzinfo=UTC)),  # offset as written
])
def test_a_one_off_window_is_read_in_the_editors_zone_which_the_form_states(login_as, make_job, clock, starts, ends,
                                                                             stored):
    job = make_job()
    client = login_as("crisis_team", time_zone="America/Los_Angeles")
    page = client.get(f"/watchlist/jobs/{job.id}").get_data(as_text=True)
    assert "in your time zone (UTC−8, Los Angeles)" in page

    response = form_post(client, f"/watchlist/jobs/{job.id}/windows",
                         {"kind": "once", "starts_at": starts, "ends_at": ends, "time_zone": "UTC"},
                         page_url=f"/watchlist/jobs/{job.id}")

    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(select(MaintenanceWindow.starts_at)) == stored


@pytest.mark.config(CLOSE_TIME_ZONE="America/Los_Angeles")
def test_a_close_freeze_window_is_added_by_business_day_offsets(login_as, api_as, make_job, clock):
    job = make_job()
    client = login_as("crisis_team")

    added = form_post(client, f"/watchlist/jobs/{job.id}/windows",
                      {"kind": "freeze", "bd_start": "-2", "bd_end": "3", "time_zone": "UTC", "note": "Close freeze"},
                      page_url=f"/watchlist/jobs/{job.id}")
    reversed_range = api_as("admin").post(f"/api/v1/watchlist/jobs/{job.id}/maintenance-windows",
                                          json={"kind": "freeze", "bd_start": 3, "bd_end": -2})

    assert added.status_code == 302
    page = client.get(f"/watchlist/jobs/{job.id}").get_data(as_text=True)
    assert "Every quarter&#39;s close, BD-2 to BD+3, whole days (UTC−8, Los Angeles) — Close freeze" in page
    window = db.session.scalar(select(MaintenanceWindow))
    assert (window.kind, window.bd_start, window.bd_end, window.time_zone) == ("freeze", -2, 3, "America/Los_Angeles")
    assert reversed_range.status_code == 422 and "bd_end" in reversed_range.get_json()["fields"]


def test_the_export_escapes_cells_a_spreadsheet_would_run_and_the_import_takes_them_back(login_as, make_app, make_job,
                                                                                       clock):
    make_job(app_id=make_app("=HYPERLINK(\"http://x\")").id, name="@sum", description="-1 day",
             cron_expr="0 2 * * *", time_zone="UTC")
    client = login_as("crisis_team")

    exported = client.get("/watchlist/export.csv").get_data(as_text=True)

    assert "'=HYPERLINK" in exported and ",'@sum," in exported and ",'-1 day," in exported
    checked = form_post(client, "/watchlist/import", {"csv_text": exported})
    assert checked.status_code == 200 and "1 unchanged" in checked.get_data(as_text=True)


def test_the_watch_list_puts_failing_jobs_first_and_filters_on_several_states(app, login_as, make_app, make_job):
    apps = [make_app("Alpha app"), make_app("Zulu app")]
    jobs = {}
    for number, (app_record, state) in enumerate([(apps[0], "up"), (apps[0], "paused"), (apps[1], "late"),
                                                  (apps[1], "down")]):
        job = make_job(app_id=app_record.id, name=f"Job {number} {state}")
        db.session.get(Job, job.id).state = state
        jobs[state] = job.name
    db.session.commit()
    client = login_as("responder")

    html = client.get("/watchlist").get_data(as_text=True)
    order = sorted(jobs.values(), key=html.index)
    assert order[:2] == [jobs["down"], jobs["late"]]  # failing first, though their app sorts last

    html = client.get("/watchlist?state=down&state=late").get_data(as_text=True)
    assert jobs["down"] in html and jobs["late"] in html and jobs["up"] not in html and jobs["paused"] not in html
    assert 'value="down" checked' in html and 'value="late" checked' in html and 'value="up" checked' not in html
    assert "Showing 2 jobs" in html
