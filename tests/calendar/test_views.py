"""Home page, the fiscal calendar page, and the regions admin pages."""
from __future__ import annotations

import re
from datetime import datetime, time

import pytest
import time_machine
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.calendar import services as calendar
from app.calendar.models import Region
from app.extensions import db
from app.timeutil import UTC
from tests.calendar.conftest import AMER, EMEA
from tests.conftest import form_post

NON_ADMINS = ["crisis_team", "responder", "executive"]
EMEA_FORM = {"name": "EMEA", "time_zone": "Europe/London", "business_start": "09:00", "business_end": "17:00",
             "holiday_country": "gb", "holiday_subdivision": "eng"}


def region_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Region))


def region_audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "regions"))


def milestone_rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr><th scope="row">(BD[^<]*)</th><td>([^<]*)</td></tr>', html))


def test_home_shows_the_quarter_and_business_days_left_in_my_region(amer, login_as, worked_example_day):
    viewer = login_as("responder", region_id=amer.id)

    html = viewer.get("/").get_data(as_text=True)

    assert "<h1>Q4 FY27</h1>" in html
    assert "Closes Sun 31 Jan 2027" in html
    assert "close day (BD0) in AMER: <strong>Fri 29 Jan</strong>" in html
    assert '<strong data-testid="business-days-left">46</strong> business days away' in html


def test_home_without_a_region_still_shows_every_regions_close(amer, login_as, worked_example_day):
    viewer = login_as("executive")

    html = viewer.get("/").get_data(as_text=True)

    assert "Q4 FY27" in html
    assert 'data-testid="business-days-left"' not in html
    assert re.search(r"<td>AMER</td>\s*<td>Fri 29 Jan</td>\s*<td>46</td>\s*<td>5</td>", html)


def test_the_calendar_page_shows_the_quarter_its_close_milestones_and_holidays(amer, login_as, worked_example_day):
    viewer = login_as("crisis_team")

    html = viewer.get("/calendar").get_data(as_text=True)

    assert "<h1>Q4 FY27</h1>" in html
    assert "01 Nov 2026 – 31 Jan 2027" in html
    assert "today is Sun 22 Nov" in html
    assert "Close day (BD0): <strong>Fri 29 Jan 2027</strong>" in html
    assert "46 business days left" in html
    assert milestone_rows(html) == {"BD-30": "Tue 15 Dec", "BD-20": "Wed 30 Dec", "BD-10": "Thu 14 Jan",
                                    "BD-5": "Fri 22 Jan", "BD0": "Fri 29 Jan", "BD+10": "Fri 12 Feb"}
    for holiday in ("Thanksgiving Day", "Christmas Day", "Martin Luther King Jr. Day"):
        assert holiday in html


def test_the_calendar_page_navigates_to_another_quarter(amer, login_as, worked_example_day):
    viewer = login_as("crisis_team")

    html = viewer.get("/calendar?fy=2027&q=1").get_data(as_text=True)

    assert "<h1>Q1 FY27</h1>" in html
    assert "01 Feb 2026 – 30 Apr 2026" in html
    assert "business days left" not in html  # that quarter is over
    assert "Close day (BD0): <strong>Thu 30 Apr 2026</strong>" in html
    assert 'href="/calendar?fy=2026&amp;q=4">← Q4 FY26' in html
    assert 'href="/calendar?fy=2027&amp;q=2">Q2 FY27 →' in html
    assert 'href="/calendar">Current' in html


@pytest.mark.config(FISCAL_YEAR_START_MONTH=1)
def test_the_calendar_page_follows_the_configured_fiscal_year(amer, login_as, worked_example_day):
    html = login_as("crisis_team").get("/calendar").get_data(as_text=True)

    assert "<h1>Q4 FY26</h1>" in html
    assert "Close day (BD0): <strong>Thu 31 Dec 2026</strong>" in html


@pytest.mark.parametrize("query", [
    "fy=2027&q=9", "fy=2027&q=0", "fy=2027&q=-1",
    "fy=0&q=1", "fy=2&q=1", "fy=10000&q=3", "fy=99999&q=1",  # at or past the ends of the calendar
])
def test_a_quarter_that_cannot_exist_is_not_found(amer, login_as, query):
    assert login_as("crisis_team").get(f"/calendar?{query}").status_code == 404


@time_machine.travel(datetime(2026, 12, 1, tzinfo=UTC), tick=False)
def test_the_regions_page_lists_every_region(login_as):
    calendar.create_region(**AMER)
    calendar.create_region(**EMEA)

    html = login_as("executive").get("/regions").get_data(as_text=True)

    rows = re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", html)
    # Zones by their offset now and their place.
    assert rows == [("AMER", "UTC−5, New York", "08:00–17:00", "US"),
                    ("EMEA", "UTC, London", "09:00–17:00", "GB-ENG")]
    assert "New region" not in html and "/edit" not in html  # no admin links for an executive


def test_an_admin_sees_the_admin_links_on_the_regions_page(login_as):
    region = calendar.create_region(**AMER)

    html = login_as("admin").get("/regions").get_data(as_text=True)

    assert 'href="/regions/new"' in html
    assert f'href="/regions/{region.id}/edit"' in html


def test_an_admin_creates_a_region(login_as):
    admin = login_as("admin")

    response = form_post(admin, "/regions/new", EMEA_FORM)

    assert response.status_code == 302 and response.headers["Location"].endswith("/regions")
    [region] = db.session.scalars(select(Region)).all()
    assert (region.name, region.time_zone, region.business_start, region.business_end,
            region.holiday_country, region.holiday_subdivision) == \
        ("EMEA", "Europe/London", time(9), time(17), "GB", "ENG")
    assert "Region EMEA created." in admin.get("/regions").get_data(as_text=True)


def test_an_admin_edits_a_region(login_as):
    region = calendar.create_region(**EMEA)
    admin = login_as("admin")

    response = form_post(admin, f"/regions/{region.id}/edit",
                         {**EMEA_FORM, "name": "Europe", "business_end": "18:30", "holiday_subdivision": ""})

    assert response.status_code == 302
    db.session.expire_all()
    assert (region.name, region.business_end, region.holiday_country, region.holiday_subdivision) == \
        ("Europe", time(18, 30), "GB", None)


def test_the_edit_form_starts_with_the_regions_values(login_as):
    region = calendar.create_region(**EMEA)

    html = login_as("admin").get(f"/regions/{region.id}/edit").get_data(as_text=True)

    assert 'value="Europe/London"' in html and 'value="09:00"' in html and 'value="ENG"' in html


def test_an_admin_deletes_a_region_and_its_people_keep_their_accounts(login_as, make_user):
    region = calendar.create_region(**EMEA)
    member = make_user("responder", region_id=region.id)
    admin = login_as("admin")

    response = form_post(admin, f"/regions/{region.id}/delete", {}, page_url=f"/regions/{region.id}/edit")

    assert response.status_code == 302
    assert region_count() == 0
    db.session.expire_all()
    assert member.region_id is None


@pytest.mark.parametrize("overrides, message", [
    ({"time_zone": "Mars/Olympus_Mons"}, "Unknown time zone"),
    ({"business_start": "17:00", "business_end": "09:00"}, "Business hours must end after they start."),
    ({"business_end": "25:00"}, "Not a valid time value."),
    ({"business_end": ""}, "This field is required."),
    ({"holiday_country": "XX", "holiday_subdivision": ""}, "unknown holiday region"),
    ({"holiday_country": "GBR"}, "Two-letter country code"),
    ({"name": ""}, "This field is required."),
    ({"name": "AMER"}, "A region named AMER already exists."),
])
def test_a_bad_region_form_shows_the_error_and_writes_nothing(login_as, overrides, message):
    calendar.create_region(**AMER)
    admin = login_as("admin")
    regions_before, events_before = region_count(), region_audit_count()

    response = form_post(admin, "/regions/new", {**EMEA_FORM, **overrides})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<p id="[\w-]+-error" class="error">[^<]*' + re.escape(message), html)
    assert (region_count(), region_audit_count()) == (regions_before, events_before)


@pytest.mark.parametrize("overrides, message", [
    ({"time_zone": "Atlantis/Capital"}, "Unknown time zone"),
    ({"business_start": "18:00"}, "Business hours must end after they start."),
])
def test_a_bad_edit_shows_the_error_and_changes_nothing(login_as, overrides, message):
    region = calendar.create_region(**EMEA)
    admin = login_as("admin")
    events_before = region_audit_count()

    response = form_post(admin, f"/regions/{region.id}/edit", {**EMEA_FORM, **overrides})

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (region.time_zone, region.business_start) == ("Europe/London", time(9))
    assert region_audit_count() == events_before


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_admins_may_create_edit_or_delete_regions(login_as, role):
    region = calendar.create_region(**EMEA)
    user = login_as(role)

    assert user.get("/regions/new").status_code == 403
    assert user.get(f"/regions/{region.id}/edit").status_code == 403
    # With a valid CSRF token (from a page they may see), so the refusal is about the role.
    for url in ("/regions/new", f"/regions/{region.id}/edit", f"/regions/{region.id}/delete"):
        assert form_post(user, url, {**EMEA_FORM, "name": "Taken over"}, page_url="/regions").status_code == 403
    db.session.expire_all()
    assert region_count() == 1 and region.name == "EMEA"


def test_editing_an_unknown_region_is_not_found(login_as):
    assert login_as("admin").get("/regions/999/edit").status_code == 404
