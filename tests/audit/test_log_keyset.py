"""The audit log page is paged by keyset: newest first, every change once, in order, both ways, filters kept."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit import services
from app.audit.models import AuditEvent
from app.extensions import db
from app.timeutil import UTC
from tests.conftest import count_queries
from tests.support import pager_link, walk_pages

WRITTEN = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def event_ids(html: str) -> list[int]:
    """The ids of the changes listed, top to bottom (each row names its record, `regions: #<event id>`)."""
    return [int(found) for found in re.findall(r">regions: #(\d+)</a>", html)]


def many_events(count: int, *, ties: bool = True) -> None:
    """`count` changes of regions, every third a delete, written in pairs at the same instant (`ties`)."""
    start = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    for number in range(start, start + count):
        event = AuditEvent(occurred_at=WRITTEN + timedelta(minutes=number // 2 if ties else number),
                           actor_label="seed", action="delete" if number % 3 == 0 else "update",
                           entity_type="regions", entity_id=str(number), entity_label="", changes={})
        db.session.add(event)
        db.session.flush()
        event.entity_label = f"#{event.id}"
    db.session.commit()


def expected(**criteria) -> list[int]:
    query = services.filtered_events(services.AuditFilter(entity_type="regions", **criteria))
    return [event.id for event in db.session.scalars(query)]


def test_walking_the_log_shows_every_change_once_newest_first(app, login_as):
    admin = login_as("admin")
    many_events(23)

    forward, backward = walk_pages(admin, "/admin/audit?per_page=4", event_ids)

    want = expected()
    assert len(want) == 23 and forward == want and backward == want


def test_the_filters_are_kept_by_every_page(app, login_as):
    admin = login_as("admin")
    many_events(23)

    forward, backward = walk_pages(admin, "/admin/audit?per_page=2&entity_type=regions&action=delete", event_ids)

    want = expected(action="delete")
    assert len(want) >= 5 and forward == want and backward == want


@pytest.mark.parametrize("cursor", ["garbage", "WzEsIngiXQ", "WyIyMDI2LTEzLTQwIiwxXQ", "WyJ4IiwxXQ", "A" * 3000])
def test_a_cursor_the_log_did_not_write_shows_the_first_page(app, login_as, cursor):
    admin = login_as("admin")
    many_events(6)
    first = event_ids(admin.get("/admin/audit?per_page=4").get_data(as_text=True))
    for name in ("after", "before"):
        answer = admin.get("/admin/audit", query_string={"per_page": 4, name: cursor})
        assert answer.status_code == 200 and event_ids(answer.get_data(as_text=True)) == first


def test_a_page_costs_the_same_statements_with_5_and_200_changes(app, login_as):
    admin = login_as("admin")
    many_events(5, ties=False)

    def page_two() -> int:
        return count_queries(admin, pager_link(admin.get("/admin/audit?per_page=2").get_data(as_text=True), "next"))

    few = page_two()
    many_events(195, ties=False)
    assert len(expected()) == 200
    assert page_two() == few
