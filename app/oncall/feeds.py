"""A person's own shifts as an iCalendar feed behind a secret, revocable URL.

Only a SHA-256 of the secret is stored (like API tokens): the URL is shown once, when it is made.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.oncall.coverage import load_schedules, schedule_spec
from app.oncall.models import CalendarFeed, Schedule
from app.oncall.rotation import shifts_of, timeline
from app.timeutil import utcnow

FEED_PAST = timedelta(days=7)
FEED_AHEAD = timedelta(days=60)
PREFIX_LENGTH = 8  # hex characters at the front of the secret that find the row without scanning hashes


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_url(secret: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/calendar/feed/{secret}.ics"


def get_feed(user: User) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def create_feed(user: User) -> tuple[CalendarFeed, str]:
    """Make (or remake) the person's feed secret; the old URL stops working. The secret is returned once."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    secret = prefix + secrets.token_urlsafe(32)
    feed = get_feed(user)
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        db.session.add(feed)
    # The same row is reused: the person has one feed (unique user_id), and a new hash is a revocation.
    feed.prefix, feed.token_hash, feed.created_at = prefix, _digest(secret), utcnow()
    db.session.commit()
    return feed, secret


def revoke_feed(user: User) -> bool:
    """Delete the person's feed secret; True when there was one."""
    feed = get_feed(user)
    if feed is None:
        return False
    db.session.delete(feed)
    db.session.commit()
    return True


def feed_owner(secret: str) -> User | None:
    """The active person a feed secret belongs to, or None. Comparison is constant-time."""
    if len(secret) <= PREFIX_LENGTH:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.prefix == secret[:PREFIX_LENGTH]))
    if feed is None or not hmac.compare_digest(feed.token_hash, _digest(secret)):
        return None
    user = db.session.get(User, feed.user_id)
    return user if user is not None and user.active else None


def shifts_for(user: User, start: datetime, end: datetime) -> list[tuple[Schedule, datetime, datetime]]:
    """The person's continuous stretches on call in [start, end), per schedule, in time order."""
    found = []
    for schedule in load_schedules():
        segments = timeline(schedule_spec(schedule), start, end)
        found.extend((schedule, begin, finish) for begin, finish in shifts_of(user.id, segments))
    return sorted(found, key=lambda shift: (shift[1], shift[0].name))


def feed_calendar(user: User) -> bytes:
    """The iCalendar document of the person's shifts from 7 days ago to 60 days ahead, times in UTC."""
    now = utcnow()
    # From a whole UTC day, so a shift cut at the window's start keeps its UID for a day, not a minute.
    start = (now - FEED_PAST).replace(hour=0, minute=0, second=0, microsecond=0)
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "quarterdeck"
    calendar = Calendar()
    calendar.add("prodid", "-//Quarterdeck//On-call shifts//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"On call: {user.name}")
    for schedule, begin, finish in shifts_for(user, start, now + FEED_AHEAD):
        event = Event()
        # Stable for the same schedule, person and start, so a calendar app updates an event instead of
        # duplicating it when the feed is read again.
        event.add("uid", f"oncall-s{schedule.id}-u{user.id}-{begin:%Y%m%dT%H%M%SZ}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", begin)
        event.add("dtend", finish)
        event.add("summary", f"On call: {schedule.name}")
        calendar.add_component(event)
    return calendar.to_ical()
