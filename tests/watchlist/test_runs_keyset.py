"""A job's run history on its page is paged by keyset: newest first, every run once, in order, both ways."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.timeutil import UTC
from app.watchlist.models import JobRun
from tests.conftest import count_queries
from tests.support import pager_link, walk_pages

STARTED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def run_marks(html: str) -> list[int]:
    """The runs listed, top to bottom, by the exit code each was given (its number)."""
    table = html.split('data-testid="runs"', 1)[1].split("</table>", 1)[0] if 'data-testid="runs"' in html else ""
    return [int(code) for code in re.findall(r"<td>success</td><td>(\d+)</td>", table)]


def many_runs(job_id: int, count: int, *, start: int = 0) -> None:
    """`count` finished runs of the job, a minute apart, each with its number as its exit code."""
    for number in range(start, start + count):
        began = STARTED + timedelta(minutes=number)
        db.session.add(JobRun(job_id=job_id, started_at=began, ended_at=began + timedelta(seconds=5),
                              duration_seconds=5.0, outcome="success", exit_code=number % 256))
    db.session.commit()


def newest_first(job_id: int) -> list[int]:
    return list(db.session.scalars(select(JobRun.exit_code).where(JobRun.job_id == job_id)
                                   .order_by(JobRun.id.desc())))


def test_walking_the_runs_shows_every_run_once_newest_first(app, login_as, make_job):
    job = make_job()
    many_runs(job.id, 23)

    forward, backward = walk_pages(login_as("responder"), f"/watchlist/jobs/{job.id}?per_page=4", run_marks)

    assert forward == newest_first(job.id) == list(range(22, -1, -1)) and backward == forward


def test_the_run_pager_names_no_total_and_keeps_the_page_size(app, login_as, make_job):
    job = make_job()
    many_runs(job.id, 5)

    html = login_as("responder").get(f"/watchlist/jobs/{job.id}?per_page=2").get_data(as_text=True)

    assert "Showing 2 runs" in html and " of " not in html.split('data-testid="pager"', 1)[1][:300]
    assert f"/watchlist/jobs/{job.id}?" in pager_link(html, "next") and "per_page=2" in pager_link(html, "next")


@pytest.mark.parametrize("cursor", ["garbage", "WyJ4Il0", "WzEsMl0", "A" * 3000])
def test_a_cursor_the_runs_did_not_write_shows_the_newest_runs(app, login_as, make_job, cursor):
    job = make_job()
    many_runs(job.id, 6)
    client = login_as("responder")
    for name in ("after", "before"):
        answer = client.get(f"/watchlist/jobs/{job.id}", query_string={"per_page": 4, name: cursor})
        assert answer.status_code == 200 and run_marks(answer.get_data(as_text=True)) == [5, 4, 3, 2]


def test_a_page_of_runs_costs_the_same_statements_with_5_and_200_runs(app, login_as, make_job):
    job = make_job()
    many_runs(job.id, 5)
    client = login_as("responder")

    def page_two() -> int:
        first = client.get(f"/watchlist/jobs/{job.id}?per_page=2").get_data(as_text=True)
        return count_queries(client, pager_link(first, "next"))

    few = page_two()
    many_runs(job.id, 195, start=5)
    assert len(newest_first(job.id)) == 200
    assert page_two() == few
