"""The demo incidents: a resolved SEV2 whose review's lesson and follow-up risk are where they belong, and an
open SEV3 with two updates and a task; seeded once."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.incidents.demo import OPEN_TITLE, RESOLVED_TITLE
from app.incidents.models import Incident, IncidentTask, IncidentUpdate
from app.incidents.review_models import FollowUp, Review, ReviewLesson
from app.readiness import lessons
from app.readiness.models import Lesson
from app.risks.models import Risk
from app.seed import seed_demo


def test_the_demo_has_a_reviewed_sev2_and_an_open_sev3_and_runs_twice(app, clock, login_as):
    seed_demo()
    seed_demo()

    resolved = db.session.scalar(select(Incident).where(Incident.title == RESOLVED_TITLE))
    open_one = db.session.scalar(select(Incident).where(Incident.title == OPEN_TITLE))
    assert (resolved.severity.code, resolved.status, open_one.severity.code, open_one.status) == (
        "SEV2", "resolved", "SEV3", "identified")
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 2

    review = db.session.scalar(select(Review).where(Review.incident_id == resolved.id))
    assert review.status == "completed" and review.completed_at > resolved.resolved_at
    lesson = db.session.get(Lesson, db.session.scalar(select(ReviewLesson.lesson_id)))
    assert lesson.title == "Page on a stalled bookings load before the sales desk notices"
    assert lesson in lessons.list_lessons()
    risk = db.session.get(Risk, db.session.scalar(select(FollowUp.risk_id)))
    assert risk.title == "Scheduler agent does not restart after a reboot" and risk.owner.email == "crisis@acme.example"

    assert db.session.scalar(select(func.count()).select_from(IncidentUpdate)
                             .where(IncidentUpdate.incident_id == open_one.id)) == 2
    task = db.session.scalar(select(IncidentTask).where(IncidentTask.incident_id == open_one.id))
    assert task.owner.email == "oncall@acme.example" and task.is_open

    from app.auth.services import find_user_by_email
    from tests.conftest import log_in
    client = app.test_client()
    log_in(client, "oncall@acme.example", "quarterdeck-demo")
    assert "Rerun the EU order import" in client.get("/").get_data(as_text=True)
    assert find_user_by_email("oncall@acme.example") is not None
    page = client.get(f"/incidents/{open_one.id}").get_data(as_text=True)
    assert "Packet loss on the TransGlobe link" in page
    assert "Page on a stalled bookings load" in client.get("/readiness/lessons").get_data(as_text=True)
