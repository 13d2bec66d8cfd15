"""Incident records for the route walk in tests/test_access.py, made through the services."""
from __future__ import annotations

from app.incidents import review, services, tasks
from app.incidents.models import IncidentLink
from app.incidents.review_models import FollowUp
from app.extensions import db
from sqlalchemy import select


def walk_incident_values(owner, risk_id: int) -> dict[str, object]:
    """A resolved incident (so its review exists) with a link, a task, a drafted lesson and follow-up."""
    incident = services.declare(title="Walk incident", severity="SEV3", declared_by=owner, risk_id=risk_id)
    task = tasks.add_task(incident, title="Walk task", owner_id=owner.id, due_at=None, actor=owner)
    review.resolve(incident.id, resolution="Walked", actor=owner)
    pending = review.review_of(incident)
    lesson = review.add_lesson(pending, title="Walk lesson", recommendation="Walk on")
    review.add_follow_up(pending, kind="risk", title="Walk follow-up", owner_id=owner.id, likelihood=2, impact=2)
    link = db.session.scalar(select(IncidentLink).where(IncidentLink.incident_id == incident.id))
    follow_up = db.session.scalar(select(FollowUp).where(FollowUp.review_id == pending.id))
    return {"incident_id": incident.id, "task_id": task.id, "link_id": link.id, "lesson_draft_id": lesson.id,
            "follow_up_id": follow_up.id, "severity_code": "SEV3"}
