"""What the executive page shows besides the score: top risks, open alerts, what to chase per owner."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, select

from app.alerting.models import Alert, AlertStatus
from app.extensions import db
from app.readiness.checklist import quarter_items
from app.readiness.models import ChecklistItem
from app.readiness.score import Readiness

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


def what_to_chase(readiness: Readiness) -> list[tuple[str, list[ChecklistItem]]]:
    """Open checklist items overdue or due within a week, grouped by owner, the most overdue owner first."""
    today = readiness.context.today
    soon = today + timedelta(days=7)
    groups: dict[str, list[ChecklistItem]] = defaultdict(list)
    for item in quarter_items(readiness.quarter):
        if item.item_status.is_open and item.due_on <= soon:
            groups[item.owner_label or "No owner"].append(item)
    return sorted(groups.items(), key=lambda pair: (min(item.due_on for item in pair[1]), pair[0]))
