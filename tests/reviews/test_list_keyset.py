"""The list of weekly reviews is paged by keyset: the latest week first, every review once, both ways."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.reviews import queries
from app.reviews.models import RiskReview
from tests.conftest import count_queries
from tests.support import pager_link, walk_pages

FIRST_MONDAY = date(2010, 1, 4)  # 200 weeks end long before this week, which the page shows apart


def listed(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<td><a href="/reviews/(\d+)">', html)]


def many_reviews(count: int, *, start: int = 0) -> None:
    """`count` past reviews, one a week, written in no particular order of weeks."""
    weeks = list(range(start, start + count))
    weeks = weeks[1::2] + weeks[::2]
    for week in weeks:
        monday = FIRST_MONDAY + timedelta(weeks=week)
        iso = monday.isocalendar()
        db.session.add(RiskReview(week_key=f"{iso.year}-W{iso.week:02d}", week_start=monday,
                                  meeting_on=monday + timedelta(days=2),
                                  since=datetime.combine(monday, datetime.min.time(), tzinfo=UTC)))
    db.session.commit()


def newest_first() -> list[int]:
    return list(db.session.scalars(select(RiskReview.id).order_by(*queries.REVIEW_ORDER)))


def test_walking_the_reviews_shows_each_once_latest_week_first(app, login_as):
    many_reviews(13)

    forward, backward = walk_pages(login_as("executive"), "/reviews?per_page=4", listed)

    want = newest_first()
    assert len(want) == 13 and forward == want and backward == want
    first = login_as("executive").get("/reviews?per_page=4").get_data(as_text=True)
    assert "after=" in pager_link(first, "next") and "page=" not in pager_link(first, "next").replace("per_page", "")
    assert "Showing 4 reviews" in first
    assert db.session.get(RiskReview, forward[0]).week_start == FIRST_MONDAY + timedelta(weeks=12)


@pytest.mark.parametrize("cursor", ["garbage", "WyIyMDI0LTEzLTQwIiwxXQ", "WzEsMl0", "A" * 3000])
def test_a_cursor_the_list_did_not_write_shows_the_first_page(app, login_as, cursor):
    many_reviews(6)
    client = login_as("executive")
    first = listed(client.get("/reviews?per_page=4").get_data(as_text=True))
    for name in ("after", "before"):
        answer = client.get("/reviews", query_string={"per_page": 4, name: cursor})
        assert answer.status_code == 200 and listed(answer.get_data(as_text=True)) == first


def test_a_page_costs_the_same_statements_with_5_and_200_reviews(app, login_as):
    many_reviews(5)
    client = login_as("executive")

    def page_two() -> int:
        return count_queries(client, pager_link(client.get("/reviews?per_page=2").get_data(as_text=True), "next"))

    few = page_two()
    many_reviews(195, start=5)
    assert len(newest_first()) == 200
    assert page_two() == few
