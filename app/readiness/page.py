"""What the executive page shows besides the score: top risks and open alerts (what to chase is in chase.py)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from app.alerting.models import Alert, AlertStatus
from app.extensions import db

TOP = 5


def top_risks(limit: int = TOP) -> list:
    """The live risks with the highest level, then exposure, newest first among equals; empty without a register."""
    try:
        from app.risks.models import LIVE_STATUSES, Risk, RiskLevel
    except ImportError:  # pragma: no cover
        return []
    rank = case({RiskLevel.CRITICAL.value: 4, RiskLevel.HIGH.value: 3, RiskLevel.MEDIUM.value: 2}, value=Risk.level,
                else_=1)
    return list(db.session.scalars(select(Risk).where(Risk.status.in_(list(LIVE_STATUSES)))
                                   .order_by(rank.desc(), (Risk.likelihood * Risk.impact).desc(), Risk.id.desc())
                                   .limit(limit)))


def top_risk_rows(limit: int = TOP) -> list[dict]:
    """The top risks as the page lists them (and a frozen quarter keeps them): id, title, level, status."""
    return [{"id": risk.id, "title": risk.title, "level": risk.level.value, "status": risk.status.value}
            for risk in top_risks(limit)]


@dataclass(frozen=True)
class OpenAlerts:
    count: int
    latest: list[Alert]
    unanswered: int = 0  # nobody acknowledged them by the end of their policy


def open_alerts(limit: int = TOP) -> OpenAlerts:
    """Alerts not yet resolved (triggered or acknowledged): unanswered ones first, then newest first."""
    where = Alert.status != AlertStatus.RESOLVED.value
    count, unanswered = db.session.execute(select(
        func.count(Alert.id),
        func.count(Alert.id).filter(Alert.status == AlertStatus.TRIGGERED.value, Alert.unanswered_at.is_not(None)))
        .where(where)).one()
    latest = list(db.session.scalars(select(Alert).where(where).order_by(
        Alert.unanswered_at.is_(None), Alert.created_at.desc(), Alert.id.desc()).limit(limit))) if count else []
    return OpenAlerts(count or 0, latest, unanswered or 0)

