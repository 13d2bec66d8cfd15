"""The lessons page is paged by keyset: open first, the latest target quarter first, every lesson once, both ways."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.readiness import lessons
from app.readiness.models import Lesson
from tests.conftest import count_queries
from tests.support import pager_link, walk_pages


def listed(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-testid="lesson-(\d+)"', html)]


def many_lessons(owners, count: int, *, start: int = 0) -> None:
    """`count` lessons over eight target quarters (so many share one), every third closed, owners taking turns."""
    for number in range(start, start + count):
        db.session.add(Lesson(title=f"Lesson {number}", recommendation="Start the bank file earlier.",
                              owner_id=owners[number % len(owners)].id, from_fiscal_year=2026, from_quarter=4,
                              target_fiscal_year=2027 + number % 2, target_quarter=1 + number % 4,
                              status="closed" if number % 3 == 0 else "open"))
    db.session.commit()


@pytest.fixture
def owners(make_user):
    return [make_user("crisis_team") for _ in range(3)]


def test_walking_the_lessons_shows_each_once_open_first(app, login_as, owners):
    many_lessons(owners, 17)

    forward, backward = walk_pages(login_as("executive"), "/readiness/lessons?per_page=4", listed)

    want = [lesson.id for lesson in lessons.list_lessons()]
    assert len(want) == 17 and forward == want and backward == want
    assert [db.session.get(Lesson, i).status for i in forward[-6:]] == ["closed"] * 6


@pytest.mark.parametrize("cursor", ["garbage", "WzEsMSwxLDFd", "WyJvcGVuIiwieCIsMSwxXQ", "A" * 3000])
def test_a_cursor_the_page_did_not_write_shows_the_first_page(app, login_as, owners, cursor):
    many_lessons(owners, 6)
    client = login_as("executive")
    first = listed(client.get("/readiness/lessons?per_page=4").get_data(as_text=True))
    for name in ("after", "before"):
        answer = client.get("/readiness/lessons", query_string={"per_page": 4, name: cursor})
        assert answer.status_code == 200 and listed(answer.get_data(as_text=True)) == first


def test_a_page_costs_the_same_statements_with_5_and_200_lessons(app, login_as, owners):
    many_lessons(owners, 5)
    client = login_as("executive")

    def page_two() -> int:
        first = client.get("/readiness/lessons?per_page=2").get_data(as_text=True)
        return count_queries(client, pager_link(first, "next"))

    few = page_two()
    many_lessons(owners, 195, start=5)
    assert len(lessons.list_lessons()) == 200
    assert page_two() == few
