"""Demo on-call data: three regional rotations, an after-hours rotation and a follow-the-sun schedule."""
from __future__ import annotations

from datetime import date, time

from sqlalchemy import select

from app.auth.services import find_user_by_email, user_finder
from app.database import commit_or_conflict
from app.extensions import db
from app.oncall import rotations, schedules
from app.oncall.models import ContactKind, ContactMethod, NotificationRule, Rotation, Schedule
from app.timeutil import utcnow

DEMO_SCHEDULE = "Follow the sun"
FIRST_MONDAY = date(2026, 1, 5)
WEEKDAYS, EVERY_DAY = [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5, 6]
# name, zone, hand-off (kind, local time), people by email in hand-off order (each region's own person first),
# then the layer: days and local hours. The demo's executive reads but is never on call.
DEMO_ROTATIONS = [
    ("APAC on-call", "Asia/Manila", "weekly", time(9),
     ["oncall@acme.example", "crisis@acme.example", "admin@acme.example"], WEEKDAYS, time(9), time(18)),
    ("EMEA on-call", "Europe/London", "weekly", time(9),
     ["crisis@acme.example", "admin@acme.example", "oncall@acme.example"], WEEKDAYS, time(8), time(17)),
    ("AMER on-call", "America/Los_Angeles", "weekly", time(9),
     ["admin@acme.example", "oncall@acme.example", "crisis@acme.example"], WEEKDAYS, time(7), time(17)),
    # Last layer, all day every day: whatever the regional layers leave uncovered (follow the sun).
    ("After hours", "UTC", "daily", time(18),
     ["oncall@acme.example", "crisis@acme.example", "admin@acme.example"], EVERY_DAY, time(0), time(0)),
]


# Fictional numbers (555-01xx is reserved for fiction): with no Twilio configured they reach the console.
DEMO_CONTACTS = [("admin@acme.example", "+14155550100"), ("crisis@acme.example", "+14155550101"),
                 ("oncall@acme.example", "+14155550102")]


def seed_demo_contacts() -> None:
    """Give each demo on-call person a verified SMS (at 0 min), voice (at 2 min) and email (at 0 min)."""
    for email, phone in DEMO_CONTACTS:
        person = find_user_by_email(email)
        if person is None or db.session.scalar(select(ContactMethod.id).where(ContactMethod.user_id == person.id)):
            continue
        for kind, address, delay in ((ContactKind.SMS, phone, 0), (ContactKind.VOICE, phone, 2),
                                     (ContactKind.EMAIL, email, 0)):
            method = ContactMethod(user_id=person.id, kind=kind, address=address, label="demo",
                                   verified_at=utcnow())
            db.session.add(method)
            db.session.flush()
            db.session.add(NotificationRule(user_id=person.id, contact_method_id=method.id, delay_minutes=delay))
    db.session.commit()


def seed_demo_oncall() -> Schedule:
    """Create the demo rotations and the "Follow the sun" schedule when missing. Safe to run twice.

    People are the demo users that exist (run after the demo users are made); an existing schedule or
    rotation is left as it is.
    """
    seed_demo_contacts()
    find_user = user_finder()  # each person looked up once, not once per rotation they are in
    made: list[tuple[Rotation, tuple]] = []
    for name, zone, kind, handoff, emails, days, opens, closes in DEMO_ROTATIONS:
        rotation = db.session.scalar(select(Rotation).where(Rotation.name == name))
        if rotation is None:
            people = [user.id for user in map(find_user, emails) if user is not None]
            rotation = rotations.new_rotation(
                name=name, time_zone=zone, start_date=FIRST_MONDAY, start_time=handoff, handoff_kind=kind,
                shift_length=1, member_ids=people,
                description=f"Hands off {'every Monday' if kind == 'weekly' else 'every day'} at "
                            f"{handoff:%H:%M} {zone}.")
            db.session.flush()  # one at a time, as create_rotation writes them
        made.append((rotation, (zone, days, opens, closes)))
    schedule = db.session.scalar(select(Schedule).where(Schedule.name == DEMO_SCHEDULE))
    if schedule is not None:
        commit_or_conflict()
        return schedule
    schedule = schedules.create_schedule(
        name=DEMO_SCHEDULE, time_zone="UTC",
        description="APAC, EMEA and AMER business hours on weekdays; the after-hours rotation covers the rest.")
    for rotation, (zone, days, opens, closes) in made:
        schedules.new_layer(schedule, rotation_id=rotation.id, time_zone=zone, days=days, start_time=opens,
                            end_time=closes)
        db.session.flush()  # one at a time, as add_layer writes them
    commit_or_conflict()
    return schedule
