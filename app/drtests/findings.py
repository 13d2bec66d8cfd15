"""Findings from an exercise: severity, owner, due date, status; handed over to the risk register or tracked
as a mitigation action.

Turning a finding into a risk opens a risk in the register (through the register's own service, in the same
transaction) and keeps its id on the finding; from then on the risk is where it is followed up.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.auth.models import User
from app.drtests.models import DrExercise, Finding, FindingStatus, Severity
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.risks import services as risks

FIELDS = ("title", "description", "severity", "owner_id", "due_date", "step_id")


def get_finding(finding_id: int) -> Finding:
    finding = db.session.get(Finding, finding_id)
    if finding is None:
        raise NotFound("No such finding.")
    return finding


def findings_query(*, status: str | None = None):
    query = select(Finding).order_by(Finding.due_date.is_(None), Finding.due_date, Finding.id)
    return query.where(Finding.status == FindingStatus(status)) if status else query


def _check(exercise: DrExercise, owner_id: int | None, step_id: int | None) -> None:
    if owner_id is not None and db.session.get(User, owner_id) is None:
        raise Invalid("No such user.", field="owner_id")
    if step_id is not None and step_id not in {s.id for s in exercise.steps}:
        raise Invalid("No such step in this exercise.", field="step_id")


def add_finding(exercise: DrExercise, *, title: str, severity: str, description: str = "",
                owner_id: int | None = None, due_date: date | None = None, step_id: int | None = None) -> Finding:
    """Record a finding; allowed after sign-off too, since follow-up continues once the test is frozen."""
    _check(exercise, owner_id, step_id)
    finding = Finding(exercise_id=exercise.id, title=title.strip(), severity=Severity(severity),
                      description=description or "", owner_id=owner_id, due_date=due_date, step_id=step_id)
    db.session.add(finding)
    db.session.commit()
    return finding


def update_finding(finding: Finding, *, status: str | None = None, **values) -> Finding:
    """Change a finding's fields and status; a finding already with the risk register keeps that status."""
    _check(finding.exercise, values.get("owner_id", finding.owner_id), values.get("step_id", finding.step_id))
    for name in FIELDS:
        if name in values:
            setattr(finding, name, Severity(values[name]) if name == "severity" else values[name])
    if status:
        status = FindingStatus(status)
        if finding.risk_ref is not None and status != FindingStatus.TO_RISK:
            raise Conflict("This finding is a risk in the risk register now; follow it up there.", field="status")
        finding.status = status
    db.session.commit()
    return finding


def escalate(finding: Finding, *, to: str) -> Finding:
    """One click: hand the finding to the risk register ("risk") or track it as a mitigation action ("action")."""
    if to not in ("risk", "action"):
        raise Invalid("Choose risk or action.", field="to")
    if finding.status == FindingStatus.CLOSED:
        raise Conflict("A closed finding is not escalated.")
    if finding.risk_ref is not None:
        raise Conflict("This finding is already a risk.")
    finding.status = FindingStatus.TO_RISK if to == "risk" else FindingStatus.ACTION
    if to == "risk":
        finding.risk_ref = str(_open_risk_for(finding).id)
    db.session.commit()
    return finding


# Likelihood and impact a DR finding starts with in the register, by its severity; the owner rescores it.
RISK_SCORES = {Severity.CRITICAL: (4, 5), Severity.HIGH: (3, 4), Severity.MEDIUM: (3, 3), Severity.LOW: (2, 2)}


def _open_risk_for(finding: Finding):
    """The register's new risk carrying this finding (same transaction: both are saved or neither)."""
    exercise = finding.exercise
    owner_id = finding.owner_id or exercise.owner_id
    if owner_id is None:
        raise Invalid("Give the finding an owner first: a risk needs one.", field="owner_id")
    likelihood, impact = RISK_SCORES[finding.severity]
    return risks.new_risk(
        title=f"DR finding: {finding.title}"[:200], category="outage", source="technology", owner_id=owner_id,
        quarter=exercise.quarter_label, inherent_likelihood=likelihood, inherent_impact=impact,
        likelihood=likelihood, impact=impact,
        description=(f"Found in the DR exercise {exercise.name} ({exercise.quarter_label}).\n\n"
                     f"{finding.description}").strip())
