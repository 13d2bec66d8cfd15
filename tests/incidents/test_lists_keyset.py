"""The incident list and an incident's timeline are paged by keyset: every row once, in order, both ways, with
the list's filters kept."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.incidents import queries
from app.incidents.models import Incident
from app.incidents.timeline import record_event
from tests.conftest import count_queries
from tests.support import pager_link, walk_pages

SEVERITIES = ["SEV3", "SEV4", "SEV2"]
STATUSES = ["investigating", "resolved", "closed", "monitoring"]


def listed(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<td><a href="/incidents/(\d+)">', html)]


def event_marks(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<p class="prewrap">step #(\d+)</p>', html)]


def many_incidents(declare, clock, count: int, *, ties: bool = True) -> None:
    """`count` incidents over three severities and four statuses, declared in pairs at the same instant."""
    for number in range(count):
        if not ties or number % 2 == 0:
            clock.shift(timedelta(minutes=1))
        incident = declare(title=f"Incident {number}", severity=SEVERITIES[number % 3])
        incident.status = STATUSES[number % 4]
        if not incident.is_open:
            incident.resolved_at, incident.resolution = incident.declared_at, "Restarted the run."
            incident.closed_at = incident.declared_at if incident.status == "closed" else None
    db.session.commit()


def many_steps(incident: Incident, count: int, *, start: int = 0) -> None:
    """`count` notes on the incident's timeline, in pairs at the same instant."""
    at = incident.declared_at
    for number in range(start, start + count):
        record_event(incident, kind="note", text=f"step #{number}", actor="Rowan",
                     at=at + timedelta(seconds=number // 2))
    db.session.commit()


def ids(**filters) -> list[int]:
    return [incident.id for incident in db.session.scalars(queries.incident_query(**filters))]


def test_walking_the_incidents_shows_each_once_open_first(app, clock, login_as, declare):
    many_incidents(declare, clock, 17)

    forward, backward = walk_pages(login_as("executive"), "/incidents?per_page=4", listed)

    want = ids()
    assert len(want) == 17 and forward == want and backward == want
    assert db.session.get(Incident, forward[0]).is_open and db.session.get(Incident, forward[-1]).status == "closed"


@pytest.mark.parametrize("query, filters", [("status=open", {"status": "open"}),
                                            ("severity=SEV3&status=closed", {"severity": "SEV3", "status": "closed"}),
                                            ("severity=SEV4", {"severity": "SEV4"})])
def test_the_incident_filters_are_kept_by_every_page(app, clock, login_as, declare, query, filters):
    many_incidents(declare, clock, 29)

    forward, backward = walk_pages(login_as("executive"), f"/incidents?per_page=2&{query}", listed)

    want = ids(**filters)
    assert len(want) >= 2 and forward == want and backward == want


def test_walking_an_incidents_timeline_shows_each_step_once_oldest_first(app, clock, login_as, declare):
    incident = declare(title="Billing run failed")
    many_steps(incident, 13)

    forward, backward = walk_pages(login_as("executive"), f"/incidents/{incident.id}?per_page=4", event_marks)

    assert forward == list(range(13)) and backward == forward


@pytest.mark.parametrize("cursor", ["garbage", "WzEsIngiXQ", "WzAsMSwiMjAyNi0xMy00MCIsMV0", "A" * 3000])
def test_a_cursor_the_pages_did_not_write_shows_their_first_page(app, clock, login_as, declare, cursor):
    many_incidents(declare, clock, 6)
    incident = declare(title="Billing run failed")
    many_steps(incident, 6)
    client = login_as("executive")
    for url, read in (("/incidents", listed), (f"/incidents/{incident.id}", event_marks)):
        first = read(client.get(url, query_string={"per_page": 3}).get_data(as_text=True))
        for name in ("after", "before"):
            answer = client.get(url, query_string={"per_page": 3, name: cursor})
            assert answer.status_code == 200 and read(answer.get_data(as_text=True)) == first


def test_a_page_costs_the_same_statements_with_5_and_200_rows(app, clock, login_as, declare):
    incident = declare(title="Billing run failed")
    many_steps(incident, 5)
    many_incidents(declare, clock, 4, ties=False)
    client = login_as("executive")

    def second_pages() -> list[int]:
        return [count_queries(client, pager_link(client.get(f"{url}?per_page=2").get_data(as_text=True), "next"))
                for url in ("/incidents", f"/incidents/{incident.id}")]

    few = second_pages()
    many_steps(incident, 195, start=5)
    many_incidents(declare, clock, 195, ties=False)
    assert len(ids()) == 200
    assert second_pages() == few
