"""A record's history page and the admins' audit log page."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import time_machine

from app.calendar import services as calendar
from tests.audit.conftest import EMEA
from tests.conftest import form_post
from tests.support import pager_link

NON_ADMINS = ["crisis_team", "responder", "executive"]


def history_pairs(html: str, field: str) -> list[tuple[str, str]]:
    """(before, after) of `field` in each change shown on a history page, top to bottom."""
    return re.findall(rf'<th scope="row" title="{field}">[^<]*</th><td>([^<]*)</td><td>([^<]*)</td>', html)


def log_rows(html: str) -> list[tuple[str, str, str]]:
    """(who, action, record) of each row of the audit log table, top to bottom."""
    return re.findall(r"<td>([^<]*)</td>\s*<td>(create|update|delete)</td>\s*<td><a [^>]*>([^<]*)</a>", html)


@pytest.mark.parametrize("zone, shown", [
    ("Europe/London", "2026-11-22 03:10 UTC, London"),
    ("America/Los_Angeles", "2026-11-21 19:10 UTC−8, Los Angeles"),  # the evening before, where the viewer is
    ("Asia/Tokyo", "2026-11-22 12:10 UTC+9, Tokyo"),
])
def test_history_times_are_shown_in_the_viewers_time_zone(login_as, zone, shown):
    with time_machine.travel(datetime(2026, 11, 22, 3, 10, tzinfo=timezone.utc), tick=False):
        region = calendar.create_region(**EMEA)
    viewer = login_as("executive", time_zone=zone)

    html = viewer.get(f"/history/regions/{region.id}").get_data(as_text=True)

    assert shown in html


def test_a_regions_history_shows_every_change_newest_first(login_as):
    region = calendar.create_region(**EMEA)
    calendar.update_region(region, **{**EMEA, "name": "Europe"})
    calendar.update_region(region, **{**EMEA, "name": "Europe and Africa"})
    viewer = login_as("executive")

    page = viewer.get(f"/history/regions/{region.id}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.findall(r"<strong>(\w+)</strong> by", html) == ["update", "update", "create"]
    assert history_pairs(html, "name") == [("Europe", "Europe and Africa"), ("EMEA", "Europe"), ("—", "EMEA")]
    assert "History: Europe and Africa" in html  # titled with the newest label
    assert "3 changes" in html


def test_a_regions_history_keeps_the_delete(login_as):
    region = calendar.create_region(**EMEA)
    region_id = region.id
    calendar.delete_region(region)
    viewer = login_as("responder")

    html = viewer.get(f"/history/regions/{region_id}").get_data(as_text=True)

    assert re.findall(r"<strong>(\w+)</strong> by", html) == ["delete", "create"]
    assert history_pairs(html, "time_zone") == [("Europe/London", "—"), ("—", "Europe/London")]


@pytest.mark.parametrize("role, status", [("admin", 200)] + [(role, 403) for role in NON_ADMINS])
def test_a_user_records_history_is_for_admins_only(login_as, make_user, role, status):
    someone = make_user("crisis_team")
    viewer = login_as(role)

    response = viewer.get(f"/history/users/{someone.id}")

    assert response.status_code == status
    if status == 200:
        assert someone.email in response.get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "/history/nonsense/1",  # no such table
    "/history/audit_events/1",  # a table that is not audited
    "/history/regions/999",  # an audited type, but this record has no history
])
def test_history_of_something_unknown_is_not_found(login_as, url):
    calendar.create_region(**EMEA)
    viewer = login_as("admin")

    assert viewer.get(url).status_code == 404


@pytest.mark.parametrize("role", NON_ADMINS)
def test_the_audit_log_is_for_admins_only(login_as, role):
    assert login_as(role).get("/admin/audit").status_code == 403


def test_the_audit_log_shows_everything_newest_first(trail, login_as):
    admin = login_as("admin")

    html = admin.get("/admin/audit").get_data(as_text=True)

    assert "Showing 5 changes" in html  # the trail and the admin's own account
    assert log_rows(html) == [
        ("system", "create", f"users: {admin.user.email}"),
        ("cli", "create", "users: ops@example.com"),
        ("system", "delete", "regions: APAC"),
        ("seed", "update", "regions: APAC"),
        ("cli", "create", "regions: APAC"),
    ]


@pytest.mark.parametrize("query, expected", [
    ("entity_type=regions", [("system", "delete"), ("seed", "update"), ("cli", "create")]),
    ("action=delete", [("system", "delete")]),
    ("actor=CL", [("cli", "create"), ("cli", "create")]),  # a case-insensitive part of the name
    ("since=2025-01-11&until=2025-01-12", [("system", "delete"), ("seed", "update")]),  # both ends inclusive
    ("until=2025-01-10", [("cli", "create")]),
    ("since=2025-01-13&until=2025-01-13", [("cli", "create")]),
    ("entity_type=regions&actor=cli", [("cli", "create")]),
    ("entity_type=users&action=update", []),
    ("actor=%25", []),  # a literal %, not a wildcard that matches everyone
    ("actor=_", []),
])
def test_the_audit_log_filters(trail, login_as, query, expected):
    admin = login_as("admin")

    html = admin.get(f"/admin/audit?{query}").get_data(as_text=True)

    assert [(who, action) for who, action, _record in log_rows(html)] == expected
    if not expected:
        assert "No changes match these filters." in html


def test_the_audit_log_pages(trail, login_as):
    admin = login_as("admin")

    first = admin.get("/admin/audit?per_page=2").get_data(as_text=True)
    html = admin.get(pager_link(first, "next")).get_data(as_text=True)

    assert log_rows(html) == [("system", "delete", "regions: APAC"), ("seed", "update", "regions: APAC")]
    assert "Showing 2 changes" in html and pager_link(html, "prev") and pager_link(html, "next")


def test_the_audit_log_pager_keeps_the_filters(trail, login_as):
    admin = login_as("admin")

    first = admin.get("/admin/audit?entity_type=regions&per_page=2").get_data(as_text=True)
    older = pager_link(first, "next")
    second = admin.get(older).get_data(as_text=True)

    assert "entity_type=regions" in older and "per_page=2" in older
    assert pager_link(first, "prev") is None
    assert log_rows(second) == [("cli", "create", "regions: APAC")]
    assert pager_link(second, "next") is None


@pytest.mark.parametrize("query", [
    "since=yesterday", "until=2025-13-45", "action=explode", "entity_type=nonsense",
    "actor=" + "x" * 500, "page=abc", "page=-3", "per_page=0", "per_page=100000", "page=99",
    "after=garbage", "before=WzEsIngiXQ",
])
def test_invalid_audit_log_filters_do_not_break_the_page(trail, login_as, query):
    admin = login_as("admin")

    response = admin.get(f"/admin/audit?{query}")

    assert response.status_code == 200
    assert "Audit log" in response.get_data(as_text=True)


@pytest.mark.parametrize("query, field_error", [
    ("since=yesterday", "Not a valid date value."),
    ("action=explode", "Not a valid choice."),
])
def test_an_invalid_filter_is_explained_next_to_its_field(trail, login_as, query, field_error):
    admin = login_as("admin")

    html = admin.get(f"/admin/audit?{query}").get_data(as_text=True)

    assert field_error in html


def test_a_region_form_change_shows_up_in_its_history_with_the_admins_email(login_as):
    admin = login_as("admin")
    region = calendar.create_region(**EMEA)

    form_post(admin, f"/regions/{region.id}/edit", {"name": "EMEA", "time_zone": "Europe/London",
                                                    "business_start": "08:30", "business_end": "17:00",
                                                    "holiday_country": "GB"})

    html = admin.get(f"/history/regions/{region.id}").get_data(as_text=True)
    assert f"<strong>update</strong> by {admin.user.email}" in html
    assert history_pairs(html, "business_start")[0] == ("09:00:00", "08:30:00")


def test_change_histories_name_fields_as_people_know_them(app):
    from app.field_labels import field_label

    assert field_label("likelihood") == "Residual likelihood"
    assert field_label("inherent_impact") == "Inherent impact"
    assert field_label("owner_id") == "Owner"
    assert field_label("grace_minutes") == "Grace minutes"
