"""Findings: recorded, moved through their status, handed to the risk register or tracked as actions."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.drtests import findings
from app.drtests.models import FindingStatus
from app.errors import Conflict, Invalid
from app.extensions import db
from app.risks.models import Risk, RiskAction


def test_a_finding_has_severity_owner_due_date_and_starts_open(make_exercise, make_user, clock):
    exercise = make_exercise()
    owner = make_user()
    finding = findings.add_finding(exercise, title="Runbook step 4 out of date", severity="medium",
                                   owner_id=owner.id, due_date=date(2026, 12, 31), step_id=exercise.steps[3].id)
    assert (finding.status, finding.owner_id, finding.due_date) == (FindingStatus.OPEN, owner.id, date(2026, 12, 31))


def test_a_finding_names_a_step_of_its_own_exercise(make_exercise, clock):
    first, second = make_exercise(), make_exercise()
    with pytest.raises(Invalid) as refused:
        findings.add_finding(first, title="x", severity="low", step_id=second.steps[0].id)
    assert refused.value.field == "step_id"


def test_turning_a_finding_into_a_risk_opens_it_in_the_register(make_exercise, make_user, clock):
    owner = make_user()
    exercise = make_exercise()
    finding = findings.add_finding(exercise, title="Replication lag unmonitored", severity="high", owner_id=owner.id)

    findings.escalate(finding, to="risk")

    risk = db.session.get(Risk, int(finding.risk_ref))
    assert finding.status == FindingStatus.TO_RISK
    assert (risk.title, risk.owner_id, risk.category.value, risk.likelihood, risk.impact) == \
        ("DR finding: Replication lag unmonitored", owner.id, "outage", 3, 4)
    assert (risk.fiscal_year, risk.quarter) == (exercise.fiscal_year, exercise.quarter)
    with pytest.raises(Conflict, match="already a risk in"):
        findings.escalate(finding, to="action")
    with pytest.raises(Conflict, match="risk register"):
        findings.update_finding(finding, status="closed")


def test_a_finding_without_an_owner_becomes_the_exercise_owners_risk(make_exercise, clock):
    exercise = make_exercise()
    finding = findings.add_finding(exercise, title="No owner", severity="low")

    findings.escalate(finding, to="risk")

    assert db.session.get(Risk, int(finding.risk_ref)).owner_id == exercise.owner_id


def test_a_finding_tracked_as_an_action_adds_a_mitigation_action_to_the_chosen_risk(
        make_exercise, make_user, make_risk, clock):
    owner = make_user()
    risk = make_risk(title="ERP standby out of date")
    finding = findings.add_finding(make_exercise(), title="Failback script slow", severity="low",
                                   owner_id=owner.id, due_date=date(2026, 12, 10))

    findings.escalate(finding, to="action", risk_id=risk.id)

    db.session.expire_all()
    assert (finding.status, finding.risk_ref) == (FindingStatus.ACTION, str(risk.id))
    [action] = db.session.scalars(select(RiskAction).where(RiskAction.risk_id == risk.id)).all()
    assert (action.owner_id, action.due_on, action.status.value) == (owner.id, date(2026, 12, 10), "todo")
    assert "Failback script slow" in action.description
    with pytest.raises(Conflict, match="already an action"):
        findings.escalate(finding, to="risk")
    with pytest.raises(Conflict, match="risk register"):
        findings.update_finding(finding, status="open")


@pytest.mark.parametrize(("risk_id", "due", "field"), [
    (None, date(2026, 12, 10), "risk_id"),       # which risk the action mitigates is not said
    (999999, date(2026, 12, 10), "risk_id"),     # no such risk
    ("closed", date(2026, 12, 10), "risk_id"),   # a closed risk takes no new action
    ("open", None, "due_date"),                  # an action needs a due date
    ("open", date(2026, 11, 1), "due_date"),     # ... that has not passed
])
def test_an_action_that_cannot_be_made_changes_nothing_and_names_the_field(
        make_exercise, make_user, make_risk, clock, risk_id, due, field):
    risk = make_risk()
    if risk_id == "closed":
        from app.risks import workflow
        workflow.change_status(risk, transition="close", reason="Gone", actor=risk.owner)
    if risk_id in ("open", "closed"):
        risk_id = risk.id
    finding = findings.add_finding(make_exercise(), title="x", severity="low", owner_id=make_user().id, due_date=due)

    with pytest.raises(Invalid) as refused:
        findings.escalate(finding, to="action", risk_id=risk_id)

    db.session.rollback()
    assert refused.value.field == field
    assert db.session.get(type(finding), finding.id).status == FindingStatus.OPEN
    assert db.session.scalar(select(func.count()).select_from(RiskAction)) == 0


def test_a_closed_finding_is_not_escalated(make_exercise, clock):
    finding = findings.add_finding(make_exercise(), title="Done", severity="low")
    findings.update_finding(finding, status="closed")
    with pytest.raises(Conflict):
        findings.escalate(finding, to="risk")
