"""Demo readiness data: the default template, this quarter's checklist part done, two lessons from last quarter,
and one snapshot per week so far so the trend has a shape on first run. Safe to run twice."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.services import find_user_by_email, user_finder
from app.calendar.services import close_region
from app.extensions import db
from app.readiness import checklist, lessons
from app.readiness.models import ChecklistTemplateItem, ItemStatus, Lesson, ReadinessSnapshot
from app.readiness.score import colour_for, compute_readiness
from app.timeutil import utcnow

DEMO_TEMPLATE = [
    # title, track, owner email, owner role, BD offset, evidence required
    ("Run the quarterly DR test", "drtest", "crisis@acme.example", "Crisis team", -30, True),
    ("Validate critical vendors and their escalation contacts", "vendors", "crisis@acme.example", "Vendor owners",
     -20, True),
    ("Refresh on-call contact details", "people", "oncall@acme.example", "On-call engineers", -20, False),
    ("Close-period training for responders", "people", "oncall@acme.example", "Team leads", -10, False),
    ("Loaner laptops ready for the close team", "checklist", None, "IT service desk", -10, False),
    ("Change freeze in force", "checklist", "admin@acme.example", "Change manager", -5, True),
    ("Lessons-learned review of this close", "lessons", "crisis@acme.example", "Crisis team", 10, False),
]
DEMO_LESSONS = [
    ("Vendor escalation numbers were out of date", "Confirm every critical vendor's level-1 number by BD-20.",
     "crisis@acme.example"),
    ("Batch delays were noticed late", "Put the billing jobs on the watch list with a 15-minute grace period.",
     "admin@acme.example"),
]


def seed_demo_readiness() -> None:
    find_user = user_finder()  # each person looked up once

    def _person_id(email: str | None) -> int | None:
        person = find_user(email) if email else None
        return person.id if person else None

    if db.session.scalar(select(ChecklistTemplateItem.id).limit(1)) is None:
        for title, track, email, role, offset, evidence in DEMO_TEMPLATE:
            checklist.set_template_item(title=title, track=track, owner_id=_person_id(email), owner_role=role,
                                        bd_offset=offset, evidence_required=evidence)
        db.session.commit()
    region = close_region()
    today, quarter = region.today(), region.quarter_at()
    # Its own lessons, by title: other domains' demos (an incident review) may have recorded lessons already.
    if db.session.scalar(select(Lesson.id).where(Lesson.title.in_([title for title, *_ in DEMO_LESSONS]))) is None:
        for title, recommendation, email in DEMO_LESSONS:
            lessons.add_lesson(title=title, recommendation=recommendation, owner_id=_person_id(email),
                               learned_in=quarter.previous(), target=quarter)
    if checklist.instantiate_quarter(quarter=quarter, by="seed"):
        _progress(quarter, today)
    _snapshots(quarter, today)


def _progress(quarter, today) -> None:
    """A checklist part done: some items done, the next one in progress, one lesson's item done."""
    crisis = find_user_by_email("crisis@acme.example")
    items = checklist.quarter_items(quarter)
    # Whatever is already due is done (but the last one, left overdue), and the first two lines are done early.
    due = [item for item in items if item.due_on < today]
    early = [item for item in items if item.due_on >= today and item.track in ("vendors", "people")][:2]
    for item in due[:-1] + early:
        item.status, item.done_at, item.done_by_id = ItemStatus.DONE.value, utcnow(), crisis.id if crisis else None
        item.evidence = "Recorded in the close binder"
        if item.lesson is not None:
            item.lesson.status, item.lesson.closed_at = "closed", item.done_at
    upcoming = [item for item in items if item.due_on >= today and item.item_status.is_open]
    if upcoming:
        upcoming[0].status = ItemStatus.DOING.value
    lesson_items = [item for item in items if item.lesson_id is not None and item.item_status.is_open]
    if lesson_items:  # one of the two lessons done, the other still open: the carry-forward shows both ways
        first = lesson_items[0]
        first.status, first.done_at, first.done_by_id = ItemStatus.DONE.value, utcnow(), crisis.id if crisis else None
        first.evidence = "Contacts confirmed in the vendor campaign"
        first.lesson.status, first.lesson.closed_at = "closed", first.done_at
    db.session.commit()


def _snapshots(quarter, today) -> None:
    """One snapshot a week from the quarter's start, rising towards today's score (history cannot be recomputed)."""
    days = [quarter.first_day + timedelta(days=7 * week) for week in range(14)]
    days = [day for day in days if day < today]
    if not days:
        return
    taken = set(db.session.scalars(select(ReadinessSnapshot.day).where(ReadinessSnapshot.day.in_(days))))
    missing = [day for day in days if day not in taken]
    if not missing:
        return
    now = compute_readiness(quarter=quarter)
    base = now.score if now.score is not None else 70
    for day in missing:
        weeks_ago = (today - day).days // 7
        score = max(0, min(100, base - 3 * weeks_ago))
        db.session.add(ReadinessSnapshot(day=day, fiscal_year=quarter.fiscal_year, quarter=quarter.quarter,
                                         score=score, colour=colour_for(score),
                                         tracks={result.track: result.score for result in now.tracks}))
    db.session.commit()
