"""The Messages page and an alert's timeline and messages are paged by keyset: every row once, in order, both
ways; the alert page's two lists each keep their own place."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.alerting.models import AlertEvent, OutboundMessage
from app.extensions import db
from app.timeutil import UTC
from tests.alerting.test_views import raise_one
from tests.conftest import count_queries
from tests.support import pager_link, walk_pages

QUEUED = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def inbox_marks(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<pre class="message-body">message #(\d+)</pre>', html)]


def event_marks(html: str) -> list[int]:
    return [int(found) for found in re.findall(r"<p>event #(\d+)</p>", html)]


def sent_marks(html: str) -> list[int]:
    return [int(found) for found in re.findall(r"<td>\+1415555(\d{4})</td>", html)]


def many_messages(count: int, *, user_id: int | None = None, alert_id: int | None = None, start: int = 0,
                  ties: bool = True) -> None:
    """`count` SMS messages to a person or for an alert, queued in pairs at the same instant (`ties`)."""
    for number in range(start, start + count):
        db.session.add(OutboundMessage(
            created_at=QUEUED + timedelta(seconds=number // 2 if ties else number), user_id=user_id,
            alert_id=alert_id, channel="console", kind="sms", address=f"+1415555{number:04d}", purpose="alert",
            body=f"message #{number}", status="sent"))
    db.session.commit()


def many_events(alert_id: int, count: int, *, start: int = 0, ties: bool = True) -> None:
    for number in range(start, start + count):
        db.session.add(AlertEvent(alert_id=alert_id, at=QUEUED + timedelta(seconds=number // 2 if ties else number),
                                  kind="note", actor="Rowan", text=f"event #{number}"))
    db.session.commit()


def marks(query, pattern: str) -> list[int]:
    return [int(found) for text in db.session.scalars(query) for found in re.findall(pattern, text)]


def test_walking_my_messages_shows_each_once_newest_first(app, login_as, make_user):
    client = login_as("responder")
    many_messages(11, user_id=client.user.id)
    many_messages(4, user_id=make_user("responder").id, start=11)  # someone else's

    forward, backward = walk_pages(client, "/messages?per_page=3", inbox_marks)

    want = marks(select(OutboundMessage.body).where(OutboundMessage.user_id == client.user.id)
                 .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc()), r"#(\d+)")
    assert want == [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0] and forward == want and backward == want


def test_walking_an_alerts_timeline_shows_each_event_once_oldest_first(app, login_as):
    alert = raise_one()
    many_events(alert.id, 13)

    forward, backward = walk_pages(login_as("responder"), f"/alerts/{alert.id}?per_page=4", event_marks, "pager")

    assert forward == list(range(13)) and backward == forward


def test_walking_an_alerts_messages_keeps_the_timelines_place(app, login_as):
    alert = raise_one()
    many_events(alert.id, 9)
    many_messages(9, alert_id=alert.id)
    client = login_as("responder")
    timeline_page_two = pager_link(client.get(f"/alerts/{alert.id}?per_page=4").get_data(as_text=True), "next",
                                   "pager")

    forward, backward = walk_pages(client, timeline_page_two, sent_marks, "messages-pager")

    assert forward == list(range(9)) and backward == forward
    last = client.get(pager_link(client.get(timeline_page_two).get_data(as_text=True), "next", "messages-pager"))
    assert event_marks(last.get_data(as_text=True)) == [4, 5, 6, 7]  # the timeline stays on its second page


@pytest.mark.parametrize("cursor", ["garbage", "WzEsIngiXQ", "WyIyMDI2LTEzLTQwIiwxXQ", "A" * 3000])
def test_a_cursor_the_pages_did_not_write_shows_their_first_page(app, login_as, cursor):
    client = login_as("responder")
    alert = raise_one()
    many_events(alert.id, 6)
    many_messages(6, alert_id=alert.id)
    many_messages(6, user_id=client.user.id, start=6)
    for name in ("after", "before"):
        inbox = client.get("/messages", query_string={"per_page": 4, name: cursor}).get_data(as_text=True)
        assert inbox_marks(inbox) == [11, 10, 9, 8]
        page = client.get(f"/alerts/{alert.id}", query_string={"per_page": 4, name: cursor,
                                                                f"messages_{name}": cursor})
        assert page.status_code == 200
        assert event_marks(page.get_data(as_text=True)) == [0, 1, 2, 3]
        assert sent_marks(page.get_data(as_text=True)) == [0, 1, 2, 3]


def test_a_page_costs_the_same_statements_with_5_and_200_rows(app, login_as):
    client = login_as("responder")
    alert = raise_one()
    many_events(alert.id, 5, ties=False)
    many_messages(5, alert_id=alert.id, ties=False)
    many_messages(5, user_id=client.user.id, start=5, ties=False)

    def second_pages() -> list[int]:
        inbox = pager_link(client.get("/messages?per_page=2").get_data(as_text=True), "next")
        first = client.get(f"/alerts/{alert.id}?per_page=2").get_data(as_text=True)
        timeline, sent = pager_link(first, "next", "pager"), pager_link(first, "next", "messages-pager")
        return [count_queries(client, url) for url in (inbox, timeline, sent)]

    few = second_pages()
    many_events(alert.id, 195, start=5, ties=False)
    many_messages(195, alert_id=alert.id, start=10, ties=False)
    many_messages(195, user_id=client.user.id, start=205, ties=False)
    assert db.session.scalar(select(db.func.count()).select_from(OutboundMessage)
                             .where(OutboundMessage.user_id == client.user.id)) == 200
    assert second_pages() == few
