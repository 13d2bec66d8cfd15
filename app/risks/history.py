"""A risk's history: the periods of its score, level and status (RiskScore rows), and its audit trail.

record_state() is called by every service that changes a score, a level or a status. The periods answer "how many
live risks of each level were there at the start of each of the last weeks" (the register's trend; each past week's
answer is kept in RiskTrendPoint once computed) and "did the score change since the last review" (an indexed range).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEvent
from app.extensions import db
from app.risks.models import LEVEL_ORDER, Risk, RiskAction, RiskLevel, RiskScore, RiskStatus, RiskTrendPoint
from app.timeutil import start_of_day, to_zone, utcnow

TREND_WEEKS = 12
TIMELINE_LIMIT = 200
_STATE = ("inherent_likelihood", "inherent_impact", "likelihood", "impact", "level", "status")
_SCORES = _STATE[:4]


def actor_label(default: str = "system") -> str:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.email
    return default


def current_period(risk: Risk) -> RiskScore | None:
    return db.session.scalar(select(RiskScore).where(RiskScore.risk_id == risk.id, RiskScore.valid_to.is_(None))
                             .order_by(RiskScore.valid_from.desc()).limit(1))


def record_state(risk: Risk, *, cause: str, actor: str | None = None, at: datetime | None = None) -> RiskScore | None:
    """Close the risk's current period and open one with its state now; nothing when the state did not change."""
    if risk.id is None:
        db.session.flush()
    now = at or utcnow()
    period = current_period(risk)
    if period is not None and all(getattr(period, name) == getattr(risk, name) for name in _STATE):
        return None
    scores_moved = period is None or any(getattr(period, name) != getattr(risk, name) for name in _SCORES)
    if period is not None:
        period.valid_to = max(now, period.valid_from)
    row = RiskScore(risk_id=risk.id, valid_from=now, valid_to=None, level=risk.level, status=risk.status,
                    score_changed=scores_moved, cause=cause, actor_label=(actor or actor_label())[:200],
                    **{name: getattr(risk, name) for name in _SCORES})
    db.session.add(row)
    return row


def score_history(risk: Risk) -> list[RiskScore]:
    """Every period of the risk, oldest first."""
    return list(db.session.scalars(select(RiskScore).where(RiskScore.risk_id == risk.id)
                                   .order_by(RiskScore.valid_from, RiskScore.id)))


@dataclass(frozen=True)
class TrendPoint:
    at: datetime
    counts: dict[RiskLevel, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def trend_instants(now: datetime, zone: str, weeks: int = TREND_WEEKS) -> list[datetime]:
    """The start (Monday 00:00 in `zone`) of this week and of the weeks before, `weeks - 1` in all, then `now`."""
    monday = week_start(to_zone(now, zone).date())
    starts = [start_of_day(monday - timedelta(weeks=back), zone) for back in range(weeks - 2, -1, -1)]
    return starts + [now]


def _covering_counts(instants: list[datetime]) -> list[dict[RiskLevel, int]]:
    """Live risks by level at each instant, from the periods that cover it: one query over the periods that reach
    into the window (the valid_to index skips the older ones)."""

    def covers(at: datetime):
        return and_(RiskScore.valid_from <= at, or_(RiskScore.valid_to.is_(None), RiskScore.valid_to > at))

    rows = db.session.execute(
        select(RiskScore.level, *(func.sum(case((covers(at), 1), else_=0)) for at in instants))
        .where(or_(RiskScore.valid_to.is_(None), RiskScore.valid_to > min(instants)),
               RiskScore.status != RiskStatus.CLOSED)
        .group_by(RiskScore.level)).all()
    counts = [{level: 0 for level in LEVEL_ORDER} for _ in instants]
    for level, *per_instant in rows:
        for index, count in enumerate(per_instant):
            counts[index][RiskLevel(level)] = int(count or 0)
    return counts


def _past_points(instants: list[datetime]) -> dict[datetime, dict[RiskLevel, int]]:
    """The counts at past week starts: kept ones read back, missing ones computed once and kept."""
    points: dict[datetime, dict[RiskLevel, int]] = {}
    for at, level, count in db.session.execute(select(RiskTrendPoint.at, RiskTrendPoint.level, RiskTrendPoint.count)
                                               .where(RiskTrendPoint.at.in_(instants))):
        points.setdefault(at, {})[RiskLevel(level)] = count
    missing = [at for at in instants if at not in points]
    if missing:
        computed = dict(zip(missing, _covering_counts(missing)))
        # Kept in their own commit: a page that reads the trend has nothing else to write.
        db.session.add_all(RiskTrendPoint(at=at, level=level, count=count)
                           for at, counts in computed.items() for level, count in counts.items())
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # another request kept the same week first: the same numbers
        points.update(computed)
    return points


def live_counts() -> dict[RiskLevel, int]:
    counts = {level: 0 for level in LEVEL_ORDER}
    for level, count in db.session.execute(select(Risk.level, func.count()).where(Risk.status != RiskStatus.CLOSED)
                                           .group_by(Risk.level)):
        counts[RiskLevel(level)] = count
    return counts


def open_trend(*, zone: str, weeks: int = TREND_WEEKS, now: datetime | None = None) -> list[TrendPoint]:
    """Live (not closed) risks by level at the start of each of the last `weeks - 1` weeks and now; oldest first."""
    instants = trend_instants(now or utcnow(), zone, weeks)
    past = _past_points(instants[:-1])
    points = [TrendPoint(at=at, counts=past[at]) for at in instants[:-1]]
    return points + [TrendPoint(at=instants[-1], counts=live_counts())]


def forget_trend() -> None:
    """Drop the kept counts (after history was written in the past, as the demo loader does)."""
    db.session.execute(delete(RiskTrendPoint))


def scores_changed_between(since: datetime, until: datetime) -> set[int]:
    """Ids of risks whose likelihood or impact changed in (since, until], creation not counted."""
    return set(db.session.scalars(select(RiskScore.risk_id).where(
        RiskScore.valid_from > since, RiskScore.valid_from <= until, RiskScore.score_changed.is_(True),
        RiskScore.cause != "created").distinct()))


def state_at(risk_id: int, at: datetime) -> RiskScore | None:
    """The period of one risk that covers `at`, if it existed then."""
    return db.session.scalar(select(RiskScore).where(
        RiskScore.risk_id == risk_id, RiskScore.valid_from <= at,
        or_(RiskScore.valid_to.is_(None), RiskScore.valid_to > at)).order_by(RiskScore.valid_from.desc()).limit(1))


def _trail_query(risk: Risk):
    action_ids = select(func.cast(RiskAction.id, db.String)).where(RiskAction.risk_id == risk.id)
    return select(AuditEvent).where(or_(
        and_(AuditEvent.entity_type == "risks", AuditEvent.entity_id == str(risk.id)),
        and_(AuditEvent.entity_type == "risk_actions", AuditEvent.entity_id.in_(action_ids)),
        # A deleted link has no row left to find it by: its trail is found by the label, which names the risk.
        and_(AuditEvent.entity_type == "risk_links", AuditEvent.entity_label.startswith(f"R-{risk.id} link ")),
        # Escalations to the executives, labelled "R-<id> escalation" the same way.
        and_(AuditEvent.entity_type == "risk_escalations",
             AuditEvent.entity_label == f"R-{risk.id} escalation")))


def audit_trail(risk: Risk, *, since: datetime | None = None, limit: int = TIMELINE_LIMIT) -> list[AuditEvent]:
    """Changes to the risk, its actions and its links from the audit trail, newest first."""
    query = _trail_query(risk)
    if since is not None:
        query = query.where(AuditEvent.occurred_at > since)
    return list(db.session.scalars(query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)))


def trail_length(risk: Risk) -> int:
    return db.session.scalar(select(func.count()).select_from(_trail_query(risk).subquery())) or 0


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())
