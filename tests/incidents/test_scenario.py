"""An incident as the on-call person and the executives live it, on both databases, through the stand-in Twilio
server and the SMTP sink: an alert fires, the on-call declares from it by SMS, the update cadence is enforced,
executives get the update, the review falls due in business days and its lesson and follow-up land where they
belong; the figures show the right times."""
from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from app.alerting.models import Alert
from app.calendar import services as calendar
from app.extensions import db
from app.incidents import metrics, review, scheduled, updates
from app.incidents.models import Incident
from app.readiness import checklist
from app.readiness.models import Lesson
from app.risks.models import Risk
from app.timeutil import fiscal_quarter
from tests.alerting.pager import T0, give_methods, policy_for
from tests.incidents.conftest import reach

ALICE = "+14155550101"


def test_from_a_page_to_a_completed_review(phones, smtp_sink, make_user, api_as):
    amer = calendar.create_region(name="AMER", time_zone="America/Los_Angeles", business_start=time(7),
                                  business_end=time(17), holiday_country="US")
    alice = make_user("responder", name="Alice", region_id=amer.id, time_zone="America/Los_Angeles")
    give_methods(alice, ("sms", ALICE, 0))
    executives = [make_user("executive", name=name, email=f"{name.lower()}@example.com") for name in ("Emery", "Ellis")]
    for person in executives:
        reach(person, "email", person.email, rule=False)

    # An alert fires and the on-call is texted; three minutes later she declares an incident from it.
    phones.trigger("ERP billing run failed", escalation_policy_id=policy_for(([alice], 10)).id)
    phones.tick()
    phones.expect_sms(ALICE, "QD alert 1: ERP billing run failed")
    phones.wait(minutes=3)
    answer = phones.reply(ALICE, "1i")

    incident = db.session.scalar(select(Incident))
    assert answer.startswith(f"QD INC-{incident.id} SEV2 declared from alert 1, you are commander: ERP billing run")
    assert (incident.commander.name, incident.severity.code, incident.status) == ("Alice", "SEV2", "investigating")
    assert db.session.scalar(select(Alert)).status == "acknowledged"  # she is on it: escalation stops
    assert incident.acknowledged_at - incident.detected_at == timedelta(minutes=3)

    # SEV2 wants an update every 60 minutes: none comes, so she is reminded once (the next tick sends it).
    phones.wait(minutes=59)
    scheduled.run_incident_jobs()
    phones.tick()
    phones.expect_nothing()
    phones.wait(minutes=2)
    scheduled.run_incident_jobs()
    phones.tick()
    phones.expect_sms(ALICE, f"QD INC-{incident.id}: update overdue by 1 min (SEV2: every 60 min).")
    phones.wait(minutes=5)
    scheduled.run_incident_jobs()
    phones.tick()
    phones.expect_nothing()  # exactly one reminder for this interval

    # Her update reaches every executive once, by email.
    updates.post_update(incident.id, status="identified", message="A bad config push on the ERP batch node.",
                        author=alice)
    phones.tick()
    mail = smtp_sink.wait_for(2)
    assert sorted(address for received in mail for address in received.rcpt_tos) == ["ellis@example.com",
                                                                                      "emery@example.com"]
    assert all(received.subject == f"INC-{incident.id} SEV2 Identified: ERP billing run failed" for received in mail)
    assert "A bad config push" in mail[0].body

    # Resolved 90 minutes after detection: Monday 5 Oct in Los Angeles. Five business days later, skipping
    # Columbus Day (Monday 12 Oct), the review is due on Tuesday 13 Oct.
    phones.traveller.move_to(T0 + timedelta(minutes=90))
    review.resolve(incident.id, resolution="Config rolled back; billing rerun.", actor=alice)
    phones.tick()
    smtp_sink.wait_for(4)  # the resolution goes to both executives too
    pending = review.review_of(incident)
    assert pending.due_on == date(2026, 10, 13) and amer.calendar.holiday_name(date(2026, 10, 12))

    review.add_lesson(pending, title="Config pushes need a dry run", recommendation="Dry-run every ERP config push.")
    review.add_follow_up(pending, kind="risk", title="Unreviewed ERP config pushes", owner_id=alice.id,
                         category="defect", likelihood=3, impact=4)
    review.complete_review(db.session.get(Incident, incident.id), actor=alice, what_happened="Bad push",
                           root_cause="No dry run")

    next_quarter = fiscal_quarter(2027, 4, 2)  # the incident was in Q3 FY27 (August-October 2026)
    checklist.instantiate_quarter(quarter=next_quarter, by="test")
    assert "Lesson: Config pushes need a dry run" in [item.title for item in checklist.quarter_items(next_quarter)]
    assert db.session.scalar(select(Lesson.target_quarter)) == 4
    risk = db.session.scalar(select(Risk))
    assert (risk.title, risk.owner_id, risk.likelihood * risk.impact) == ("Unreviewed ERP config pushes", alice.id, 12)

    figures = metrics.figures(fiscal_quarter(2027, 3, 2))
    assert (figures.count, figures.by_severity["SEV2"]) == (1, 1)
    assert (figures.acknowledge_mean, figures.acknowledge_p90) == (180, 180)
    assert (figures.resolve_mean, figures.resolve_p90) == (5400, 5400)
    body = api_as("executive").get("/api/v1/incidents/metrics?quarter=FY27-Q3").get_json()
    assert body["time_to_acknowledge"] == {"mean_seconds": 180, "p90_seconds": 180}
    assert body["time_to_resolve"] == {"mean_seconds": 5400, "p90_seconds": 5400}
    assert (body["open_follow_ups"], body["overdue_reviews"]) == (1, 0)
