"""A person's shifts as an iCalendar feed: what it holds, that it parses, and that only a live secret opens it."""
from __future__ import annotations

from datetime import datetime, time

import pytest
import time_machine
from icalendar import Calendar

from app.auth import services as auth
from app.auth.roles import Role
from app.oncall import feeds, schedules
from app.timeutil import UTC

# Friday: the feed runs from 2026-11-13 00:00 UTC (7 days back, from the start of that day) to 60 days ahead,
# 2027-01-19 12:00 UTC.
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def read(client, secret: str):
    return client.get(f"/calendar/feed/{secret}.ics")


def events(body: bytes) -> list[tuple[str, datetime, datetime]]:
    calendar = Calendar.from_ical(body)
    return sorted((str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend")) for e in calendar.walk("VEVENT"))


@pytest.fixture
def ana(make_user):
    return make_user(Role.RESPONDER, name="Ana")


@pytest.fixture
def two_schedules(make_rotation, make_oncall_schedule, make_user, ana):
    """Primary: Ana then Ben, Secondary: Ben then Ana; both weekly from Monday 2026-11-02 09:00 UTC, all day."""
    ben = make_user(Role.RESPONDER, name="Ben")
    primary = make_oncall_schedule("Primary", [make_rotation(members=[ana, ben])])
    secondary = make_oncall_schedule("Secondary", [make_rotation(members=[ben, ana])])
    with time_machine.travel(utc(2026, 11, 1), tick=False):
        # Ana beside Ben for four hours, and beside herself (which changes nothing) in her own week.
        schedules.create_override(primary, user_id=ana.id, mode="add", start_at=utc(2026, 11, 24, 10),
                                  end_at=utc(2026, 11, 24, 14))
        schedules.create_override(primary, user_id=ana.id, mode="add", start_at=utc(2026, 11, 17, 10),
                                  end_at=utc(2026, 11, 17, 14))
    return primary, secondary


@time_machine.travel(NOW, tick=False)
def test_the_feed_parses_and_holds_each_of_the_persons_shifts_once(client, ana, two_schedules):
    _feed, secret = feeds.create_feed(ana)

    response = read(client, secret)  # no sign-in: a calendar app has only the address

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert events(response.data) == sorted([
        # Primary: Ana's weeks (11-02..11-09 ended before the window), plus the four hours beside Ben.
        ("On call: Primary", utc(2026, 11, 16, 9), utc(2026, 11, 23, 9)),  # one event despite the 11-17 override
        ("On call: Primary", utc(2026, 11, 24, 10), utc(2026, 11, 24, 14)),
        ("On call: Primary", utc(2026, 11, 30, 9), utc(2026, 12, 7, 9)),
        ("On call: Primary", utc(2026, 12, 14, 9), utc(2026, 12, 21, 9)),
        ("On call: Primary", utc(2026, 12, 28, 9), utc(2027, 1, 4, 9)),
        ("On call: Primary", utc(2027, 1, 11, 9), utc(2027, 1, 18, 9)),
        # Secondary: Ana's weeks, the first and last cut by the window.
        ("On call: Secondary", utc(2026, 11, 13), utc(2026, 11, 16, 9)),
        ("On call: Secondary", utc(2026, 11, 23, 9), utc(2026, 11, 30, 9)),
        ("On call: Secondary", utc(2026, 12, 7, 9), utc(2026, 12, 14, 9)),
        ("On call: Secondary", utc(2026, 12, 21, 9), utc(2026, 12, 28, 9)),
        ("On call: Secondary", utc(2027, 1, 4, 9), utc(2027, 1, 11, 9)),
        ("On call: Secondary", utc(2027, 1, 18, 9), utc(2027, 1, 19, 12)),
    ])
    assert b"DTSTART:20261116T090000Z" in response.data  # written in UTC


def test_event_uids_are_unique_and_stay_the_same_from_one_read_to_the_next(client, ana, two_schedules):
    _feed, secret = feeds.create_feed(ana)

    def uids(at: datetime) -> list[str]:
        with time_machine.travel(at, tick=False):
            calendar = Calendar.from_ical(read(client, secret).data)
        return [str(event["uid"]) for event in calendar.walk("VEVENT")]

    first, an_hour_later = uids(NOW), uids(utc(2026, 11, 20, 13))

    assert len(set(first)) == len(first) == 12
    assert first == an_hour_later
    primary = two_schedules[0]
    assert f"oncall-s{primary.id}-u{ana.id}-20261116T090000Z@127.0.0.1" in first


def test_a_person_on_no_schedule_gets_an_empty_calendar(client, ana):
    _feed, secret = feeds.create_feed(ana)

    response = read(client, secret)

    assert response.status_code == 200 and events(response.data) == []
    assert Calendar.from_ical(response.data)["version"] == "2.0"


@pytest.mark.parametrize("spoil", ["wrong", "tampered", "revoked", "replaced", "deactivated", "short"])
def test_only_the_live_secret_of_an_active_person_opens_the_feed(client, ana, spoil):
    _feed, secret = feeds.create_feed(ana)
    asked = {"wrong": "0" * len(secret), "tampered": secret[:-1] + ("A" if secret[-1] != "A" else "B"),
             "short": secret[:8]}.get(spoil, secret)
    if spoil == "revoked":
        feeds.revoke_feed(ana)
    if spoil == "replaced":
        _feed, new_secret = feeds.create_feed(ana)
        assert read(client, new_secret).status_code == 200
    if spoil == "deactivated":
        auth.update_user(ana, name=ana.name, role=ana.role, time_zone="UTC", region_id=None, active=False)

    assert read(client, asked).status_code == 404


def test_each_person_has_one_feed_and_regenerating_keeps_one_row(ana):
    first, first_secret = feeds.create_feed(ana)
    second, second_secret = feeds.create_feed(ana)

    assert first.id == second.id and first_secret != second_secret
    assert feeds.feed_owner(second_secret) == ana and feeds.feed_owner(first_secret) is None


def test_the_feed_url_uses_the_public_base_url(app):
    with app.test_request_context():
        assert feeds.feed_url("abc") == f"{app.config['PUBLIC_BASE_URL']}/calendar/feed/abc.ics"


@time_machine.travel(NOW, tick=False)
def test_a_weekday_layer_splits_shifts_into_one_event_per_day(client, make_rotation, make_oncall_schedule, ana):
    rotation = make_rotation(members=[ana], name="Days")
    make_oncall_schedule("Office hours", [(rotation, "Europe/London", (0, 1, 2, 3, 4), time(9), time(17))])
    _feed, secret = feeds.create_feed(ana)

    shown = events(read(client, secret).data)

    # Weekdays 09:00-17:00 GMT (= UTC in November), from Friday 11-13, the first day of the window.
    assert shown[:3] == [("On call: Office hours", utc(2026, 11, 13, 9), utc(2026, 11, 13, 17)),
                         ("On call: Office hours", utc(2026, 11, 16, 9), utc(2026, 11, 16, 17)),
                         ("On call: Office hours", utc(2026, 11, 17, 9), utc(2026, 11, 17, 17))]
