"""The register is paged by keyset: every sort walks every matching risk exactly once, in order, both ways."""
from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.risks import register
from app.risks.models import Risk
from tests.conftest import count_queries
from tests.risks.fixtures import TUESDAY
from tests.support import pager_link, walk_pages


def _ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-risk="(\d+)">', html)]


def walk(client, url: str):
    """The ids seen following Next from `url` to the end, then Previous back to the start."""
    return walk_pages(client, url, _ids)


def expected(args: dict, sort: str) -> list[int]:
    query = register.register_query(register.parse_filter(args), TUESDAY.date(), sort)
    return [risk.id for risk in db.session.scalars(query)]


@pytest.fixture
def crowded(app, make_risk, at):
    """17 risks with many ties: three titles, two scores, some without a review date or an exposure."""
    with at(TUESDAY):
        for number in range(17):
            make_risk(title=f"Same title {number % 3}", likelihood=2 + number % 2 * 2, impact=3,
                      category="capacity" if number % 2 else "outage",
                      exposure=None if number % 4 == 0 else 1000 * (number % 3))


@pytest.mark.parametrize("sort", sorted(register.SORTS))
def test_every_sort_walks_every_risk_once_in_order_both_ways(crowded, login_as, at, sort):
    with at(TUESDAY):
        client = login_as("executive")
        forward, backward = walk(client, f"/risks?per_page=4&sort={sort}")
        want = expected({}, sort)
    assert len(want) == 17
    assert forward == want
    assert backward == want


def test_filters_combine_with_the_cursor(crowded, login_as, at):
    with at(TUESDAY):
        client = login_as("executive")
        forward, backward = walk(client, "/risks?per_page=3&sort=score&category=capacity&status=live")
        want = expected({"category": "capacity", "status": "live"}, "score")
    assert len(want) == 8 and forward == want and backward == want


@pytest.mark.parametrize("cursor", ["garbage", "e30", base64.urlsafe_b64encode(b'["x",1]').decode(),
                                    base64.urlsafe_b64encode(b'[1e400,"\\\\ud800",null]').decode(),
                                    base64.urlsafe_b64encode(b"[99999999999999999999999,1,1]").decode(),
                                    base64.urlsafe_b64encode(b'[true,"\\\\u0000",1]').decode(), "%00", "A" * 5000])
def test_a_cursor_the_register_did_not_write_shows_the_first_page(crowded, login_as, at, cursor):
    with at(TUESDAY):
        client = login_as("executive")
        first = _ids(client.get("/risks?per_page=4").get_data(as_text=True))
        for name in ("after", "before"):
            answer = client.get("/risks", query_string={"per_page": 4, name: cursor})
            assert answer.status_code == 200
            assert _ids(answer.get_data(as_text=True)) == first


def test_a_page_costs_the_same_statements_with_10_and_200_risks(app, make_risk, login_as):
    client = login_as("crisis_team")
    for number in range(10):
        make_risk(title=f"Risk {number:03}")

    def page_two() -> int:
        html = client.get("/risks?per_page=5&sort=title").get_data(as_text=True)
        return count_queries(client, pager_link(html, "next"))

    page_two()  # the first view of the week computes and keeps the past weeks of the trend
    few = page_two()
    for number in range(10, 200):
        make_risk(title=f"Risk {number:03}")
    assert db.session.scalar(select(db.func.count()).select_from(Risk)) == 200
    assert page_two() == few
