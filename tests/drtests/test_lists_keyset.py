"""The DR exercise list and the findings list are paged by keyset: every row once, in order, both ways, with
the findings' status filter kept."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.drtests import exercises, findings
from app.drtests.models import DrExercise, Finding, FindingStatus
from app.extensions import db
from tests.conftest import count_queries
from tests.drtests.conftest import START
from tests.support import pager_link, walk_pages

STATUSES = [FindingStatus.OPEN, FindingStatus.IN_PROGRESS, FindingStatus.CLOSED]


def exercise_ids(html: str) -> list[int]:
    table = html.split('data-testid="exercises"', 1)[1] if 'data-testid="exercises"' in html else ""
    return [int(found) for found in re.findall(r'<td><a href="/drtests/exercises/(\d+)">', table)]


def finding_marks(html: str) -> list[int]:
    return [int(found) for found in re.findall(r"<tr><td>Finding #(\d+)</td>", html)]


def many_exercises(template, owners, count: int, *, start: int = 0) -> None:
    """`count` exercises of one template, scheduled in pairs on the same day, their owners taking turns."""
    for number in range(start, start + count):
        exercises.schedule_exercise(template=template, kind="full_failover", owner_id=owners[number % len(owners)].id,
                                    scheduled_for=START + timedelta(days=1 + number // 2), name=f"Exercise {number}")


def many_findings(exercise_list, owners, count: int, *, start: int = 0) -> None:
    """`count` findings over the exercises, due in pairs on the same day, every fourth without a due date."""
    for number in range(start, start + count):
        finding = findings.add_finding(exercise_list[number % len(exercise_list)], title=f"Finding #{number}",
                                       severity="medium", owner_id=owners[number % len(owners)].id,
                                       due_date=None if number % 4 == 3 else date(2027, 1, 4) + timedelta(days=number // 2))
        finding.status = STATUSES[number % 3]
    db.session.commit()


def finding_order(status: str | None = None) -> list[int]:
    return [int(finding.title.split("#")[1]) for finding in db.session.scalars(findings.findings_query(status=status))]


@pytest.fixture
def owners(make_user):
    return [make_user("crisis_team") for _ in range(3)]


def test_walking_the_exercises_shows_each_once_latest_first(app, login_as, make_template, owners):
    many_exercises(make_template(), owners, 13)

    forward, backward = walk_pages(login_as("executive"), "/drtests?per_page=4", exercise_ids)

    want = list(db.session.scalars(exercises.exercises_query().with_only_columns(DrExercise.id)))
    assert len(want) == 13 and forward == want and backward == want


@pytest.mark.parametrize("status", [None, "open", "closed"])
def test_walking_the_findings_shows_each_once_by_due_date_undated_last(app, login_as, make_exercise, owners, status):
    many_findings([make_exercise(), make_exercise()], owners, 23)
    url = "/drtests/findings?per_page=3" + (f"&status={status}" if status else "")

    forward, backward = walk_pages(login_as("executive"), url, finding_marks)

    want = finding_order(status)
    assert len(want) >= 7 and forward == want and backward == want
    if status is None:
        assert all(number % 4 == 3 for number in forward[-5:])  # the undated come last


@pytest.mark.parametrize("cursor", ["garbage", "WzEsIngiXQ", "WzAsIjIwMjYtMTMtNDAiLDFd", "WyJ4IiwxXQ", "A" * 3000])
def test_a_cursor_the_lists_did_not_write_shows_their_first_page(app, login_as, make_template, owners, cursor):
    template = make_template()
    many_exercises(template, owners, 6)
    many_findings(list(db.session.scalars(select(DrExercise))), owners, 6)
    client = login_as("executive")
    for url, read in (("/drtests", exercise_ids), ("/drtests/findings", finding_marks)):
        first = read(client.get(url, query_string={"per_page": 3}).get_data(as_text=True))
        for name in ("after", "before"):
            answer = client.get(url, query_string={"per_page": 3, name: cursor})
            assert answer.status_code == 200 and read(answer.get_data(as_text=True)) == first


def test_a_page_costs_the_same_statements_with_5_and_200_rows(app, login_as, make_template, owners):
    template = make_template()
    many_exercises(template, owners, 5)
    many_findings(list(db.session.scalars(select(DrExercise))), owners, 5)
    client = login_as("executive")

    def second_pages() -> list[int]:
        return [count_queries(client, pager_link(client.get(f"{url}?per_page=2").get_data(as_text=True), "next"))
                for url in ("/drtests", "/drtests/findings")]

    few = second_pages()
    many_exercises(template, owners, 195, start=5)
    many_findings(list(db.session.scalars(select(DrExercise))), owners, 195, start=5)
    assert db.session.scalar(select(db.func.count()).select_from(Finding)) == 200
    assert second_pages() == few
