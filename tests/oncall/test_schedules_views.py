"""Rotation and schedule pages: lists, forms, the schedule's now / gaps / timeline / overrides, and the feed page."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.auth.roles import Role
from app.calendar import services as calendar
from app.extensions import db
from app.oncall import schedules
from app.oncall.models import CalendarFeed, Rotation, ScheduleLayer, ScheduleOverride
from app.timeutil import UTC
from tests.conftest import form_post

NOW = datetime(2026, 11, 4, 12, tzinfo=UTC)  # Wednesday
WEEKDAYS = (0, 1, 2, 3, 4)


def text(response) -> str:
    return response.get_data(as_text=True)


def rotation_form(**change) -> dict:
    return {"name": "EMEA primary", "description": "", "time_zone": "Europe/London", "start_date": "2026-11-02",
            "start_time": "09:00", "handoff_kind": "weekly", "shift_length": "1"} | change


# -- rotations ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, sees_new", [(Role.RESPONDER, False), (Role.EXECUTIVE, False),
                                            (Role.CRISIS_TEAM, True), (Role.ADMIN, True)])
def test_the_rotation_list_has_an_empty_state_and_offers_new_to_editors(login_as, role, sees_new):
    page = login_as(role).get("/rotations")

    assert page.status_code == 200
    assert "No rotations yet" in text(page)
    assert ('href="/rotations/new"' in text(page)) is sees_new


def test_a_rotation_is_created_through_the_form_with_its_people_in_order(login_as, make_user):
    client = login_as(Role.CRISIS_TEAM)
    ana, ben = make_user(Role.RESPONDER, name="Ana"), make_user(Role.RESPONDER, name="Ben")

    response = form_post(client, "/rotations/new", rotation_form(member_ids=[str(ben.id), str(ana.id)]))

    rotation = db.session.scalar(select(Rotation))
    assert response.status_code == 302 and response.headers["Location"] == f"/rotations/{rotation.id}"
    assert [member.user_id for member in rotation.members] == [ben.id, ana.id]
    assert rotation.start_local == datetime(2026, 11, 2, 9)


@pytest.mark.parametrize("change, message", [
    ({"shift_length": "0"}, "between 1 and 1000"),
    ({"time_zone": "Atlantis/Capital"}, "Unknown time zone"),
    ({"name": "Taken"}, "already exists"),
    ({"start_time": "25:00"}, "Not a valid time value"),
])
def test_a_bad_rotation_form_answers_422_with_the_reason(login_as, make_rotation, change, message):
    make_rotation(name="Taken")
    client = login_as(Role.ADMIN)

    response = form_post(client, "/rotations/new", rotation_form(**change))

    assert response.status_code == 422
    assert message in text(response)
    assert len(db.session.scalars(select(Rotation)).all()) == 1


@time_machine.travel(NOW, tick=False)
def test_the_rotation_page_lists_its_people_and_next_hand_offs_in_the_viewers_zone(login_as, make_rotation,
                                                                                   make_user):
    ana, ben = make_user(Role.RESPONDER, name="Ana"), make_user(Role.RESPONDER, name="Ben")
    rotation = make_rotation(members=[ana, ben])  # weekly, Mondays 09:00 UTC from 2026-11-02: Ana first

    page = text(login_as(Role.EXECUTIVE, time_zone="America/Los_Angeles").get(f"/rotations/{rotation.id}"))

    # Next hand-off: Monday 2026-11-09 09:00 UTC = 01:00 PST, to Ben; then 11-16 to Ana.
    # The zone by offset and place, never "PST" (which Manila uses too).
    assert re.search(r"Mon 09 Nov 2026 01:00 UTC−8, Los Angeles</td><td>Ben", page)
    assert re.search(r"Mon 16 Nov 2026 01:00 UTC−8, Los Angeles</td><td>Ana", page)
    assert "on call now" in page.split("Ben")[0]  # the marker sits beside Ana, listed first
    assert "Remove" not in page  # read-only for an executive


def test_people_are_moved_and_removed_on_the_rotation_page(login_as, make_rotation, make_user):
    ana, ben, cy = (make_user(Role.RESPONDER, name=name) for name in ("Ana", "Ben", "Cy"))
    rotation = make_rotation(members=[ana, ben, cy])
    client = login_as(Role.CRISIS_TEAM)
    url = f"/rotations/{rotation.id}"
    ids = [member.id for member in rotation.members]

    moved = form_post(client, f"{url}/members/{ids[2]}/move", {"direction": "up"}, page_url=url)
    removed = form_post(client, f"{url}/members/{ids[0]}/remove", {}, page_url=url)
    added = form_post(client, f"{url}/members", {"user_id": str(ana.id)}, page_url=url)
    twice = form_post(client, f"{url}/members", {"user_id": str(ana.id)}, page_url=url)

    assert [r.status_code for r in (moved, removed, added)] == [302, 302, 302]
    assert [m.user_id for m in db.session.get(Rotation, rotation.id).members] == [cy.id, ben.id, ana.id]
    assert twice.status_code == 422 and "already in the rotation" in text(twice)


def test_editing_a_rotation_keeps_its_people(login_as, make_rotation, make_user):
    ana, ben = make_user(Role.RESPONDER), make_user(Role.RESPONDER)
    rotation = make_rotation(members=[ana, ben], name="Old")
    client = login_as(Role.CRISIS_TEAM)

    response = form_post(client, f"/rotations/{rotation.id}/edit",
                         rotation_form(name="New", handoff_kind="daily", start_time="18:00"))

    rotation = db.session.get(Rotation, rotation.id)
    assert response.status_code == 302
    assert (rotation.name, rotation.handoff_kind.value, rotation.start_local) == \
        ("New", "daily", datetime(2026, 11, 2, 18))
    assert [member.user_id for member in rotation.members] == [ana.id, ben.id]


def test_deleting_a_rotation_a_schedule_uses_says_why_it_cannot(login_as, make_rotation, make_oncall_schedule):
    rotation = make_rotation(name="EMEA")
    make_oncall_schedule("Follow the sun", [rotation])
    client = login_as(Role.ADMIN)

    response = form_post(client, f"/rotations/{rotation.id}/delete", {}, page_url=f"/rotations/{rotation.id}/edit")

    assert response.headers["Location"] == f"/rotations/{rotation.id}/edit"
    assert "used by schedule Follow the sun" in text(client.get(response.headers["Location"]))
    assert db.session.get(Rotation, rotation.id) is not None


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.EXECUTIVE])
def test_readers_cannot_change_rotations_or_schedules(login_as, make_rotation, make_oncall_schedule, role):
    rotation = make_rotation()
    schedule = make_oncall_schedule()
    client = login_as(role)

    for url in ("/rotations/new", f"/rotations/{rotation.id}/delete", f"/schedules/{schedule.id}/overrides",
                f"/schedules/{schedule.id}/layers"):
        assert form_post(client, url, {}, page_url="/schedules").status_code == 403, url


# -- schedules -----------------------------------------------------------------------------------------------------

@pytest.fixture
def weekday_schedule(make_rotation, make_oncall_schedule, make_user, reachable_by):
    """Ana (phone verified) then Ben (no phone) weekly from Monday 2026-11-02 09:00 UTC, weekdays only (UTC)."""
    ana, ben = make_user(Role.RESPONDER, name="Ana"), make_user(Role.RESPONDER, name="Ben")
    reachable_by(ana)
    rotation = make_rotation(members=[ana, ben], name="Primary rotation")
    return make_oncall_schedule("Primary", [(rotation, "UTC", WEEKDAYS, time(0), time(0))])


@time_machine.travel(NOW, tick=False)
def test_the_schedule_page_shows_now_the_gaps_the_holidays_and_who_cannot_be_phoned(login_as, weekday_schedule):
    calendar.create_region(name="AMER", time_zone="America/Los_Angeles", business_start=time(7),
                           business_end=time(17), holiday_country="US")

    page = text(login_as(Role.RESPONDER, time_zone="UTC").get(f"/schedules/{weekday_schedule.id}"))

    assert re.search(r'data-testid="on-call-now">Ana</li>', page)  # Ana has a verified phone: no flag
    assert re.search(r"Cannot be phoned \(no verified SMS or voice method\):\s+Ben</p>", page)
    assert re.search(r"Ben <span[^>]*>no phone</span>", page)  # beside his shifts on the timeline
    assert not re.search(r"Ana <span[^>]*>no phone", page)
    # The weekends of the next 14 days (from today, Wed 11-04, 00:00 UTC) are gaps.
    assert re.findall(r'data-testid="gap">Nobody on call ([^<]+)</li>', page) == [
        "Sat 07 Nov 00:00 – Mon 09 Nov 00:00", "Sat 14 Nov 00:00 – Mon 16 Nov 00:00"]
    assert "AMER: Veterans Day" in page  # Wednesday 2026-11-11
    assert page.count("<h3>") >= 14


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("query, shown_zone, first_gap", [
    ("", "UTC−8, Los Angeles", "Fri 06 Nov 16:00"),  # the viewer's own zone: Sat 00:00 UTC = Fri 16:00 PST
    ("?zone=Asia/Manila", "UTC+8, Manila", "Sat 07 Nov 08:00"),
    ("?zone=Not/AZone", "UTC−8, Los Angeles", "Fri 06 Nov 16:00"),  # unknown: back to the viewer's zone
])
def test_the_timeline_is_shown_in_the_viewers_zone_or_the_one_asked_for(login_as, weekday_schedule, query,
                                                                          shown_zone, first_gap):
    page = text(login_as(Role.EXECUTIVE, time_zone="America/Los_Angeles")
                .get(f"/schedules/{weekday_schedule.id}{query}"))

    assert f"<small class=\"muted\">({shown_zone})</small>" in page
    assert f'data-testid="gap">Nobody on call {first_gap}' in page
    assert ("Unknown time zone" in page) is ("Not/AZone" in query)


@time_machine.travel(datetime(2027, 3, 20, 12, tzinfo=UTC), tick=False)
def test_the_timeline_lists_fourteen_whole_local_days_across_a_dst_change(login_as, weekday_schedule):
    page = text(login_as(Role.EXECUTIVE, time_zone="Europe/London").get(f"/schedules/{weekday_schedule.id}"))

    # Sat 2027-03-20 to Fri 04-02 in London; 03-28 has 23 hours. 14 x 24 hours would reach 01:00 BST on 04-03.
    days = re.findall(r"<h3>(\w{3} \d\d \w{3})", page)
    assert days[0] == "Sat 20 Mar" and days[-1] == "Fri 02 Apr" and len(days) == 14
    last_day = page.split("<h3>Fri 02 Apr")[1].split("</table>")[0]
    assert re.findall(r"<td>(\d\d:\d\d)&#8288;–&#8288;(\d\d:\d\d)</td>", last_day)[-1][1] == "24:00"


def override_form(user, **change) -> dict:
    return {"user_id": str(user.id), "mode": "replace", "replaces_user_id": "", "start_at": "2027-06-10T10:00",
            "end_at": "2027-06-10T18:00", "reason": "PTO"} | change


@time_machine.travel(NOW, tick=False)
def test_an_override_is_added_in_the_editors_zone_and_removed(login_as, weekday_schedule, make_user):
    cy = make_user(Role.RESPONDER, name="Cy")
    client = login_as(Role.CRISIS_TEAM, time_zone="Europe/London")
    url = f"/schedules/{weekday_schedule.id}"

    added = form_post(client, f"{url}/overrides", override_form(cy), page_url=url)

    override = db.session.scalar(select(ScheduleOverride))
    assert added.status_code == 302
    # 10:00 in London in June is BST: 09:00 UTC.
    assert (override.start_at, override.end_at) == (datetime(2027, 6, 10, 9, tzinfo=UTC),
                                                    datetime(2027, 6, 10, 17, tzinfo=UTC))
    assert "PTO" in text(client.get(url))
    removed = form_post(client, f"{url}/overrides/{override.id}/delete", {}, page_url=url)
    assert removed.status_code == 302 and db.session.scalar(select(ScheduleOverride)) is None


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("change, message", [
    ({"end_at": "2027-06-10T09:00"}, "The end must be after the start."),
    ({"start_at": "next tuesday"}, "Use a date and time such as"),
    ({"mode": "add", "replaces_user_id": "USER"}, "leave &#39;instead of&#39; empty"),
])
def test_a_bad_override_answers_422_with_the_reason(login_as, weekday_schedule, make_user, change, message):
    cy = make_user(Role.RESPONDER, name="Cy")
    change = {key: str(cy.id) if value == "USER" else value for key, value in change.items()}
    client = login_as(Role.CRISIS_TEAM)
    url = f"/schedules/{weekday_schedule.id}"

    response = form_post(client, f"{url}/overrides", override_form(cy, **change), page_url=url)

    assert response.status_code == 422
    assert message in text(response)
    assert db.session.scalar(select(ScheduleOverride)) is None


def test_a_schedule_is_created_then_given_layers_on_its_edit_page(login_as, make_rotation):
    apac, night = make_rotation(name="APAC"), make_rotation(name="Night")
    client = login_as(Role.CRISIS_TEAM)

    created = form_post(client, "/schedules/new", {"name": "Follow the sun", "description": "",
                                                   "time_zone": "UTC"})
    edit = created.headers["Location"]
    schedule_id = int(edit.split("/")[2])
    layer = {"layer-rotation_id": str(apac.id), "layer-time_zone": "Asia/Manila", "layer-days": ["0", "1", "2"],
             "layer-start_time": "09:00", "layer-end_time": "18:00"}
    first = form_post(client, f"/schedules/{schedule_id}/layers", layer, page_url=edit)
    second = form_post(client, f"/schedules/{schedule_id}/layers",
                       layer | {"layer-rotation_id": str(night.id), "layer-days": ["5", "6"],
                                "layer-start_time": "00:00", "layer-end_time": "00:00"}, page_url=edit)
    no_days = form_post(client, f"/schedules/{schedule_id}/layers",
                        {key: value for key, value in layer.items() if key != "layer-days"}, page_url=edit)

    layers = db.session.scalars(select(ScheduleLayer).order_by(ScheduleLayer.position)).all()
    assert [r.status_code for r in (created, first, second)] == [302, 302, 302]
    assert [(l.rotation_id, sorted(l.weekdays), l.start_time, l.time_zone) for l in layers] == [
        (apac.id, [0, 1, 2], time(9), "Asia/Manila"), (night.id, [5, 6], time(0), "Asia/Manila")]
    assert no_days.status_code == 422 and "Pick at least one day" in text(no_days)
    page = text(client.get(edit))
    assert "Mon–Wed" in page and "09:00–18:00 UTC+8, Manila" in page and "Sat, Sun" in page


def test_layers_are_reordered_and_removed_on_the_edit_page(login_as, make_rotation, make_oncall_schedule):
    first, second = make_rotation(name="First"), make_rotation(name="Second")
    schedule = make_oncall_schedule(layers=[first, second])
    client = login_as(Role.ADMIN)
    edit = f"/schedules/{schedule.id}/edit"
    ids = [layer.id for layer in schedule.layers]

    form_post(client, f"/schedules/{schedule.id}/layers/{ids[1]}/move", {"direction": "up"}, page_url=edit)
    order = [layer.rotation_id for layer in schedules.get_schedule(schedule.id).layers]
    form_post(client, f"/schedules/{schedule.id}/layers/{ids[0]}/remove", {}, page_url=edit)

    assert order == [second.id, first.id]
    assert [layer.rotation_id for layer in schedules.get_schedule(schedule.id).layers] == [second.id]


def test_the_schedules_list_shows_who_is_on_call_and_links_the_feed_page(login_as, weekday_schedule):
    with time_machine.travel(NOW, tick=False):
        page = text(login_as(Role.RESPONDER).get("/schedules"))
    with time_machine.travel(datetime(2026, 11, 7, tzinfo=UTC), tick=False):  # Saturday: the gap
        weekend = text(login_as(Role.RESPONDER).get("/schedules"))

    assert re.search(r">Primary</a></td>\s*<td>Ana</td>", page)
    assert re.search(r">Primary</a></td>\s*<td><span class=\"pill red\">nobody", weekend)
    assert 'href="/schedules/my-feed"' in page


# -- the feed page ---------------------------------------------------------------------------------------------------

def test_the_feed_address_is_shown_once_and_can_be_revoked(app, login_as):
    client = login_as(Role.EXECUTIVE)

    created = form_post(client, "/schedules/my-feed", {})
    later = client.get("/schedules/my-feed")
    url = re.search(r'id="feed-url">([^<]+)<', text(created)).group(1)

    assert url.startswith(f"{app.config['PUBLIC_BASE_URL']}/calendar/feed/") and url.endswith(".ics")
    assert 'id="feed-url"' not in text(later) and "You have a feed address" in text(later)
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed = db.session.scalar(select(CalendarFeed))
    assert secret not in (feed.token_hash, feed.prefix)  # only a hash of the secret is kept
    revoked = form_post(client, "/schedules/my-feed/revoke", {}, page_url="/schedules/my-feed")
    assert revoked.status_code == 302 and db.session.scalar(select(CalendarFeed)) is None


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("zone, start_at, stored", [
    ("America/Los_Angeles", "2027-03-14T02:30", datetime(2027, 3, 14, 10, tzinfo=UTC)),  # skipped: the jump
    ("America/Los_Angeles", "2027-11-07T01:30", datetime(2027, 11, 7, 8, 30, tzinfo=UTC)),  # twice: the first
    ("Australia/Sydney", "2027-10-03T02:30", datetime(2027, 10, 2, 16, tzinfo=UTC)),
    ("Europe/London", "2027-03-28T01:30", datetime(2027, 3, 28, 1, tzinfo=UTC)),
])
def test_an_override_form_reads_a_bare_time_in_the_editors_zone_by_the_dst_rule(login_as, weekday_schedule,
                                                                                make_user, zone, start_at, stored):
    cy = make_user(Role.RESPONDER, name="Cy")
    client = login_as(Role.CRISIS_TEAM, time_zone=zone)
    url = f"/schedules/{weekday_schedule.id}"
    end = (stored + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%MZ")

    added = form_post(client, f"{url}/overrides", override_form(cy, start_at=start_at, end_at=end), page_url=url)

    assert added.status_code == 302, added.get_data(as_text=True)
    assert db.session.scalar(select(ScheduleOverride.start_at)) == stored
