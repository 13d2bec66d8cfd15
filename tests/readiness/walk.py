"""Readiness records for the route walk in tests/test_access.py, made through the services."""
from __future__ import annotations

from app.calendar.services import quarter_for
from app.readiness import checklist, lessons
from app.timeutil import utcnow


def walk_readiness_values(owner) -> dict[str, int | str]:
    """A template line owned by `owner` and this quarter's checklist item copied from it."""
    line = checklist.save_template_item(title="Walk item", track="checklist", owner_id=owner.id, bd_offset=-5)
    quarter = quarter_for(utcnow().date())
    checklist.instantiate_quarter(quarter=quarter, by="walk")
    item = checklist.quarter_items(quarter)[0]
    lesson = lessons.add_lesson(title="Walk lesson", recommendation="Walk it", owner_id=owner.id,
                                learned_in=quarter.previous(), target=quarter.next())
    return {"template_line_id": line.id, "checklist_item_id": item.id, "lesson_id": lesson.id, "track": "risks"}
