"""Each track's score and reasons from constructed data, and 'not tracked yet' when its domain is empty."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from app.drtests.models import Finding, Result, Severity
from app.extensions import db
from app.oncall.models import (ContactConfirmation, ContactKind, ContactMethod, HandoffKind, Rotation, RotationMember,
                               Schedule, ScheduleLayer)
from app.readiness.score import compute_readiness
from app.risks import actions
from app.risks.models import RiskLevel
from app.timeutil import utcnow
from app.watchlist.models import JobRun
from tests.readiness.conftest import JAN_25


def track(name: str):
    return compute_readiness().track(name)


@pytest.mark.parametrize("name", ["risks", "jobs", "vendors", "drtest", "people", "checklist", "lessons"])
def test_an_empty_domain_is_not_tracked_rather_than_a_silent_100(app, name):
    result = track(name)
    assert result.score is None
    assert result.colour == "grey"
    assert result.note.startswith("Not tracked yet")


def test_a_critical_risk_without_an_active_mitigation_costs_points_and_links_to_the_risk(app, make_risk):
    risk = make_risk(likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
    assert risk.level is RiskLevel.CRITICAL
    result = track("risks")
    reason = result.reasons[0]
    assert (result.score, reason.points, reason.url, reason.severe) == (85, 15, f"/risks/{risk.id}", True)
    assert risk.title in reason.text


def test_an_active_mitigation_due_before_close_clears_the_risk(app, make_risk, owner):
    risk = make_risk(likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
    actions.add_action(risk, description="Add a second server", owner_id=owner.id,
                       due_on=datetime(2026, 12, 1).date())
    assert track("risks").score == 100


def test_a_mitigation_due_after_the_close_and_an_overdue_review_cost_points(app, make_risk, owner, clock):
    risk = make_risk(likelihood=4, impact=4)
    actions.add_action(risk, description="Move the batch window", owner_id=owner.id,
                       due_on=datetime(2027, 2, 15).date())
    assert risk.level in (RiskLevel.HIGH, RiskLevel.CRITICAL)
    before = track("risks")
    assert any("after close" in reason.text for reason in before.reasons)
    clock.move_to(risk.next_review_on + timedelta(days=30))
    later = track("risks")
    assert any(reason.text.startswith("Review overdue") for reason in later.reasons)


def test_many_records_are_listed_five_at_a_time_and_capped(app, make_risk):
    for _ in range(8):
        make_risk(likelihood=5, impact=5, inherent_likelihood=5, inherent_impact=5)
    result = track("risks")
    critical = [reason for reason in result.reasons if reason.severe]
    assert len(critical) == 6  # five named, one "3 more"
    assert critical[-1].text.startswith("3 more") and critical[-1].url == "/risks"
    assert sum(reason.points for reason in critical) == 45  # the cap, not 8 x 15


def test_a_job_down_now_a_recent_failure_and_a_missing_runbook_cost_points(app, make_app, make_job):
    documented = make_app(runbook_url="/runbooks/erp.md")
    down = make_job(app_id=documented.id, name="Tax calculation")
    failed = make_job(app_id=documented.id, name="GL posting")
    undocumented = make_job(name="Bookings load")  # its app has no runbook link
    down.state, down.down_reason = "down", "failed"
    db.session.add(JobRun(job_id=failed.id, outcome="failed", started_at=utcnow() - timedelta(days=2),
                          ended_at=utcnow() - timedelta(days=2)))
    db.session.add(JobRun(job_id=undocumented.id, outcome="failed", started_at=utcnow() - timedelta(days=9),
                          ended_at=utcnow() - timedelta(days=9)))  # too old to count
    db.session.commit()
    result = track("jobs")
    texts = {reason.text: reason for reason in result.reasons}
    assert texts["Down (failed): Tax calculation"].url == f"/watchlist/jobs/{down.id}"
    assert texts["Down (failed): Tax calculation"].points == 10
    assert texts["Unhealthy in the last 7 days: GL posting (1 failed)"].points == 4
    assert texts["No runbook link: Bookings load"].points == 2
    assert result.score == 100 - 10 - 4 - 2
    assert not any("Bookings load" in text and "Unhealthy" in text for text in texts)


def test_critical_vendors_not_validated_unconfirmed_contacts_and_contracts_ending_before_close(
        app, make_vendor, make_contact):
    vendor = make_vendor(levels=1, name="Orbis ERP", contract_expires=datetime(2027, 1, 15).date())
    make_contact(vendor)
    result = track("vendors")
    texts = [reason.text for reason in result.reasons]
    assert "Critical vendor not validated this quarter: Orbis ERP" in texts
    assert any(text.startswith("Contact never") for text in texts)
    assert any("Orbis ERP: contract expires before quarter close" == text for text in texts)
    assert result.score == 100 - 8 - 2 - 5
    assert all(reason.url == f"/vendors/{vendor.id}" for reason in result.reasons)


def test_no_passed_dr_test_costs_40_and_a_passed_one_with_rto_missed_and_open_findings_cost_less(
        app, make_exercise):
    exercise = make_exercise()
    result = track("drtest")
    assert result.score == 60
    assert result.reasons[0].url == f"/drtests/exercises/{exercise.id}"
    exercise.signed_off_at, exercise.result = utcnow(), Result.PASSED
    exercise.recovery_seconds = exercise.rto_minutes * 60 + 600
    db.session.add(Finding(exercise_id=exercise.id, title="Runbook step 4 unclear", severity=Severity.MEDIUM))
    db.session.commit()
    result = track("drtest")
    assert result.score == 100 - 15 - 4
    assert any(reason.text.startswith("RTO missed") for reason in result.reasons)
    assert any(reason.text == "Open medium finding: Runbook step 4 unclear" for reason in result.reasons)


def _on_call_schedule(people, days: int = 127):
    """A weekly rotation of `people` on a schedule covering all day on the weekdays in the `days` bit mask."""
    rotation = Rotation(name="Primary", time_zone="UTC", start_local=datetime(2026, 1, 5, 9),
                        handoff_kind=HandoffKind.WEEKLY, shift_length=1)
    db.session.add(rotation)
    db.session.flush()
    for position, person in enumerate(people):
        db.session.add(RotationMember(rotation_id=rotation.id, user_id=person.id, position=position))
    schedule = Schedule(name="Close support", time_zone="UTC")
    db.session.add(schedule)
    db.session.flush()
    db.session.add(ScheduleLayer(schedule_id=schedule.id, rotation_id=rotation.id, position=1, time_zone="UTC",
                                 days=days, start_time=time(0), end_time=time(0)))
    db.session.commit()
    return schedule


def test_on_call_people_without_a_verified_phone_or_confirmation_cost_points(app, make_user):
    ready, unready = make_user("responder", name="Ready Rowan"), make_user("responder", name="Unready Uma")
    make_user("responder", name="Not on call")  # not on any schedule: not counted
    db.session.add(ContactMethod(user_id=ready.id, kind=ContactKind.SMS, address="+14155550100",
                                 verified_at=utcnow()))
    db.session.add(ContactConfirmation(user_id=ready.id, fiscal_year=2027, quarter=4))
    db.session.commit()
    _on_call_schedule([ready, unready])
    result = track("people")
    texts = [reason.text for reason in result.reasons]
    assert texts == ["No verified phone: Unready Uma", "Contacts not confirmed this quarter: Unready Uma"]
    assert result.score == 100 - 6 - 3
    assert result.reasons[0].url == f"/oncall/people/{unready.id}"


def test_schedule_gaps_in_the_close_window_cost_points(app, make_user, clock):
    person = make_user("responder", name="Weekday Wes")
    db.session.add(ContactMethod(user_id=person.id, kind=ContactKind.SMS, address="+14155550101",
                                 verified_at=utcnow()))
    db.session.add(ContactConfirmation(user_id=person.id, fiscal_year=2027, quarter=4))
    db.session.commit()
    schedule = _on_call_schedule([person], days=0b0011111)  # Monday to Friday only: the weekend is a gap
    clock.move_to(JAN_25)  # the close window runs BD-3 (26 Jan) to BD+3 (3 Feb), over a weekend
    result = track("people")
    assert [reason.url for reason in result.reasons] == [f"/schedules/{schedule.id}"]
    assert result.reasons[0].severe and result.reasons[0].points == 10
    assert "gap(s) in the close window" in result.reasons[0].text
