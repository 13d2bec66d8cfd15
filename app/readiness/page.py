"""What the executive page shows besides the score: top risks, open alerts, what to chase per owner."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select

from app.alerting.models import Alert, AlertStatus
from app.extensions import db
from app.readiness.checklist import quarter_items
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


@dataclass(frozen=True)
class ChaseItem:
    title: str
    due_on: date
    anchor: str | None = None  # on the checklist page: the item's anchor
    url: str | None = None  # elsewhere: the record's page
    note: str = ""


def _runbook_items(today: date, soon: date) -> list[tuple[str, ChaseItem]]:
    """Runbooks whose review is overdue or due within a week, and those flagged "needs review", by owner."""
    from app.runbooks.catalog import catalog_entries

    found = []
    for entry in catalog_entries():
        owner = entry.runbook.owner.name if entry.runbook.owner else entry.runbook.owner_email or "No owner"
        url = f"/runbooks/{entry.slug}"
        if entry.next_review_on and entry.review_state in ("due", "overdue") and entry.next_review_on <= soon:
            found.append((owner, ChaseItem(f"Review runbook: {entry.runbook.title}", entry.next_review_on, url=url)))
        if "needs_review" in entry.flags:
            found.append((owner, ChaseItem(f"Runbook needs review: {entry.runbook.title}", today, url=url,
                                           note=f"{entry.stats.percent}% of {entry.stats.runs} runs went wrong")))
    return found


def what_to_chase(readiness: Readiness) -> list[tuple[str, list[ChaseItem]]]:
    """Open checklist items and runbook reviews overdue or due within a week, grouped by owner, the most overdue
    owner first."""
    today = readiness.context.today
    soon = today + timedelta(days=7)
    groups: dict[str, list[ChaseItem]] = defaultdict(list)
    for item in quarter_items(readiness.quarter):
        if item.item_status.is_open and item.due_on <= soon:
            groups[item.owner_label or "No owner"].append(ChaseItem(item.title, item.due_on, anchor=f"item-{item.id}"))
    if readiness.context.is_current:
        for owner, item in _runbook_items(today, soon):
            groups[owner].append(item)
    return sorted(groups.items(), key=lambda pair: (min(item.due_on for item in pair[1]), pair[0]))
