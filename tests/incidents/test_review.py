"""Resolving, the post-incident review's due date in business days, handing lessons and follow-ups over,
and who may waive a review or close an incident."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.alerting.models import OutboundMessage
from app.calendar import services as calendar
from app.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.incidents import review, scheduled, severities
from app.incidents.models import Incident
from app.incidents.review_models import FollowUp
from app.readiness import checklist
from app.readiness.models import ChecklistItem, Lesson
from app.risks.models import Risk
from tests.incidents.conftest import NOW

FRIDAY_EVENING_LA = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # Fri 20 Nov 19:00 in Los Angeles


@pytest.fixture
def amer(app):
    return calendar.create_region(name="AMER", time_zone="America/Los_Angeles", business_start=time(7),
                                  business_end=time(17), holiday_country="US")


def test_resolving_needs_a_summary_and_then_tells_the_subscribers(app, clock, people, declare):
    incident = declare(severity="SEV2")
    with pytest.raises(Invalid) as refused:
        review.resolve(incident.id, resolution="  ", actor=people["rowan"])
    assert refused.value.field == "resolution"

    review.resolve(incident.id, resolution="Rolled back the config", actor=people["rowan"])

    incident = db.session.get(Incident, incident.id)
    assert (incident.status, incident.resolved_at, incident.resolution) == ("resolved", NOW, "Rolled back the config")
    subjects = db.session.scalars(select(OutboundMessage.subject).where(OutboundMessage.purpose == "incident_update"))
    assert set(subjects) == {f"INC-{incident.id} SEV2 Resolved: Billing run failed"}
    with pytest.raises(Conflict, match="already resolved"):
        review.resolve(incident.id, resolution="again", actor=people["rowan"])


def test_the_review_falls_due_in_business_days_of_the_commanders_region_a_holiday_moving_it(
        app, clock, people, declare, amer):
    people["rowan"].region_id = amer.id
    db.session.commit()
    incident = declare()
    clock.move_to(FRIDAY_EVENING_LA)

    review.resolve(incident.id, resolution="Fixed", actor=people["rowan"])

    pending = review.review_of(incident)
    # Friday 20 Nov in Los Angeles + 5 business days: Mon 23, Tue 24, Wed 25, (Thanksgiving), Fri 27, Mon 30.
    assert (pending.due_on, pending.due_region) == (date(2026, 11, 30), "AMER")


def test_without_a_region_the_review_counts_weekdays_and_the_setting_changes_new_reviews(app, clock, people,
                                                                                        declare):
    severities.save_settings(review_business_days=2)
    incident = declare()
    review.resolve(incident.id, resolution="Fixed", actor=people["rowan"])

    assert review.review_of(incident).due_on == date(2026, 11, 20)  # Wed 18 + 2 weekdays


def test_the_commander_is_reminded_on_the_due_day_and_once_overdue(app, clock, people, declare):
    severities.save_settings(review_business_days=1)
    incident = declare()
    review.resolve(incident.id, resolution="Fixed", actor=people["rowan"])

    assert scheduled.remind_reviews() == {"due": 0, "overdue": 0}
    clock.shift(timedelta(days=1))
    assert scheduled.remind_reviews() == {"due": 1, "overdue": 0}
    assert scheduled.remind_reviews() == {"due": 0, "overdue": 0}
    clock.shift(timedelta(days=1))
    assert scheduled.remind_reviews() == {"due": 0, "overdue": 1}
    assert scheduled.remind_reviews() == {"due": 0, "overdue": 0}
    subjects = db.session.scalars(select(OutboundMessage.subject).where(
        OutboundMessage.purpose.like("incident_review%")).order_by(OutboundMessage.id)).all()
    assert subjects == [f"INC-{incident.id}: post-incident review due Thu 19 Nov 2026",
                        f"INC-{incident.id}: post-incident review overdue since Thu 19 Nov 2026"]


def test_completing_the_review_hands_lessons_to_readiness_and_follow_ups_to_the_register_and_a_checklist(
        app, clock, people, declare):
    incident = declare(severity="SEV2")
    review.resolve(incident.id, resolution="Fixed", actor=people["rowan"])
    pending = review.review_of(incident)
    review.add_lesson(pending, title="Watch the billing run", recommendation="Add it to the watch list",
                      owner_id=people["casey"].id)
    review.add_follow_up(pending, kind="risk", title="Single ERP batch node", owner_id=people["casey"].id,
                         category="single_point_of_failure", likelihood=3, impact=4)
    review.add_follow_up(pending, kind="checklist", title="Rehearse the rerun", owner_id=people["rowan"].id,
                         quarter="FY28-Q1", bd_offset=-15)

    with pytest.raises(Invalid) as refused:
        review.complete_review(incident, actor=people["rowan"], what_happened="Config pushed")
    assert refused.value.field == "root_cause"
    db.session.rollback()
    assert db.session.scalars(select(Lesson)).all() == []

    review.complete_review(incident, actor=people["rowan"], what_happened="Config pushed", root_cause="No review")

    lesson = db.session.scalar(select(Lesson))
    assert (lesson.title, lesson.owner_id, lesson.from_quarter, lesson.target_fiscal_year, lesson.target_quarter) == (
        "Watch the billing run", people["casey"].id, 4, 2028, 1)
    risk = db.session.scalar(select(Risk))
    assert (risk.title, risk.owner_id, risk.likelihood, risk.impact, risk.category.value, risk.quarter_label) == (
        "Single ERP batch node", people["casey"].id, 3, 4, "single_point_of_failure", "Q4 FY27")
    assert f"review of INC-{incident.id}" in risk.description
    item = db.session.scalar(select(ChecklistItem))
    assert (item.title, item.fiscal_year, item.quarter, item.bd_offset, item.track) == (
        f"INC-{incident.id}: Rehearse the rerun", 2028, 1, -15, "incidents")
    follow_ups = {f.kind: f for f in db.session.scalars(select(FollowUp))}
    assert (follow_ups["risk"].risk_id, follow_ups["checklist"].checklist_item_id) == (risk.id, item.id)

    # The next quarter's checklist carries the lesson when it is created.
    checklist.instantiate_quarter(quarter=checklist.parse_quarter("FY28-Q1", 2), by="test")
    titles = [i.title for i in checklist.quarter_items(checklist.parse_quarter("FY28-Q1", 2))]
    assert "Lesson: Watch the billing run" in titles and f"INC-{incident.id}: Rehearse the rerun" in titles


@pytest.mark.parametrize("fields, field", [
    ({"kind": "memo"}, "kind"),
    ({"kind": "risk", "likelihood": 6, "impact": 2}, "likelihood"),
    ({"kind": "risk", "likelihood": 2, "impact": None}, "impact"),
    ({"kind": "risk", "likelihood": 2, "impact": 2, "category": "weather"}, "category"),
    ({"kind": "checklist", "quarter": None}, "quarter"),
    ({"kind": "checklist", "quarter": "FY26-Q1"}, "quarter"),
    ({"kind": "checklist", "quarter": "FY28-Q1", "bd_offset": 200}, "bd_offset"),
    ({"kind": "risk", "likelihood": 2, "impact": 2, "owner_id": None}, "owner_id"),
])
def test_a_bad_follow_up_is_refused_naming_the_field(app, clock, people, declare, fields, field):
    incident = declare()
    review.resolve(incident.id, resolution="Fixed", actor=people["rowan"])
    values = {"title": "Do it", "owner_id": people["rowan"].id, **fields}
    with pytest.raises(Invalid) as refused:
        review.add_follow_up(review.review_of(incident), **values)
    assert refused.value.field == field


def test_closing_needs_the_review_completed_or_waived_by_the_crisis_team(app, clock, people, declare):
    incident = declare()
    with pytest.raises(Conflict):
        review.close_incident(incident, actor=people["casey"])  # not resolved yet
    review.resolve(incident.id, resolution="Fixed", actor=people["rowan"])
    incident = db.session.get(Incident, incident.id)
    with pytest.raises(Conflict, match="Complete the review first"):
        review.close_incident(incident, actor=people["casey"])
    with pytest.raises(Forbidden):
        review.waive_review(incident, reason="Noise", actor=people["rowan"])
    with pytest.raises(Invalid) as refused:
        review.waive_review(incident, reason=" ", actor=people["casey"])
    assert refused.value.field == "reason"

    review.waive_review(incident, reason="A duplicate of another incident", actor=people["casey"])

    incident = db.session.get(Incident, incident.id)
    assert (incident.status, incident.closed_at, review.review_of(incident).status) == ("closed", NOW, "waived")


def test_a_completed_review_lets_the_crisis_team_close_and_nobody_else(app, clock, people, declare):
    incident = declare()
    review.resolve(incident.id, resolution="Fixed", actor=people["rowan"])
    review.complete_review(db.session.get(Incident, incident.id), actor=people["rowan"], what_happened="x",
                           root_cause="y")
    with pytest.raises(Forbidden):
        review.close_incident(db.session.get(Incident, incident.id), actor=people["rowan"])
    review.close_incident(db.session.get(Incident, incident.id), actor=people["casey"])
    assert db.session.get(Incident, incident.id).status == "closed"
    with pytest.raises(Conflict):
        review.save_review(review.review_of(incident), what_happened="rewrite")
