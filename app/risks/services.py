"""Risks: create, change, comment and link; the rules every page, the API and the CSV import share.

Functions named apply_* change the session without committing, so a larger service (a review decision, an
import) can combine them and commit once; the others commit.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.calendar.services import fiscal_start_month, person_calendar, quarter_for
from app.errors import Conflict, DomainError, Invalid, NotFound
from app.extensions import db
from app.record_links import named_table, record_name, record_url
from app.risks import cadence, history
from app.risks.models import (LIVE_STATUSES, PENDING_ACTION_STATUSES, WORKED_STATUSES, Risk, RiskAction, RiskCategory,
                              RiskComment, RiskLevel, RiskLink, RiskSettings, RiskSource, RiskStatus)
from app.risks.scoring import SCALE, current_settings, level_for
from app.timeutil import FiscalQuarter, close_day, fiscal_quarter, utcnow

FIXABLE = DomainError
MAX_EXPOSURE = Decimal("999999999999.99")
SCORE_FIELDS = ("inherent_likelihood", "inherent_impact", "likelihood", "impact")
_QUARTER_FIRST = re.compile(r"Q([1-4])\s*FY\s*(\d{2}|\d{4})", re.IGNORECASE)
_YEAR_FIRST = re.compile(r"(?:FY\s*)?(\d{2}|\d{4})\s*[-\s]\s*Q([1-4])", re.IGNORECASE)
# What a link can point at: the table it lives in, and the page that shows it (when that domain is installed).
LINK_KINDS = {"app": ("watch_apps", "watchlist.app", "app_id"),
              "job": ("watch_jobs", "watchlist.job", "job_id"),
              "vendor": ("vendors", "vendors.vendor", "vendor_id")}


def get_risk(risk_id: int) -> Risk:
    risk = db.session.get(Risk, risk_id)
    if risk is None:
        raise NotFound("No such risk.")
    return risk


def touch(risk: Risk) -> None:
    """Someone worked on the risk now (what "no update in 14 days" reads)."""
    risk.updated_at = utcnow()


# --- quarters --------------------------------------------------------------------------------------------------

def parse_quarter(text: str | None, field: str = "quarter") -> FiscalQuarter:
    """"Q4 FY27", "Q4 FY2027", "FY27-Q4" or "2027 Q4" as a fiscal quarter; Invalid naming `field` otherwise."""
    raw = (text or "").strip()
    match = _QUARTER_FIRST.fullmatch(raw)
    if match:
        number, year = int(match.group(1)), match.group(2)
    else:
        match = _YEAR_FIRST.fullmatch(raw)
        if not match:
            raise Invalid("Give the quarter as e.g. Q4 FY27.", field)
        year, number = match.group(1), int(match.group(2))
    fiscal_year = int(year) + (2000 if len(year) == 2 else 0)
    if not 2000 <= fiscal_year <= 2099:
        raise Invalid("Give a fiscal year between FY00 and FY99.", field)
    return fiscal_quarter(fiscal_year, number, fiscal_start_month())


def quarter_choices(settings: RiskSettings, keep: str | None = None) -> list[str]:
    """The quarter before this one, this one and the next four, as labels (plus `keep` when it is another one)."""
    quarter = quarter_for(cadence.team_today(settings)).previous()
    labels = []
    for _ in range(6):
        labels.append(quarter.label)
        quarter = quarter.next()
    if keep and keep not in labels:
        labels.insert(0, keep)
    return labels


def threatened_quarter(risk: Risk) -> FiscalQuarter:
    return fiscal_quarter(risk.fiscal_year, risk.quarter, fiscal_start_month())


# --- fields ------------------------------------------------------------------------------------------------------

def active_person(user_id: int | None, field: str, what: str = "owner") -> User:
    if user_id in (None, ""):
        raise Invalid(f"Choose the {what}.", field)
    person = db.session.get(User, int(user_id))
    if person is None or not person.active:
        raise Invalid(f"No active person with id {user_id}.", field)
    return person


def clean_text(value: str | None, field: str, limit: int, *, required: bool = False, what: str = "this") -> str:
    text = (value or "").strip()
    if required and not text:
        raise Invalid(f"Give {what}.", field)
    if len(text) > limit:
        raise Invalid(f"At most {limit} characters.", field)
    return text


def _choice(enum_cls, value: Any, field: str):
    try:
        return enum_cls(value.value if hasattr(value, "value") else value)
    except ValueError:
        raise Invalid(f"Choose one of: {', '.join(member.value for member in enum_cls)}.", field) from None


def _score(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid("A whole number from 1 to 5.", field) from None
    if number not in SCALE:
        raise Invalid("A whole number from 1 to 5.", field)
    return number


def _exposure(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip()).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise Invalid("Give an amount such as 250000 or 1250000.50.", "exposure") from None
    if amount < 0 or amount > MAX_EXPOSURE:
        raise Invalid("Give an amount from 0 to 999,999,999,999.99.", "exposure")
    return amount


def risk_fields(risk: Risk) -> dict[str, Any]:
    """The risk's editable values, keyed like the form."""
    return {"title": risk.title, "description": risk.description, "category": risk.category.value,
            "source": risk.source.value, "owner_id": risk.owner_id, "quarter": risk.quarter_label,
            "exposure": risk.exposure, **{name: getattr(risk, name) for name in SCORE_FIELDS}}


def apply_scores(risk: Risk, settings: RiskSettings, **scores: Any) -> bool:
    """Set any of the four scores (1..5) and the levels they give; True when a number changed."""
    clean = {name: _score(value, name) for name, value in scores.items() if value is not None}
    moved = any(getattr(risk, name) != value for name, value in clean.items())
    for name, value in clean.items():
        setattr(risk, name, value)
    risk.inherent_level = level_for(settings.grid, risk.inherent_likelihood, risk.inherent_impact)
    risk.level = level_for(settings.grid, risk.likelihood, risk.impact)
    cadence.schedule_review(risk, settings)
    return moved


def apply_risk(risk: Risk, settings: RiskSettings, *, title: str, description: str | None = "", category: Any,
               source: Any, owner_id: int | None, quarter: str, exposure: Any = None,
               inherent_likelihood: Any, inherent_impact: Any, likelihood: Any, impact: Any) -> None:
    """Check every field first, then set them all, so a refusal leaves the risk as it was."""
    values = {
        "title": clean_text(title, "title", 200, required=True, what="a title"),
        "description": clean_text(description, "description", 10_000),
        "category": _choice(RiskCategory, category, "category"),
        "source": _choice(RiskSource, source, "source"),
        "owner_id": active_person(owner_id, "owner_id").id,
        "exposure": _exposure(exposure),
    }
    threatened = parse_quarter(quarter)
    scores = {name: _score(value, name) for name, value in (
        ("inherent_likelihood", inherent_likelihood), ("inherent_impact", inherent_impact),
        ("likelihood", likelihood), ("impact", impact))}
    if risk.status == RiskStatus.ACCEPTED and values["owner_id"] == risk.accepted_by_id:
        raise Invalid("The person who approved the acceptance cannot own the risk: reopen it first.", "owner_id")
    for name, value in values.items():
        setattr(risk, name, value)
    risk.fiscal_year, risk.quarter = threatened.fiscal_year, threatened.quarter
    apply_scores(risk, settings, **scores)


def new_risk(**fields: Any) -> Risk:
    """Add an open risk with its first history period and review date to the caller's transaction."""
    settings = current_settings()
    risk = Risk(status=RiskStatus.OPEN, created_at=utcnow())
    risk.updated_at = risk.created_at
    apply_risk(risk, settings, **fields)
    db.session.add(risk)
    db.session.flush()
    cadence.schedule_review(risk, settings)
    history.record_state(risk, cause="created")
    return risk


def create_risk(**fields: Any) -> Risk:
    """Create an open risk with its first history period and its first review date."""
    risk = new_risk(**fields)
    db.session.commit()
    return risk


def update_risk(risk: Risk, **fields: Any) -> Risk:
    """Change a risk's fields; a new score or level opens a new history period and may move its review date."""
    before = risk_fields(risk)
    apply_risk(risk, current_settings(), **fields)
    if risk_fields(risk) != before:
        touch(risk)
        history.record_state(risk, cause="edit")
    db.session.commit()
    return risk


def mark_risk_reviewed(risk: Risk) -> Risk:
    """The risk was reviewed now: its next review moves a full cadence ahead (closed and accepted risks: none)."""
    cadence.mark_reviewed(risk, current_settings())
    db.session.commit()
    return risk


# --- comments and links ------------------------------------------------------------------------------------------

def apply_comment(risk: Risk, *, author: User | None, body: str, author_name: str | None = None) -> RiskComment:
    text = clean_text(body, "body", 5000, required=True, what="the comment")
    comment = RiskComment(risk_id=risk.id, author_id=author.id if author else None,
                          author_name=(author.name if author else author_name or "Quarterdeck")[:120], body=text,
                          created_at=utcnow())
    db.session.add(comment)
    touch(risk)
    return comment


def add_comment(risk: Risk, *, author: User, body: str) -> RiskComment:
    """Add a dated comment by `author`."""
    comment = apply_comment(risk, author=author, body=body)
    db.session.commit()
    return comment


def comments(risk: Risk, limit: int = 200) -> list[RiskComment]:
    return list(db.session.scalars(select(RiskComment).where(RiskComment.risk_id == risk.id)
                                   .order_by(RiskComment.created_at.desc(), RiskComment.id.desc()).limit(limit)))


def link_target_label(kind: str, target_id: int) -> str:
    """The name of the linked record; Invalid when that kind is not installed or the record does not exist."""
    if kind not in LINK_KINDS:
        raise Invalid("Link an app, a job or a vendor.", "kind")
    if named_table(LINK_KINDS[kind]) is None:
        raise Invalid(f"There are no {kind}s to link to here.", "kind")
    name = record_name(LINK_KINDS[kind], target_id)
    if name is None:
        raise Invalid(f"No {kind} with id {target_id}.", "target_id")
    return str(name)[:200]


def link_url(link: RiskLink) -> str | None:
    return record_url(LINK_KINDS[link.kind], link.target_id)


def add_link(risk: Risk, *, kind: str, target_id: int) -> RiskLink:
    """Link the risk to an app, job or vendor that exists; each once."""
    label = link_target_label(kind, int(target_id))
    if db.session.scalar(select(func.count()).select_from(RiskLink).where(
            RiskLink.risk_id == risk.id, RiskLink.kind == kind, RiskLink.target_id == target_id)):
        raise Conflict(f"This risk is already linked to that {kind}.", "target_id")
    link = RiskLink(risk_id=risk.id, kind=kind, target_id=int(target_id), label=label)
    db.session.add(link)
    touch(risk)
    db.session.commit()
    return link


def remove_link(risk: Risk, link_id: int) -> None:
    """Remove one of the risk's links."""
    link = db.session.get(RiskLink, link_id)
    if link is None or link.risk_id != risk.id:
        raise NotFound("No such link on this risk.")
    db.session.delete(link)
    touch(risk)
    db.session.commit()


def close_day_for(risk: Risk) -> date:
    """BD0 of the threatened quarter in the risk owner's region (its holidays count), else on the close region's
    calendar: the same BD0 the readiness page counts to."""
    return close_day(threatened_quarter(risk), person_calendar(risk.owner))


def due_after_close(risk: Risk, due_on: date) -> bool:
    """A mitigation finishing after BD0 of the threatened quarter (in the risk owner's region) comes too late."""
    return due_on > close_day_for(risk)


def risk_choices(limit: int = 1000) -> list[tuple[int, str]]:
    """(id, "R-12 title") of every live risk (not closed), newest first: for other domains' pickers."""
    rows = db.session.execute(select(Risk.id, Risk.title).where(Risk.status != RiskStatus.CLOSED)
                              .order_by(Risk.id.desc()).limit(limit)).all()
    return [(risk_id, f"R-{risk_id} {title}") for risk_id, title in rows]


def risk_statuses(risk_ids: list[int]) -> dict[int, RiskStatus]:
    """The status of each risk that still exists, in one query (what became of a risk another domain made)."""
    if not risk_ids:
        return {}
    return dict(db.session.execute(select(Risk.id, Risk.status).where(Risk.id.in_(list(risk_ids)))).all())


# What the weekly review reads of the register: app.reviews goes through these, never through the risk columns.

def _ids(query) -> set[int]:
    return set(db.session.scalars(query))


def live_risks_created_between(since: datetime, until: datetime) -> set[int]:
    return _ids(select(Risk.id).where(Risk.status.in_(LIVE_STATUSES), Risk.created_at > since,
                                      Risk.created_at <= until))


def worked_risks_due_for_review(by: date) -> set[int]:
    """Risks being worked whose cadence puts their next review on or before `by`."""
    return _ids(select(Risk.id).where(Risk.status.in_(WORKED_STATUSES), Risk.next_review_on <= by))


def acceptances_expiring(by: date) -> set[int]:
    return _ids(select(Risk.id).where(Risk.status == RiskStatus.ACCEPTED, Risk.acceptance_expires_on <= by))


def worked_risks_untouched_since(moment: datetime) -> set[int]:
    return _ids(select(Risk.id).where(Risk.status.in_(WORKED_STATUSES), Risk.updated_at < moment))


def live_risks_except(excluded_ids) -> list[Risk]:
    """Live risks whose id is not among `excluded_ids` (a set or a subquery of ids), by title."""
    return list(db.session.scalars(select(Risk).where(Risk.status.in_(LIVE_STATUSES), Risk.id.not_in(excluded_ids))
                                   .order_by(Risk.title, Risk.id)))


def live_risk(risk_id: object) -> Risk | None:
    """The risk with this id when it is live (not closed); None otherwise, whatever was passed."""
    risk = db.session.get(Risk, risk_id) if isinstance(risk_id, int) else None
    return risk if risk is not None and risk.status in LIVE_STATUSES else None


def live_among(risk_ids: set[int]) -> set[int]:
    """The ones of these risks that are not closed."""
    return _ids(select(Risk.id).where(Risk.status.in_(LIVE_STATUSES), Risk.id.in_(risk_ids)))


def pending_actions_due_by(day: date):
    """A query of pending actions due on or before `day`, oldest due first."""
    return (select(RiskAction).where(RiskAction.status.in_(PENDING_ACTION_STATUSES), RiskAction.due_on <= day)
            .order_by(RiskAction.due_on, RiskAction.id))


def pending_action_due_dates(by: date) -> list[tuple[int, date]]:
    """(risk id, due date) of every pending action due on or before `by`."""
    return [tuple(row) for row in db.session.execute(
        pending_actions_due_by(by).with_only_columns(RiskAction.risk_id, RiskAction.due_on)).all()]


def overdue_actions_on_live_risks(today: date) -> list[RiskAction]:
    """Pending actions due before `today` on risks that are not closed, with their risk loaded."""
    query = (pending_actions_due_by(today - timedelta(days=1)).join(RiskAction.risk)
             .where(Risk.status.in_(LIVE_STATUSES)).options(selectinload(RiskAction.risk)))
    return list(db.session.scalars(query))


def risks_by_level(risk_ids) -> list[Risk]:
    """These risks with their owner and actions loaded, the highest level (then score) first."""
    risks = db.session.scalars(select(Risk).where(Risk.id.in_(risk_ids)).options(
        selectinload(Risk.owner), selectinload(Risk.actions).selectinload(RiskAction.owner)))
    return sorted(risks, key=lambda risk: (-risk.level.rank, -risk.score, risk.id))


def risk_summary(risk: Risk) -> dict[str, Any]:
    """The risk as the review's agenda freezes it (JSON-ready)."""
    return {
        "reference": f"R-{risk.id}", "title": risk.title, "owner": risk.owner.name if risk.owner else None,
        "status": risk.status.value, "level": risk.level.value, "likelihood": risk.likelihood,
        "impact": risk.impact, "inherent_likelihood": risk.inherent_likelihood,
        "inherent_impact": risk.inherent_impact, "quarter": risk.quarter_label,
        "next_review_on": risk.next_review_on.isoformat() if risk.next_review_on else None,
        "acceptance_expires_on": risk.acceptance_expires_on.isoformat() if risk.acceptance_expires_on else None,
        "updated_at": risk.updated_at.isoformat(),
    }


def is_critical(level: RiskLevel) -> bool:
    return level is RiskLevel.CRITICAL


def loading_risk_and_owner(relationship):
    """A loader option for another domain's relationship to a risk: the risk and its owner in one go."""
    return selectinload(relationship).selectinload(Risk.owner)
