"""Mitigation actions: who does what by when, their status, and the flags the register and the review read."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import and_, case, func, or_, select

from app.auth.models import User
from app.calendar.services import close_region, list_regions
from app.errors import Invalid, NotFound
from app.extensions import db
from app.risks import cadence
from app.risks.models import PENDING_ACTION_STATUSES, ActionStatus, Risk, RiskAction
from app.risks.scoring import current_settings
from app.risks.services import (active_person, clean_text, due_after_close, pending_actions_due_by,  # noqa: F401
                                touch)  # pending_actions_due_by: still offered here to the readiness track
from app.timeutil import FiscalQuarter, close_day, utcnow


def get_action(risk: Risk, action_id: int) -> RiskAction:
    action = db.session.get(RiskAction, action_id)
    if action is None or action.risk_id != risk.id:
        raise NotFound("No such action on this risk.")
    return action


def _due(due_on: date | None, today: date, previous: date | None = None) -> date:
    if due_on is None:
        raise Invalid("Give the due date.", "due_on")
    # A date already on the action may have passed; a new one may not.
    if due_on < today and due_on != previous:
        raise Invalid("The due date has passed; choose today or later.", "due_on")
    return due_on


def apply_new_action(risk: Risk, *, description: str, owner_id: int | None, due_on: date | None) -> RiskAction:
    """Add a to-do action to the risk (not committed)."""
    today = cadence.team_today(current_settings())
    action = RiskAction(risk_id=risk.id, status=ActionStatus.TO_DO, created_at=utcnow(),
                        description=clean_text(description, "description", 2000, required=True,
                                               what="what will be done"),
                        owner_id=active_person(owner_id, "owner_id").id, due_on=_due(due_on, today))
    db.session.add(action)
    risk.actions.append(action)
    touch(risk)
    return action


def add_action(risk: Risk, *, description: str, owner_id: int | None, due_on: date | None) -> RiskAction:
    """Add a mitigation action; one due after the threatened quarter's close is flagged, not refused."""
    action = apply_new_action(risk, description=description, owner_id=owner_id, due_on=due_on)
    db.session.commit()
    return action


def update_action(action: RiskAction, *, description: str, owner_id: int | None, due_on: date | None) -> RiskAction:
    """Change what, who and when of an action."""
    today = cadence.team_today(current_settings())
    values = {"description": clean_text(description, "description", 2000, required=True, what="what will be done"),
              "owner_id": active_person(owner_id, "owner_id").id, "due_on": _due(due_on, today, action.due_on)}
    for name, value in values.items():
        setattr(action, name, value)
    touch(action.risk)
    db.session.commit()
    return action


def apply_action_status(action: RiskAction, *, status: str, reason: str | None = "") -> None:
    """Move an action to todo, doing, done or dropped (a drop needs its reason); not committed."""
    try:
        target = ActionStatus(status)
    except ValueError:
        raise Invalid("Choose todo, doing, done or dropped.", "status") from None
    text = clean_text(reason, "reason", 2000)
    if target == ActionStatus.DROPPED and not text:
        raise Invalid("Say why the action is dropped.", "reason")
    action.status = target
    action.drop_reason = text if target == ActionStatus.DROPPED else ""
    action.completed_at = utcnow() if target == ActionStatus.DONE else None
    touch(action.risk)


def set_action_status(action: RiskAction, *, status: str, reason: str | None = "") -> RiskAction:
    """Change an action's status and commit."""
    apply_action_status(action, status=status, reason=reason)
    db.session.commit()
    return action


def is_overdue(action: RiskAction, today: date) -> bool:
    return action.is_pending and action.due_on < today


def is_after_close(action: RiskAction) -> bool:
    return action.is_pending and due_after_close(action.risk, action.due_on)


def action_counts(risk_ids: Iterable[int], today: date) -> dict[int, tuple[int, int]]:
    """risk id -> (pending actions, overdue actions), in one query for a page of risks."""
    ids = list(risk_ids)
    if not ids:
        return {}
    pending = RiskAction.status.in_(PENDING_ACTION_STATUSES)
    rows = db.session.execute(
        select(RiskAction.risk_id, func.count(), func.sum(case((RiskAction.due_on < today, 1), else_=0)))
        .where(RiskAction.risk_id.in_(ids), pending).group_by(RiskAction.risk_id)).all()
    return {risk_id: (count, int(overdue or 0)) for risk_id, count, overdue in rows}


def pending_after_close(quarter: FiscalQuarter):
    """A query of pending actions due after BD0 of `quarter` counted in their risk owner's region (the close
    region's calendar for a risk whose owner has no region): the rule due_after_close() applies to one action."""
    owner_region = select(User.region_id).where(User.id == Risk.owner_id).scalar_subquery()
    late = [and_(owner_region == region.id, RiskAction.due_on > close_day(quarter, region.calendar))
            for region in list_regions()]
    late.append(and_(owner_region.is_(None), RiskAction.due_on > close_day(quarter, close_region().calendar)))
    return (select(RiskAction).join(Risk, Risk.id == RiskAction.risk_id)
            .where(RiskAction.status.in_(PENDING_ACTION_STATUSES), or_(*late)))
