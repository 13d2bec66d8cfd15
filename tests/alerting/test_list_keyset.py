"""The alert list is paged by keyset: open alerts first, newest first, every alert once, in order, both ways."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.alerting import actions
from app.alerting.models import Alert
from app.extensions import db
from app.timeutil import UTC
from tests.alerting.test_views import listed_ids, raise_one
from tests.conftest import count_queries
from tests.support import pager_link, walk_pages

RAISED = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def walk(client, url: str):
    """The alert ids seen following Next to the end, then Previous back to the first page."""
    return walk_pages(client, url, listed_ids)


def many_alerts(count: int, *, ties: bool = True, start: int = 0) -> None:
    """`count` alerts, a third of them acknowledged and a third resolved, raised in pairs at the same instant."""
    statuses = ["triggered", "acknowledged", "resolved"]
    for number in range(start, start + count):
        alert = raise_one(f"alert {number}", severity="low" if number % 2 else "high", dedup_key=f"k{number}")
        alert.status = statuses[number % 3]
        alert.created_at = RAISED + timedelta(minutes=number // 2 if ties else number)
    db.session.commit()


def _expected(**filters) -> list[int]:
    return [alert.id for alert in db.session.scalars(actions.alert_query(**filters))]


def test_walking_the_alerts_shows_every_alert_once_open_first(app, login_as):
    many_alerts(17)
    forward, backward = walk(login_as("responder"), "/alerts?per_page=4")
    want = _expected()
    assert len(want) == 17 and forward == want and backward == want
    assert [db.session.get(Alert, i).status for i in forward[-5:]] == ["resolved"] * 5


@pytest.mark.parametrize("query, filters", [("status=open&severity=low", {"status": "open", "severity": "low"}),
                                            ("status=resolved", {"status": "resolved"})])
def test_filters_combine_with_the_cursor(app, login_as, query, filters):
    many_alerts(17)
    forward, backward = walk(login_as("responder"), f"/alerts?per_page=2&{query}")
    want = _expected(**filters)
    assert len(want) >= 5 and forward == want and backward == want


@pytest.mark.parametrize("cursor", ["garbage", "WzEsIngiLDFd", "WzMsIjIwMjYtMTMtNDAiLDFd", "A" * 3000])
def test_a_cursor_the_list_did_not_write_shows_the_first_page(app, login_as, cursor):
    many_alerts(6)
    client = login_as("responder")
    first = listed_ids(client.get("/alerts?per_page=4").get_data(as_text=True))
    for name in ("after", "before"):
        answer = client.get("/alerts", query_string={"per_page": 4, name: cursor})
        assert answer.status_code == 200 and listed_ids(answer.get_data(as_text=True)) == first


def test_a_page_costs_the_same_statements_with_10_and_200_alerts(app, login_as):
    many_alerts(10, ties=False)
    client = login_as("responder")

    def page_two() -> int:
        return count_queries(client, pager_link(client.get("/alerts?per_page=5").get_data(as_text=True), "next"))

    few = page_two()
    many_alerts(190, ties=False, start=10)
    assert db.session.query(Alert).count() == 200
    assert page_two() == few
