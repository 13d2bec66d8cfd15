"""The register page: filters, sorting, the heat map, the 12-week trend, pagination, and a query count that does not
grow with the register."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.risks import actions, history, services, workflow
from app.risks.models import RiskScore, RiskTrendPoint
from tests.conftest import count_queries
from tests.risks.fixtures import TUESDAY


def titles(page: str) -> list[str]:
    return re.findall(r'<a href="/risks/\d+">R-\d+ ([^<]+)</a>', page)


@pytest.fixture
def register(app, make_risk, make_user, at):
    """Four risks: two owners, three categories, two quarters, one closed and one with an overdue action."""
    other = make_user("admin", name="Avery Admin")
    with at(TUESDAY - timedelta(days=20)):
        order = make_risk(title="Order import backlog", likelihood=5, impact=5, category="capacity")
        tax = make_risk(title="Tax engine outage", likelihood=3, impact=4, category="vendor", owner_id=other.id)
        actions.add_action(tax, description="Call the vendor", owner_id=other.id,
                           due_on=(TUESDAY - timedelta(days=20)).date() + timedelta(days=5))
        deal = make_risk(title="Globex deal slips", likelihood=2, impact=2, category="pipeline_deal",
                         quarter="Q1 FY28")
        old = make_risk(title="Old bank format", likelihood=3, impact=4, category="vendor")
        workflow.change_status(old, transition="close", actor=other, reason="New importer live")
    return {"order": order, "tax": tax, "deal": deal, "old": old, "other": other}


@pytest.mark.parametrize("query, expected", [
    ("", ["Order import backlog", "Tax engine outage", "Old bank format", "Globex deal slips"]),
    ("status=live", ["Order import backlog", "Tax engine outage", "Globex deal slips"]),
    ("status=closed", ["Old bank format"]),
    ("level=high", ["Tax engine outage", "Old bank format"]),
    ("category=vendor", ["Tax engine outage", "Old bank format"]),
    ("quarter=2028-1", ["Globex deal slips"]),
    ("overdue=action", ["Tax engine outage"]),
    ("overdue=review", ["Order import backlog", "Tax engine outage"]),  # critical: 7 days, high: 14
    ("q=globex", ["Globex deal slips"]),
    ("likelihood=3&impact=4", ["Tax engine outage", "Old bank format"]),
    ("status=nonsense&level=huge", ["Order import backlog", "Tax engine outage", "Old bank format",
                                    "Globex deal slips"]),
])
def test_the_register_filters(register, login_as, at, query, expected):
    with at(TUESDAY):
        page = login_as("executive").get(f"/risks?{query}")
    assert page.status_code == 200
    assert titles(page.get_data(as_text=True)) == expected


def test_the_register_filters_by_owner(register, login_as):
    page = login_as("executive").get(f"/risks?owner_id={register['other'].id}").get_data(as_text=True)
    assert titles(page) == ["Tax engine outage"]


@pytest.mark.parametrize("sort, expected", [
    ("title", ["Globex deal slips", "Old bank format", "Order import backlog", "Tax engine outage"]),
    ("score", ["Order import backlog", "Tax engine outage", "Old bank format", "Globex deal slips"]),
    ("next_review", ["Order import backlog", "Tax engine outage", "Globex deal slips", "Old bank format"]),
])
def test_the_register_sorts(register, login_as, sort, expected):
    page = login_as("executive").get(f"/risks?sort={sort}").get_data(as_text=True)
    assert titles(page) == expected


def test_the_heat_map_counts_live_risks_per_cell_and_links_to_them(register, login_as):
    page = login_as("executive").get("/risks").get_data(as_text=True)
    cells = dict(re.findall(r'data-cell="(\d-\d)">([^<]+)</a>', page))
    assert (cells["5-5"], cells["3-4"], cells["2-2"], cells["1-1"]) == ("1", "1", "1", "·")  # closed not counted
    assert 'href="/risks?likelihood=3&amp;impact=4&amp;sort=level"' in page


def test_the_heat_map_follows_the_other_filters(register, login_as):
    page = login_as("executive").get(f"/risks?owner_id={register['other'].id}").get_data(as_text=True)
    cells = dict(re.findall(r'data-cell="(\d-\d)">([^<]+)</a>', page))
    assert (cells["3-4"], cells["5-5"]) == ("1", "·")


def test_the_trend_counts_live_risks_by_level_each_week(app, make_risk, make_user, at):
    approver = make_user("admin")
    with at(TUESDAY - timedelta(weeks=5)):
        first = make_risk(likelihood=5, impact=5)
    with at(TUESDAY - timedelta(weeks=3)):
        make_risk(likelihood=1, impact=1)
        services.update_risk(first, **{**services.risk_fields(first), "likelihood": 3, "impact": 4})
    with at(TUESDAY - timedelta(weeks=1)):
        workflow.change_status(first, transition="close", actor=approver, reason="Fixed")
    with at(TUESDAY):
        points = history.open_trend(zone="America/Los_Angeles")
    as_counts = [{level.value: count for level, count in point.counts.items() if count} for point in points]
    # The start of each week (Monday 00:00 in Los Angeles) from 7 September to 16 November, then now.
    assert [point.at for point in points[-2:]] == [datetime(2026, 11, 16, 8, tzinfo=UTC), TUESDAY]
    assert points[0].at == datetime(2026, 9, 7, 7, tzinfo=UTC)  # still daylight-saving time then
    assert as_counts[:6] == [{}] * 6
    assert as_counts[6:] == [{"critical": 1}, {"critical": 1}, {"high": 1, "low": 1}, {"high": 1, "low": 1},
                             {"low": 1}, {"low": 1}]


def trend_table(page: str) -> list[tuple[str, ...]]:
    """The trend's "As a table" rows: (week label, critical, high, medium, low, total)."""
    figure = page[page.index('data-testid="trend"'):page.index("</figure>")]
    return [(label, *re.findall(r"<td>(\d+)</td>", cells))
            for label, cells in re.findall(r"<tr><td>(\d\d \w{3})</td>((?:<td>\d+</td>)+)</tr>", figure)]


def test_the_register_page_draws_the_trend_of_risks_opened_rescored_and_closed_over_the_weeks(app, make_risk,
                                                                                              make_user, at,
                                                                                              login_as):
    approver = make_user("admin")

    def weeks_ago(weeks: int, hours: int = 0) -> datetime:
        return TUESDAY - timedelta(weeks=weeks, hours=hours)

    with at(weeks_ago(10)):
        medium = make_risk(title="Medium, closed four weeks ago", likelihood=3, impact=3)
    with at(weeks_ago(7)):
        critical = make_risk(title="Critical, then low", likelihood=5, impact=5)
    with at(weeks_ago(4)):
        workflow.change_status(medium, transition="close", actor=approver, reason="Fixed")
    with at(weeks_ago(3)):
        high = make_risk(title="High, then accepted", likelihood=3, impact=4)
    with at(weeks_ago(2)):
        services.update_risk(critical, **{**services.risk_fields(critical), "likelihood": 1, "impact": 1})
    with at(weeks_ago(1)):
        workflow.change_status(high, transition="accept", actor=approver, reason="Tolerable",
                               expires_on=TUESDAY.date() + timedelta(days=30))
    with at(weeks_ago(0, hours=2)):
        make_risk(title="Low, new today", likelihood=1, impact=1)

    with at(TUESDAY):
        page = login_as("executive").get("/risks").get_data(as_text=True)

    # Each week's start (Monday 00:00 in Los Angeles) counts the risks live then; the last column is now.
    assert trend_table(page) == [
        ("07 Sep", "0", "0", "0", "0", "0"),
        ("14 Sep", "0", "0", "1", "0", "1"),
        ("21 Sep", "0", "0", "1", "0", "1"),
        ("28 Sep", "0", "0", "1", "0", "1"),
        ("05 Oct", "1", "0", "1", "0", "2"),
        ("12 Oct", "1", "0", "1", "0", "2"),
        ("19 Oct", "1", "0", "1", "0", "2"),
        ("26 Oct", "1", "0", "0", "0", "1"),
        ("02 Nov", "1", "1", "0", "0", "2"),
        ("09 Nov", "0", "1", "0", "1", "2"),
        ("16 Nov", "0", "1", "0", "1", "2"),
        ("17 Nov", "0", "1", "0", "2", "3"),
    ]
    chart = page[page.index('data-testid="trend"'):page.index("<details>", page.index('data-testid="trend"'))]
    assert re.findall(r'class="total">(\d+)</text>', chart) == ["0", "1", "1", "1", "2", "2", "2", "1", "2", "2",
                                                                 "2", "3"]
    assert chart.count("<title>1 critical</title>") == 5 and chart.count("<title>2 low</title>") == 1


def test_past_weeks_are_counted_once_and_kept(app, make_risk, at):
    with at(TUESDAY - timedelta(weeks=2)):
        make_risk(likelihood=5, impact=5)
    with at(TUESDAY):
        first = history.open_trend(zone="America/Los_Angeles")
    assert db.session.scalar(select(func.count()).select_from(RiskTrendPoint)) == 11 * 4
    db.session.execute(delete(RiskScore))  # the kept weeks no longer depend on the history
    db.session.commit()
    with at(TUESDAY):
        again = history.open_trend(zone="America/Los_Angeles")
    assert [p.counts for p in again] == [p.counts for p in first]
    assert again[-2].total == 1


def test_the_register_pages_its_list(app, make_risk, login_as):
    for number in range(7):
        make_risk(title=f"Paged risk {number}")
    client = login_as("executive")
    first = client.get("/risks?per_page=5&sort=title").get_data(as_text=True)
    next_link = re.search(r'href="(/risks\?[^"]*after=[^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(next_link).get_data(as_text=True)
    assert titles(first) == [f"Paged risk {n}" for n in range(5)]
    assert titles(second) == ["Paged risk 5", "Paged risk 6"]
    assert "Showing 5 risks" in first and "sort=title" in next_link and "per_page=5" in next_link
    assert 'rel="next"' not in second and 'rel="prev"' in second


def test_an_empty_register_says_so(app, login_as):
    assert "The register is empty." in login_as("crisis_team").get("/risks").get_data(as_text=True)
    assert "No risk matches these filters." in login_as("crisis_team").get("/risks?level=low") \
        .get_data(as_text=True)


def test_the_number_of_queries_of_the_register_does_not_grow_with_the_risks(app, make_risk, make_user, login_as):
    people = [make_user("crisis_team") for _ in range(3)]
    client = login_as("crisis_team")
    risk = make_risk(title="First")
    actions.add_action(risk, description="Do it", owner_id=people[0].id, due_on=risk.created_at.date()
                       + timedelta(days=3))
    count_queries(client, "/risks")  # the first view of the week computes and keeps the past weeks of the trend
    few = count_queries(client, "/risks")
    for number in range(30):
        more = make_risk(title=f"More {number}", owner_id=people[number % 3].id, likelihood=1 + number % 5)
        actions.add_action(more, description="Do it", owner_id=people[number % 3].id,
                           due_on=more.created_at.date() + timedelta(days=3))
    assert count_queries(client, "/risks") == few
