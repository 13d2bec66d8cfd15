"""Findings from an exercise: severity, owner, due date, status; handed over to the risk register as a new
risk, or as a mitigation action on a risk already there.

Either way the register's own services write the risk or the action, in the same transaction as the finding's
new status, and the finding keeps the risk's id: from then on the register is where it is followed up.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import case, select

from app.auth.models import User
from app.drtests.models import DrExercise, Finding, FindingStatus, Severity
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.risks import actions as risk_actions
from app.risks import services as risks
from app.risks.models import Risk, RiskStatus

FIELDS = ("title", "description", "severity", "owner_id", "due_date", "step_id")


def get_finding(finding_id: int) -> Finding:
    finding = db.session.get(Finding, finding_id)
    if finding is None:
        raise NotFound("No such finding.")
    return finding


# By due date, the undated last; the id breaks ties, which keyset pages need. The "no date" flag keeps the
# undated together, so a cursor never compares with NULL (app/keyset.py).
FINDING_ORDER = [case((Finding.due_date.is_(None), 1), else_=0), Finding.due_date, Finding.id]


def findings_matching(*, status: str | None = None):
    """Findings of one status, or all; unordered."""
    query = select(Finding)
    return query.where(Finding.status == FindingStatus(status)) if status else query


def findings_query(*, status: str | None = None):
    return findings_matching(status=status).order_by(*FINDING_ORDER)


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
        if finding.risk_ref is not None and status != finding.status:
            raise Conflict("This finding is followed up in the risk register now; follow it up there.",
                           field="status")
        finding.status = status
    db.session.commit()
    return finding


def escalate(finding: Finding, *, to: str, risk_id: int | None = None) -> Finding:
    """One click: hand the finding to the risk register as a new risk ("risk"), or as a mitigation action on
    the open risk `risk_id` ("action")."""
    if to not in ("risk", "action"):
        raise Invalid("Choose risk or action.", field="to")
    if finding.status == FindingStatus.CLOSED:
        raise Conflict("A closed finding is not escalated.")
    if finding.risk_ref is not None:
        what = "a risk" if finding.status == FindingStatus.TO_RISK else "an action on a risk"
        raise Conflict(f"This finding is already {what} in the risk register.")
    if to == "risk":
        risk = _open_risk_for(finding)
        finding.status = FindingStatus.TO_RISK
    else:
        risk = _action_risk(risk_id)
        _add_action_for(finding, risk)
        finding.status = FindingStatus.ACTION
    finding.risk_ref = str(risk.id)
    db.session.commit()
    return finding


def risks_open_for_actions(limit: int = 500) -> list[Risk]:
    """The risks a finding's action can be added to (not closed), by title."""
    return list(db.session.scalars(select(Risk).where(Risk.status != RiskStatus.CLOSED)
                                   .order_by(Risk.title, Risk.id).limit(limit)))


def _action_risk(risk_id: int | None) -> Risk:
    if risk_id is None:
        raise Invalid("Choose the risk this action mitigates.", field="risk_id")
    risk = db.session.get(Risk, risk_id)
    if risk is None:
        raise Invalid("No such risk.", field="risk_id")
    if risk.status == RiskStatus.CLOSED:
        raise Invalid("That risk is closed; choose an open one or make the finding a risk of its own.",
                      field="risk_id")
    return risk


def _add_action_for(finding: Finding, risk: Risk) -> None:
    exercise = finding.exercise
    owner_id = finding.owner_id or exercise.owner_id
    if owner_id is None:
        raise Invalid("Give the finding an owner first: an action needs one.", field="owner_id")
    if finding.due_date is None:
        raise Invalid("Give the finding a due date first: an action needs one.", field="due_date")
    try:
        risk_actions.apply_new_action(
            risk, owner_id=owner_id, due_on=finding.due_date,
            description=f"DR finding from {exercise.name} ({exercise.quarter_label}): {finding.title}")
    except Invalid as error:  # the action's fields are the finding's: name those
        field = {"due_on": "due_date", "description": "title"}.get(error.field or "", error.field)
        raise Invalid(error.message, field=field) from None


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
