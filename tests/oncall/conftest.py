"""Fixtures for the on-call tests."""
from __future__ import annotations

import re
from datetime import time

import pytest
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.calendar import services as calendar
from app.extensions import db
from app.oncall import services as contacts
from app.oncall.models import ContactMethod


# --- contact methods and verification ----------------------------------------------------------------------

def last_code_sent(method: ContactMethod) -> str:
    """The code in the newest verification message to `method`, read as its recipient would (console channel)."""
    body = db.session.scalars(select(OutboundMessage.body).where(
        OutboundMessage.contact_method_id == method.id, OutboundMessage.purpose == "verification")
        .order_by(OutboundMessage.id.desc())).first()
    assert body, "no verification message was sent to this method"
    spoken_together = re.sub(r"(?<=\d), (?=\d)", "", body)  # the voice text reads the digits one by one
    match = re.search(r"\b\d{6}\b", spoken_together)
    assert match, body
    return match.group(0)


@pytest.fixture
def contact_region_us(app):
    """A US region: numbers without +country code are read as US numbers; US public holidays count."""
    return calendar.create_region(name="AMER", time_zone="America/Los_Angeles", business_start=time(7),
                                  business_end=time(17), holiday_country="US")


@pytest.fixture
def add_contact_method(app):
    """Add a method through the service, optionally verified through the real send-code/verify flow."""

    def add(person, kind: str = "sms", address: str = "+14155552671", *, verified: bool = False, actor=None):
        method = contacts.add_method(actor or person, person, kind=kind, address=address)
        if verified:
            contacts.send_code(person, method)
            contacts.verify_code(person, method, last_code_sent(method))
        return method

    return add


# --- escalation policies -------------------------------------------------------------------------------------

@pytest.fixture
def make_schedule(app):
    """A schedule with a name and nothing else: a policy only needs it to exist (who is on call is another test's)."""
    from app.oncall.models import Schedule

    def make(name: str = "Follow the sun"):
        schedule = Schedule(name=name)
        db.session.add(schedule)
        db.session.commit()
        return schedule

    return make


@pytest.fixture
def make_policy(app):
    """Save a policy through the service; every field but the steps has a default."""
    from app.oncall import policies

    def make(steps, **fields):
        fields.setdefault("name", "Critical jobs")
        return policies.save_policy(None, steps=steps, **fields)

    return make


# --- rotations, schedules, reminders --------------------------------------------------------------------------

@pytest.fixture
def make_rotation(app):
    """Create a rotation through the service; by default weekly, Mondays 09:00 UTC from Monday 2026-11-02."""
    from datetime import date

    from app.oncall import rotations

    counter = {"n": 0}

    def make(members=(), **fields):
        counter["n"] += 1
        fields.setdefault("name", f"Rotation {counter['n']}")
        fields.setdefault("time_zone", "UTC")
        fields.setdefault("start_date", date(2026, 11, 2))
        fields.setdefault("start_time", time(9))
        fields.setdefault("handoff_kind", "weekly")
        fields.setdefault("shift_length", 1)
        return rotations.create_rotation(member_ids=[person.id for person in members], **fields)

    return make


ALL_WEEK = (0, 1, 2, 3, 4, 5, 6)


@pytest.fixture
def make_oncall_schedule(app):
    """Create a schedule through the service; each layer is (rotation, zone, days, start, end) or a rotation alone
    (all day, every day)."""
    from app.oncall import schedules

    def make(name: str = "Primary", layers=(), time_zone: str = "UTC"):
        schedule = schedules.create_schedule(name=name, time_zone=time_zone)
        for layer in layers:
            rotation, zone, days, start, end = layer if isinstance(layer, tuple) else \
                (layer, "UTC", ALL_WEEK, time(0), time(0))
            schedules.add_layer(schedule, rotation_id=rotation.id, time_zone=zone, days=days, start_time=start,
                                end_time=end)
        return schedules.get_schedule(schedule.id)

    return make


@pytest.fixture
def reachable_by(app):
    """Give a person a (verified) method and a rule for it, written straight to the database."""
    from app.oncall.models import ContactKind, NotificationRule
    from app.timeutil import utcnow

    def give(person, kind: str = "sms", address: str = "+14155550100", *, delay_minutes: int = 0,
             verified: bool = True):
        method = ContactMethod(user_id=person.id, kind=ContactKind(kind), address=address,
                               verified_at=utcnow() if verified else None)
        db.session.add(method)
        db.session.flush()
        db.session.add(NotificationRule(user_id=person.id, contact_method_id=method.id, delay_minutes=delay_minutes))
        db.session.commit()
        return method

    return give
