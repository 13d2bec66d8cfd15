"""Escalating a risk to the executives, and their acknowledgement.

An escalation (from the weekly review's "escalate" decision) tells every active executive once, through the
outbox: by email, and by SMS too when the risk is critical. It stays on the executive page under "escalated to
you", with the meeting's words, until an executive acknowledges it; the escalation, every notice and the
acknowledgement are on the risk's history.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.alerting.notices import queue_notice
from app.auth.models import User
from app.auth.roles import Role
from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.oncall.models import ContactKind, ContactMethod
from app.risks.escalation_models import RiskEscalation, RiskEscalationNotice
from app.risks.models import Risk, RiskLevel
from app.risks.notify import email_person
from app.risks.services import apply_comment, clean_text
from app.timeutil import utcnow

PURPOSE = "risk_escalation"


def executives() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.role == Role.EXECUTIVE)
                                   .order_by(User.name, User.id)))


def _sms_method(person: User) -> ContactMethod | None:
    return db.session.scalar(select(ContactMethod).where(
        ContactMethod.user_id == person.id, ContactMethod.kind == ContactKind.SMS,
        ContactMethod.verified_at.is_not(None), ContactMethod.disabled_at.is_(None)).order_by(ContactMethod.id)
        .limit(1))


def _notify(escalation: RiskEscalation, person: User) -> None:
    risk = escalation.risk
    context = {"name": person.name, "reference": f"R-{risk.id}", "title": risk.title, "level": risk.level.value,
               "text": escalation.text, "source": escalation.source, "by": escalation.escalated_by_name,
               "url": f"{current_app.config['PUBLIC_BASE_URL']}/readiness#escalated"}
    email = email_person(person, purpose=PURPOSE, template="risk_escalation_email", **context)
    escalation.notices.append(RiskEscalationNotice(user_id=person.id, name=person.name, kind="email",
                                                   message_id=email.id))
    if escalation.level is RiskLevel.CRITICAL:
        method = _sms_method(person)
        message = queue_notice(user_id=person.id, method=method, purpose=PURPOSE, template="risk_escalation_sms",
                               **context) if method is not None else None
        escalation.notices.append(RiskEscalationNotice(user_id=person.id, name=person.name, kind="sms",
                                                       message_id=message.id if message else None))


def apply_escalation(risk: Risk, *, actor: User | None, text: str, source: str = "") -> RiskEscalation:
    """Escalate `risk` now: every active executive is told once (email; SMS too for a critical risk), in the
    caller's transaction (nothing is sent before it commits). Not committed."""
    now = utcnow()
    escalation = RiskEscalation(risk=risk, source=source[:120], text=text, level=risk.level, escalated_at=now,
                                escalated_by_id=actor.id if actor else None,
                                escalated_by_name=(actor.name if actor else "Quarterdeck")[:120])
    db.session.add(escalation)
    risk.escalated_at = now
    db.session.flush()
    people = executives()
    for person in people:
        _notify(escalation, person)
    told = ", ".join(person.name for person in people) or "nobody: there is no active executive"
    apply_comment(risk, author=actor, body=f"Escalated to the executives ({told}): {text}"[:5000])
    return escalation


def open_escalations() -> list[RiskEscalation]:
    """Escalations no executive has acknowledged yet, oldest first, with their risks."""
    return list(db.session.scalars(select(RiskEscalation).where(RiskEscalation.acknowledged_at.is_(None))
                                   .options(selectinload(RiskEscalation.risk))
                                   .order_by(RiskEscalation.escalated_at, RiskEscalation.id)))


def escalations_of(risk: Risk) -> list[RiskEscalation]:
    """The risk's escalations, newest first, with who was told how."""
    return list(db.session.scalars(select(RiskEscalation).where(RiskEscalation.risk_id == risk.id)
                                   .options(selectinload(RiskEscalation.notices))
                                   .order_by(RiskEscalation.escalated_at.desc(), RiskEscalation.id.desc())))


def get_escalation(escalation_id: int) -> RiskEscalation:
    escalation = db.session.get(RiskEscalation, escalation_id)
    if escalation is None:
        raise NotFound("No such escalation.")
    return escalation


def acknowledge(escalation: RiskEscalation, *, actor: User, note: str | None = "") -> RiskEscalation:
    """An executive has seen the escalation: it leaves "escalated to you"; the acknowledgement goes on the risk's
    history (audit trail and comments). Only executives acknowledge; a second acknowledgement is a conflict."""
    if actor.role != Role.EXECUTIVE:
        raise Forbidden("Only an executive acknowledges an escalation.")
    if escalation.acknowledged_at is not None:
        raise Conflict(f"{escalation.acknowledged_by_name} acknowledged it already.", "note")
    text = clean_text(note, "note", 2000)
    # Claimed with a conditional UPDATE: of two executives at once, the second finds it acknowledged.
    claimed = db.session.execute(update(RiskEscalation).where(
        RiskEscalation.id == escalation.id, RiskEscalation.acknowledged_at.is_(None)).values(
        acknowledged_at=utcnow(), acknowledged_by_id=actor.id, acknowledged_by_name=actor.name[:120],
        acknowledgement=text).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise Conflict("Another executive acknowledged it a moment ago.", "note")
    db.session.refresh(escalation)
    apply_comment(escalation.risk, author=actor,
                  body=f"Escalation acknowledged by {actor.name}" + (f": {text}" if text else "."))
    db.session.commit()
    return escalation
