"""Reading the register: filters, sorting, the heat map and the lists the filter menus offer.

Every read here is a fixed number of queries whatever the number of risks: filters and sorts are SQL, counts are
GROUP BY, and a page of risks loads its owners in one extra query.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import selectinload

from app.request_guard import database_int
from app.auth.models import User
from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.risks.models import (LIVE_STATUSES, PENDING_ACTION_STATUSES, Risk, RiskAction, RiskCategory, RiskLevel,
                              RiskStatus)
from app.risks.scoring import SCALE

OVERDUE_CHOICES = {"review": "Review overdue", "action": "Action overdue"}
LEVEL_RANK = case({level.value: level.rank for level in RiskLevel}, value=Risk.level, else_=0)
SORTS: dict[str, tuple[str, list[Any]]] = {
    "level": ("Level (highest first)", [LEVEL_RANK.desc(), (Risk.likelihood * Risk.impact).desc(), Risk.id]),
    "score": ("Residual score", [(Risk.likelihood * Risk.impact).desc(), LEVEL_RANK.desc(), Risk.id]),
    "next_review": ("Next review", [case((Risk.next_review_on.is_(None), 1), else_=0), Risk.next_review_on,
                                    Risk.id]),
    "updated": ("Least recently updated", [Risk.updated_at, Risk.id]),
    "exposure": ("Exposure (largest first)", [case((Risk.exposure.is_(None), 1), else_=0), Risk.exposure.desc(),
                                              Risk.id]),
    "created": ("Newest", [Risk.created_at.desc(), Risk.id.desc()]),
    "title": ("Title", [Risk.title, Risk.id]),
}
DEFAULT_SORT = "level"


@dataclass(frozen=True)
class RegisterFilter:
    """What the register shows; every field is optional. `status` "live" means every status but closed."""

    status: str | None = None
    level: str | None = None
    owner_id: int | None = None
    category: str | None = None
    quarter: str | None = None  # "2027-4": fiscal year and quarter
    overdue: str | None = None
    likelihood: int | None = None
    impact: int | None = None
    q: str | None = None

    def args(self) -> dict[str, Any]:
        """The filters that are set, as query-string arguments."""
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}


def _pick(value: Any, allowed) -> Any:
    return value if value in allowed else None


def _int(value: Any) -> int | None:
    try:
        return database_int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def parse_filter(args) -> RegisterFilter:
    """A RegisterFilter from query-string arguments; values that mean nothing are ignored rather than refused."""
    quarter = args.get("quarter") or None
    if quarter is not None:
        year, _, number = quarter.partition("-")
        quarter = quarter if year.isdigit() and number in {"1", "2", "3", "4"} else None
    q = (args.get("q") or "").strip()[:100] or None
    return RegisterFilter(
        status=_pick(args.get("status"), {"live", *(s.value for s in RiskStatus)}),
        level=_pick(args.get("level"), {level.value for level in RiskLevel}),
        owner_id=_int(args.get("owner_id")), category=_pick(args.get("category"), {c.value for c in RiskCategory}),
        quarter=quarter, overdue=_pick(args.get("overdue"), OVERDUE_CHOICES),
        likelihood=_pick(_int(args.get("likelihood")), SCALE), impact=_pick(_int(args.get("impact")), SCALE), q=q)


def _overdue_action_risks(today: date):
    return select(RiskAction.risk_id).where(RiskAction.status.in_(PENDING_ACTION_STATUSES), RiskAction.due_on < today)


def _filtered(query: Select, f: RegisterFilter, today: date, *, cell: bool = True) -> Select:
    if f.status == "live":
        query = query.where(Risk.status.in_(LIVE_STATUSES))
    elif f.status:
        query = query.where(Risk.status == f.status)
    if f.level:
        query = query.where(Risk.level == f.level)
    if f.owner_id:
        query = query.where(Risk.owner_id == f.owner_id)
    if f.category:
        query = query.where(Risk.category == f.category)
    if f.quarter:
        year, number = f.quarter.split("-")
        query = query.where(Risk.fiscal_year == int(year), Risk.quarter == int(number))
    if f.overdue == "review":
        query = query.where(Risk.next_review_on < today)
    elif f.overdue == "action":
        query = query.where(Risk.id.in_(_overdue_action_risks(today)))
    if cell and f.likelihood:
        query = query.where(Risk.likelihood == f.likelihood)
    if cell and f.impact:
        query = query.where(Risk.impact == f.impact)
    if f.q:
        words = f.q
        query = query.where(or_(Risk.title.icontains(words, autoescape=True),
                                Risk.description.icontains(words, autoescape=True)))
    return query


def sort_order(sort: str) -> list[Any]:
    """The ORDER BY of the sort named `sort` (the default one for a name it does not know); each ends with the id."""
    return SORTS.get(sort, SORTS[DEFAULT_SORT])[1]


def register_rows(f: RegisterFilter, today: date) -> Select:
    """Risks matching `f` with their owners, unordered (the register page orders and pages them by keyset)."""
    return _filtered(select(Risk), f, today).options(selectinload(Risk.owner), selectinload(Risk.accepted_by))


def register_page(f: RegisterFilter, today: date, sort: str, *, after: str | None, before: str | None,
                  per_page: int) -> KeysetPage:
    """One page of the register in the order `sort` names, after or before a cursor (app/keyset.py)."""
    return keyset_page(register_rows(f, today), sort_order(sort), after=after, before=before, per_page=per_page)


def register_query(f: RegisterFilter, today: date, sort: str = DEFAULT_SORT) -> Select:
    """Risks matching `f`, in the order `sort` names, with their owners."""
    return register_rows(f, today).order_by(*sort_order(sort))


def heat_map(f: RegisterFilter, today: date) -> dict[tuple[int, int], int]:
    """(likelihood, impact) -> live risks matching the other filters: the grid a click narrows the list with."""
    query = select(Risk.likelihood, Risk.impact, func.count()).where(Risk.status.in_(LIVE_STATUSES))
    if f.status and f.status != "live" and f.status != RiskStatus.CLOSED.value:
        query = query.where(Risk.status == f.status)
    query = _filtered(query, RegisterFilter(**{**asdict(f), "status": None}), today, cell=False)
    rows = db.session.execute(query.group_by(Risk.likelihood, Risk.impact)).all()
    return {(likelihood, impact): count for likelihood, impact, count in rows}


def owners_with_risks() -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(select(Risk.owner_id).distinct()))
                                   .order_by(User.name)))


def quarters_with_risks() -> list[tuple[int, int]]:
    return list(db.session.execute(select(Risk.fiscal_year, Risk.quarter).distinct()
                                   .order_by(Risk.fiscal_year, Risk.quarter)).tuples())
