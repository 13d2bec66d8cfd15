"""Scheduler job: reopen risks whose acceptance has expired, and tell each owner.

Each risk is claimed with FOR UPDATE SKIP LOCKED on PostgreSQL and committed on its own, so two scheduler
processes never reopen (and email about) the same risk twice; SQLite runs one scheduler.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.risks import cadence
from app.risks.models import Risk, RiskStatus
from app.risks.notify import email_person
from app.risks.scoring import current_settings
from app.risks.services import apply_comment
from app.risks.workflow import expired_acceptances, reopen_expired

log = logging.getLogger("quarterdeck.risks")

PURPOSE = "risk_acceptance_expired"


def expire_acceptances() -> dict[str, int]:
    """Reopen every risk accepted until before today (the team's today); returns how many, and how owners were told."""
    today = cadence.team_today(current_settings())
    summary = {"reopened": 0, "told": 0, "not_told": 0}
    for risk_id in [risk.id for risk in expired_acceptances(today)]:
        risk = db.session.scalar(select(Risk).where(
            Risk.id == risk_id, Risk.status == RiskStatus.ACCEPTED, Risk.acceptance_expires_on < today)
            .with_for_update(skip_locked=True))
        if risk is None:
            continue  # another scheduler has it, or someone reopened it meanwhile
        expired_on = reopen_expired(risk)
        summary["reopened"] += 1
        if _tell_owner(risk, expired_on):
            summary["told"] += 1
        else:
            summary["not_told"] += 1
        db.session.commit()
    return summary


def _tell_owner(risk: Risk, expired_on) -> bool:
    owner = risk.owner
    if owner is None:
        apply_comment(risk, author=None, body="Nobody was told the acceptance expired: the risk has no owner.")
        log.warning("risk %s reopened after its acceptance expired: no owner to tell", risk.id)
        return False
    url = f"{current_app.config['PUBLIC_BASE_URL']}/risks/{risk.id}"
    message = email_person(owner, purpose=PURPOSE, template="risk_acceptance_expired_email", name=owner.name,
                           risk=risk, reference=f"R-{risk.id}", expired_on=expired_on.isoformat(), url=url)
    if message.status == "failed":
        apply_comment(risk, author=None, body=f"{owner.name} could not be told the acceptance expired: "
                                              f"{message.last_error}")
        log.warning("risk %s reopened; telling %s failed: %s", risk.id, owner.email, message.last_error)
        return False
    return True
