"""Risks track: unmitigated high and critical risks, overdue reviews, mitigations that land after the close."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select

from app.extensions import db
from app.readiness.tracks.base import (LISTED_PER_FINDING, ChaseItem, Context, Finding, Gate, TrackResult, not_tracked,
                                       scored)

TRACK = "risks"


def _models():
    """The risk register's models, or None while that domain is not installed."""
    try:
        from app.risks import models
    except ImportError:  # pragma: no cover - the register ships with the app today
        return None
    return models


def _actions():
    from app.risks import actions
    return actions


def _count_and_first(statement, order):
    count = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = db.session.scalars(statement.order_by(*order).limit(LISTED_PER_FINDING)).all() if count else []
    return count or 0, rows


def assess(ctx: Context) -> TrackResult:
    """Score the live risk register; 'not tracked' when the register is missing or empty."""
    models = _models()
    if models is None:
        return not_tracked(TRACK, "Not tracked yet: the risk register is not installed.")
    Risk, RiskAction, RiskLevel, RiskStatus = models.Risk, models.RiskAction, models.RiskLevel, models.RiskStatus
    pending = list(models.PENDING_ACTION_STATUSES)
    if db.session.scalar(select(Risk.id).limit(1)) is None:
        return not_tracked(TRACK, "Not tracked yet: no risks are recorded.")

    # NOT IN over one scan of the pending actions (hashed), not a correlated NOT EXISTS: with 10,000 risks the
    # planner's per-risk index probes cost hundreds of milliseconds on PostgreSQL. risk_id is never null.
    mitigated = select(RiskAction.risk_id).where(RiskAction.status.in_(pending))
    unmitigated = select(Risk).where(Risk.status.in_([RiskStatus.OPEN, RiskStatus.MITIGATING]),
                                     Risk.id.not_in(mitigated))
    findings, gates = [], []
    for level, each, cap in ((RiskLevel.CRITICAL, 15, 45), (RiskLevel.HIGH, 8, 32)):
        count, rows = _count_and_first(unmitigated.where(Risk.level == level), (Risk.id,))
        findings.append(Finding(f"{level.value} risks without an active mitigation", count, each, cap,
                                [(f"{level.label} risk without an active mitigation: {risk.title}",
                                  url_for("risks.risk", risk_id=risk.id)) for risk in rows],
                                url_for("risks.register_page"), severe=level is RiskLevel.CRITICAL))
        if level is RiskLevel.CRITICAL and count and ctx.today >= ctx.gate_day:
            gates.append(Gate("red", f"{count} critical risk(s) unmitigated at BD-5 or later",
                              url_for("risks.risk", risk_id=rows[0].id)))

    worked = list(models.WORKED_STATUSES)
    count, rows = _count_and_first(select(Risk).where(Risk.status.in_(worked), Risk.next_review_on < ctx.today),
                                   (Risk.next_review_on, Risk.id))
    findings.append(Finding("risk reviews overdue", count, 3, 20,
                            [(f"Review overdue since {risk.next_review_on:%d %b}: {risk.title}",
                              url_for("risks.risk", risk_id=risk.id)) for risk in rows],
                            url_for("risks.register_page")))

    live = list(models.LIVE_STATUSES)
    serious = select(Risk.id).where(Risk.status.in_(live), Risk.level.in_([RiskLevel.HIGH, RiskLevel.CRITICAL]))
    # After BD0 counted in each risk owner's region, as the register flags "after close".
    late_actions = _actions().pending_after_close(ctx.quarter).where(RiskAction.risk_id.in_(serious))
    count, rows = _count_and_first(late_actions, (RiskAction.due_on, RiskAction.id))
    findings.append(Finding("mitigations due after the close", count, 4, 20,
                            [(f"Mitigation due {action.due_on:%d %b}, after close: {action.description[:80]}",
                              url_for("risks.risk", risk_id=action.risk_id)) for action in rows],
                            url_for("risks.register_page")))
    return scored(TRACK, findings, gates=gates)


CHASE_LIMIT = 100


def chase(ctx: Context) -> list[ChaseItem]:
    """Mitigation actions past their due date (the register's rule: the crisis team's date), oldest first."""
    models = _models()
    if models is None:
        return []
    from app.risks import cadence
    from app.risks.scoring import current_settings

    today = cadence.team_today(current_settings())
    overdue = db.session.scalars(_actions().pending_actions_due_by(today - timedelta(days=1)).limit(CHASE_LIMIT))
    return [ChaseItem(f"Mitigation overdue since {action.due_on:%d %b}: {action.description[:80]} (R-{action.risk_id})",
                      action.owner.name if action.owner else "No owner", url_for("risks.risk", risk_id=action.risk_id),
                      due_on=action.due_on, urgent=True) for action in overdue]
