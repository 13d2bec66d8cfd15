"""A risk's status: open -> mitigating -> mitigated -> closed, reopen, or accepted (approved, with a reason and an
expiry) until the acceptance expires and the risk reopens by itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import EDITORS
from app.errors import Invalid
from app.extensions import db
from app.risks import cadence, history
from app.risks.models import Risk, RiskStatus
from app.risks.scoring import current_settings
from app.risks.services import apply_comment, clean_text, touch

MAX_ACCEPTANCE_DAYS = 366

OPEN, MITIGATING, MITIGATED = RiskStatus.OPEN, RiskStatus.MITIGATING, RiskStatus.MITIGATED
CLOSED, ACCEPTED = RiskStatus.CLOSED, RiskStatus.ACCEPTED


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[RiskStatus]
    target: RiskStatus


TRANSITIONS = {t.name: t for t in (
    Transition("start", "Start mitigating", frozenset({OPEN, MITIGATED}), MITIGATING),
    Transition("mitigated", "Mark mitigated", frozenset({OPEN, MITIGATING}), MITIGATED),
    Transition("accept", "Accept", frozenset({OPEN, MITIGATING, MITIGATED}), ACCEPTED),
    Transition("close", "Close", frozenset({OPEN, MITIGATING, MITIGATED, ACCEPTED}), CLOSED),
    Transition("reopen", "Reopen", frozenset({MITIGATED, CLOSED, ACCEPTED}), OPEN),
)}


def available_transitions(risk: Risk) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if risk.status in t.sources]


def _check_acceptance(risk: Risk, actor: User, reason: str, expires_on: date | None, today: date) -> None:
    if actor.role not in EDITORS:
        raise Invalid("Only the crisis team or an administrator can approve accepting a risk.", "transition")
    if actor.id == risk.owner_id:
        raise Invalid("You own this risk: another member of the crisis team or an administrator must approve "
                      "accepting it.", "transition")
    if not reason:
        raise Invalid("Say why the risk can be accepted.", "reason")
    if expires_on is None:
        raise Invalid("Give the date the acceptance expires.", "expires_on")
    if expires_on <= today:
        raise Invalid("The acceptance must expire after today.", "expires_on")
    if expires_on > today + timedelta(days=MAX_ACCEPTANCE_DAYS):
        raise Invalid(f"An acceptance lasts at most {MAX_ACCEPTANCE_DAYS} days; accept it again when it expires.",
                      "expires_on")


def apply_transition(risk: Risk, *, transition: str, actor: User | None, reason: str | None = "",
                     expires_on: date | None = None, cause: str = "status") -> None:
    """Move the risk to the transition's status under its rules; nothing is committed."""
    move = TRANSITIONS.get(transition or "")
    if move is None:
        raise Invalid(f"Choose one of: {', '.join(TRANSITIONS)}.", "transition")
    if risk.status not in move.sources:
        raise Invalid(f"A {risk.status.value} risk cannot go to {move.target.value} ({move.label.lower()}).",
                      "transition")
    settings = current_settings()
    text = clean_text(reason, "reason", 2000)
    if move.target == ACCEPTED:
        _check_acceptance(risk, actor, text, expires_on, cadence.team_today(settings))
        risk.accepted_by_id, risk.acceptance_reason, risk.acceptance_expires_on = actor.id, text, expires_on
    elif move.target == CLOSED:
        if not text:
            raise Invalid("Say why the risk is closed.", "reason")
        risk.close_reason = text
        risk.accepted_by_id, risk.acceptance_reason, risk.acceptance_expires_on = None, "", None
    else:
        # The reason of a close or an acceptance stays in the trail; the fields describe the current status only.
        if text:
            apply_comment(risk, author=actor, body=f"{move.label}: {text}")
        risk.close_reason, risk.accepted_by_id, risk.acceptance_reason = "", None, ""
        risk.acceptance_expires_on = None
    risk.status = move.target
    cadence.schedule_review(risk, settings)
    touch(risk)
    history.record_state(risk, cause=cause)


def change_status(risk: Risk, *, transition: str, actor: User, reason: str | None = "",
                  expires_on: date | None = None) -> Risk:
    """Apply one transition and commit."""
    apply_transition(risk, transition=transition, actor=actor, reason=reason, expires_on=expires_on)
    db.session.commit()
    return risk


def expired_acceptances(today: date) -> list[Risk]:
    """Accepted risks whose acceptance ended before `today` (the expiry day itself is still covered)."""
    return list(db.session.scalars(select(Risk).where(Risk.status == ACCEPTED, Risk.acceptance_expires_on < today)
                                   .order_by(Risk.id)))


def reopen_expired(risk: Risk) -> date:
    """Reopen one risk whose acceptance expired, saying so on the risk; returns the expiry date. Not committed."""
    expired_on = risk.acceptance_expires_on
    risk.status = OPEN
    risk.accepted_by_id, risk.acceptance_reason, risk.acceptance_expires_on = None, "", None
    apply_comment(risk, author=None, body=f"The acceptance expired on {expired_on.isoformat()}: the risk is open "
                                          "again and needs a decision.")
    cadence.schedule_review(risk, current_settings())
    touch(risk)
    history.record_state(risk, cause="expiry", actor="scheduler")
    return expired_on
