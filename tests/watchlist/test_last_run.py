"""The watch list shows each job's last run: its outcome and how long it took (or has been running)."""
from __future__ import annotations

import re
from datetime import timedelta


from tests.conftest import count_queries
from tests.watchlist.conftest import START, detect


def last_run_cells(html: str) -> dict[str, tuple[str | None, str]]:
    """{job name: (data-outcome, text of the Last run cell)} for every row of the list."""
    rows = re.findall(r'href="/watchlist/jobs/\d+">([^<]+)</a>.*?<td data-testid="last-run"'
                      r'(?: data-outcome="([a-z_]+)")?>([^<]*)</td>', html, flags=re.S)
    return {name: (outcome or None, text.strip()) for name, outcome, text in rows}


def test_the_list_shows_each_jobs_last_run_outcome_and_duration(login_as, make_app, make_job, ping, clock):
    erp = make_app("ERP")
    quick, broken, going, never = (make_job(app_id=erp.id, name=name)
                                   for name in ("Billing", "GL posting", "Revenue", "Unused"))
    ping(quick, "start")
    ping(broken, "start")
    clock.move_to(START + timedelta(minutes=4, seconds=12))
    ping(quick)  # 4 min 12 s after its start
    ping(broken, "3")  # exit code 3: failed
    ping(going, "start")
    clock.move_to(START + timedelta(minutes=7, seconds=12))  # Revenue has been running 3 minutes

    html = login_as("executive").get("/watchlist").get_data(as_text=True)

    assert last_run_cells(html) == {"Billing": ("success", "ok in 4m 12s"),
                                    "GL posting": ("failed", "failed (exit 3) after 4m 12s"),
                                    "Revenue": ("running", "running 3m"),
                                    "Unused": (None, "—")}
    assert "<th>Last run</th>" in html


def test_a_run_still_going_past_its_maximum_shows_as_too_slow(login_as, make_job, ping, clock):
    job = make_job(name="Close books", max_duration_minutes=30)
    ping(job, "start")
    clock.move_to(START + timedelta(minutes=42))
    detect()  # the detector marks the open run too slow

    html = login_as("responder").get("/watchlist").get_data(as_text=True)

    assert last_run_cells(html)["Close books"] == ("too_slow", "too slow: running 42m")


def test_the_list_reads_the_same_number_of_queries_however_many_jobs_apps_and_owners_it_shows(
        login_as, make_app, make_job, make_user, ping, clock):
    client = login_as("responder")

    def add_jobs_with_runs(count: int) -> None:
        for _ in range(count):  # each job on its own app, with its own owner, and with a run
            job = make_job(app_id=make_app().id, owner_id=make_user("responder").id)
            ping(job, "start")
            ping(job)

    add_jobs_with_runs(2)
    count_queries(client, "/watchlist")  # warm up: whatever the first request of a client reads once
    few = count_queries(client, "/watchlist")
    add_jobs_with_runs(8)
    many = count_queries(client, "/watchlist")

    assert many == few
    assert len(last_run_cells(client.get("/watchlist").get_data(as_text=True))) == 10
