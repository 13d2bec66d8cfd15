"""Findings: recorded, moved through their status, handed to the risk register or tracked as actions."""
from __future__ import annotations

from datetime import date

import pytest

from app.drtests import findings
from app.drtests.models import FindingStatus
from app.errors import Conflict, Invalid
from app.extensions import db
from app.risks.models import Risk


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
    with pytest.raises(Conflict, match="already a risk"):
        findings.escalate(finding, to="action")
    with pytest.raises(Conflict, match="risk register"):
        findings.update_finding(finding, status="closed")


def test_a_finding_without_an_owner_becomes_the_exercise_owners_risk(make_exercise, clock):
    exercise = make_exercise()
    finding = findings.add_finding(exercise, title="No owner", severity="low")

    findings.escalate(finding, to="risk")

    assert db.session.get(Risk, int(finding.risk_ref)).owner_id == exercise.owner_id


def test_turning_a_finding_into_a_mitigation_action(make_exercise, clock):
    finding = findings.add_finding(make_exercise(), title="Failback script slow", severity="low")
    findings.escalate(finding, to="action")
    assert finding.status == FindingStatus.ACTION and finding.risk_ref is None


def test_a_closed_finding_is_not_escalated(make_exercise, clock):
    finding = findings.add_finding(make_exercise(), title="Done", severity="low")
    findings.update_finding(finding, status="closed")
    with pytest.raises(Conflict):
        findings.escalate(finding, to="risk")
