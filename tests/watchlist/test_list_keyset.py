"""The watch list is paged by keyset: failing jobs first, every job once, in order, both ways, with the filters."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.watchlist.models import Job
from app.watchlist.services import list_jobs
from tests.conftest import count_queries
from tests.support import pager_link, walk_pages


def _names(html: str) -> list[str]:
    return re.findall(r'href="/watchlist/jobs/\d+">([^<]+)<', html)


def walk(client, url: str):
    """The job names seen following Next to the end, then Previous back to the first page."""
    return walk_pages(client, url, _names)


@pytest.fixture
def fleet(app, make_app, make_job):
    """15 jobs over two apps, with the same name in both apps and mixed states."""
    apps = [make_app("Alpha app"), make_app("Zulu app")]
    states = ["up", "down", "late", "up", "paused"]
    for number in range(15):
        job = make_job(app_id=apps[number % 2].id, name=f"Job {number // 2}" if number < 8 else f"Job {number}")
        db.session.get(Job, job.id).state = states[number % 5]
    db.session.commit()


def _expected(**filters) -> list[str]:
    return [job.name for job in list_jobs(**filters, per_page=200)[0]]


def test_walking_the_watch_list_shows_every_job_once_failing_first(fleet, login_as):
    forward, backward = walk(login_as("responder"), "/watchlist?per_page=4")
    want = _expected()
    assert len(want) == 15 and forward == want and backward == want
    assert [job.state for job in list_jobs(per_page=200)[0]][:6] == ["down"] * 3 + ["late"] * 3


def test_several_states_combine_with_the_cursor(fleet, login_as):
    forward, backward = walk(login_as("responder"), "/watchlist?per_page=2&state=up&state=paused")
    want = _expected(states=["up", "paused"])
    assert len(want) == 9 and forward == want and backward == want


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WzEsIngiLCJ5IiwiMSJd", "A" * 3000, "%FF%FE"])
def test_a_cursor_the_watch_list_did_not_write_shows_the_first_page(fleet, login_as, cursor):
    client = login_as("responder")
    first = _names(client.get("/watchlist?per_page=4").get_data(as_text=True))
    for name in ("after", "before"):
        answer = client.get("/watchlist", query_string={"per_page": 4, name: cursor})
        assert answer.status_code == 200 and _names(answer.get_data(as_text=True)) == first


def test_a_page_costs_the_same_statements_with_10_and_200_jobs(app, login_as, make_app, make_job):
    apps = [make_app(f"App {number}") for number in range(3)]
    for number in range(10):
        make_job(app_id=apps[number % 3].id, name=f"Job {number:03}")
    client = login_as("responder")

    def page_two() -> int:
        return count_queries(client, pager_link(client.get("/watchlist?per_page=5").get_data(as_text=True), "next"))

    few = page_two()
    for number in range(10, 200):
        make_job(app_id=apps[number % 3].id, name=f"Job {number:03}")
    assert page_two() == few
