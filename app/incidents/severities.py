"""Severities SEV1-SEV4 and the incident settings: admin-edited rows, created with their defaults when missing."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Invalid, NotFound
from app.extensions import db
from app.incidents.models import IncidentSettings, Severity
from app.oncall.models import EscalationPolicy

# code, rank, description, minutes between stakeholder updates (None: no cadence)
DEFAULT_SEVERITIES = (
    ("SEV1", 1, "Critical: the close, bookings or revenue are at risk now, or a core system is down for everyone.",
     30),
    ("SEV2", 2, "Major: a critical job or application is failing; the close is threatened if it goes on.", 60),
    ("SEV3", 3, "Minor: degraded service or a delayed job with a workaround; limited business impact.", 240),
    ("SEV4", 4, "Low: cosmetic, or a near miss worth recording and learning from.", None),
)
CODES = tuple(code for code, _rank, _text, _minutes in DEFAULT_SEVERITIES)
DEFAULT_REVIEW_DAYS = 5
INTERVAL_RANGE = (5, 1440)


def ensure_defaults() -> list[Severity]:
    """Create the severities that are missing with their defaults (in the caller's transaction); all four, by rank.

    Two callers at once (two first declarations) both end with the same four rows: the loser of the unique
    code skips the row the winner wrote.
    """
    existing = {severity.code for severity in db.session.scalars(select(Severity))}
    for code, rank, text, minutes in DEFAULT_SEVERITIES:
        if code in existing:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(Severity(code=code, rank=rank, description=text, update_interval_minutes=minutes))
        except IntegrityError:
            pass
    return list(db.session.scalars(select(Severity).order_by(Severity.rank)))


def list_severities() -> list[Severity]:
    severities = list(db.session.scalars(select(Severity).order_by(Severity.rank)))
    return severities if len(severities) == len(CODES) else ensure_defaults()


def severity_for(code: object, field: str = "severity") -> Severity:
    """The severity named SEV1..SEV4 (any case); Invalid naming `field` otherwise."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if text not in CODES:
        raise Invalid(f"Choose one of {', '.join(CODES)}.", field)
    return next(severity for severity in list_severities() if severity.code == text)


def get_severity(code: str) -> Severity:
    try:
        return severity_for(code)
    except Invalid:
        raise NotFound("No such severity.") from None


def current_settings() -> IncidentSettings:
    """The saved settings, or the defaults when nobody has changed them (not added to the session)."""
    return db.session.get(IncidentSettings, 1) or IncidentSettings(id=1, review_business_days=DEFAULT_REVIEW_DAYS)


def _interval(value: object) -> int | None:
    if value in (None, ""):
        return None
    if not isinstance(value, int) or not INTERVAL_RANGE[0] <= value <= INTERVAL_RANGE[1]:
        raise Invalid(f"Minutes from {INTERVAL_RANGE[0]} to {INTERVAL_RANGE[1]}, or empty for no cadence.",
                      "update_interval_minutes")
    return value


def save_severity(severity: Severity, *, description: str, update_interval_minutes: int | None,
                  escalation_policy_id: int | None = None) -> Severity:
    """Change what a severity means, its update cadence and (SEV1/SEV2 only) the policy its incidents page."""
    text = (description or "").strip()
    if not text or len(text) > 300:
        raise Invalid("Describe the severity in at most 300 characters.", "description")
    minutes = _interval(update_interval_minutes)
    if escalation_policy_id is not None:
        if not severity.pages_policy:
            raise Invalid("Only SEV1 and SEV2 incidents page an escalation policy.", "escalation_policy_id")
        if db.session.get(EscalationPolicy, escalation_policy_id) is None:
            raise Invalid("No such escalation policy.", "escalation_policy_id")
    severity.description, severity.update_interval_minutes = text, minutes
    severity.escalation_policy_id = escalation_policy_id
    db.session.commit()
    return severity


def save_settings(*, review_business_days: int | None) -> IncidentSettings:
    """Change how many business days after resolution a review is due (1-30); reviews already due keep theirs."""
    if not isinstance(review_business_days, int) or not 1 <= review_business_days <= 30:
        raise Invalid("A whole number of business days from 1 to 30.", "review_business_days")
    settings = db.session.get(IncidentSettings, 1)
    if settings is None:
        settings = IncidentSettings(id=1)
        db.session.add(settings)
    settings.review_business_days = review_business_days
    db.session.commit()
    return settings
