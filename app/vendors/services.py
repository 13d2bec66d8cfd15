"""Vendors: find, create, change and delete them under one set of rules (pages, API and CSV import alike)."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.links import clean_link
from app.database import commit_or_conflict
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.timeutil import is_valid_zone
from app.vendors.models import MAX_SLA_MINUTES, SLA_PRIORITIES, EscalationLevel, Vendor, VendorTier

# Refusals the person can fix by changing their input; views show these next to the form.
FIXABLE = (Invalid, Conflict)
FIRST_YEAR, LAST_YEAR = 2000, 2100
VENDOR_FIELDS = ("name", "tier", "supports", "contract_id", "contract_level", "contract_expires", "portal_url",
                 "account_number", "support_hours", "support_zone", "sla_p1_minutes", "sla_p2_minutes",
                 "sla_p3_minutes", "owner_id", "notes")
TEXT_LIMITS = {"name": 120, "supports": 2000, "contract_id": 80, "contract_level": 60, "portal_url": 500,
               "account_number": 80, "support_hours": 80, "notes": 5000}


# --- checks shared with the ladder and the CSV import ---------------------------------------------------------

def clean_text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    """The value stripped; refused when longer than `limit` or, if required, empty."""
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise Invalid("This is required.", field)
    if len(text) > limit:
        raise Invalid(f"At most {limit} characters.", field)
    return text


def clean_zone(value: Any, field: str) -> str:
    zone = (value or "").strip() or "UTC"
    if not is_valid_zone(zone):
        raise Invalid("Unknown time zone; use an IANA name such as Europe/London.", field)
    return zone


def active_user(user_id: int | None, field: str, keep: int | None = None) -> User | None:
    """The active user with this id (None for none); `keep` is the current value, accepted even if deactivated."""
    if user_id in (None, ""):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not (user.active or user.id == keep):
        raise Invalid(f"No active person with id {user_id}.", field)
    return user


# --- reading -------------------------------------------------------------------------------------------------

def get_vendor(vendor_id: int) -> Vendor:
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound("No such vendor.")
    return vendor


def find_vendor_by_name(name: str) -> Vendor | None:
    """Names are unique whatever their case: "acme erp" finds "Acme ERP"."""
    return db.session.scalar(select(Vendor).where(func.lower(Vendor.name) == name.strip().lower()))


def vendors_matching(*, q: str | None = None, tier: str | None = None) -> Select:
    """Vendors narrowed by words in their name or what they support, and by tier; unordered."""
    query = select(Vendor)
    if q and q.strip():
        words = q.strip()
        query = query.where(or_(Vendor.name.icontains(words, autoescape=True),
                                Vendor.supports.icontains(words, autoescape=True)))
    if tier in {t.value for t in VendorTier}:
        query = query.where(Vendor.tier == VendorTier(tier))
    return query


def tier_order():
    """An ORDER BY term: critical, then important, then other."""
    return case(*((Vendor.tier == tier, rank) for rank, tier in enumerate(VendorTier)), else_=len(VendorTier))


# Critical first, then by name; the id breaks ties, which keyset pages need.
VENDOR_ORDER = [tier_order(), Vendor.name, Vendor.id]


def vendors_query(*, q: str | None = None, tier: str | None = None) -> Select:
    """Vendors by tier (critical first) then name, narrowed by words in their name or what they support."""
    return vendors_matching(q=q, tier=tier).order_by(*VENDOR_ORDER)


def vendors_page(*, q: str | None = None, tier: str | None = None, after: str | None = None,
                 before: str | None = None, per_page: int = 50) -> KeysetPage:
    """One page of the vendor list with their ladders, after or before a cursor (app/keyset.py)."""
    return keyset_page(with_ladders(vendors_matching(q=q, tier=tier)), VENDOR_ORDER, after=after, before=before,
                       per_page=per_page)


def with_ladders(query: Select) -> Select:
    """The same query, loading each vendor's owner, levels and contacts up front (one query each, not per row)."""
    return query.options(selectinload(Vendor.owner), selectinload(Vendor.support_links),
                         selectinload(Vendor.levels).selectinload(EscalationLevel.contacts))


def list_vendors(**criteria) -> list[Vendor]:
    return list(db.session.scalars(vendors_query(**criteria)))


def vendor_fields(vendor: Vendor) -> dict[str, Any]:
    """The vendor as the keyword arguments create_vendor takes (for edit forms and PATCH)."""
    return {name: (getattr(vendor, name).value if name == "tier" else getattr(vendor, name)) for name in VENDOR_FIELDS}


# --- writing -------------------------------------------------------------------------------------------------

def _clean_url(value: Any) -> str:
    url = clean_text(value, "portal_url", TEXT_LIMITS["portal_url"])
    # Shown as a link: only web addresses or paths of this site, never javascript:, data: or //other-host.
    return clean_link(url, "portal_url", TEXT_LIMITS["portal_url"])


def _clean_sla(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise Invalid("Give a whole number of minutes.", field) from None
    if not 1 <= minutes <= MAX_SLA_MINUTES:
        raise Invalid(f"Use 1 to {MAX_SLA_MINUTES} minutes, or leave it empty.", field)
    return minutes


def _clean_date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, date):
        raise Invalid("Give a date as YYYY-MM-DD.", field)
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise Invalid(f"Use a date between {FIRST_YEAR} and {LAST_YEAR}.", field)
    return value


def apply_vendor(vendor: Vendor, *, name: str, tier: str, supports: str = "", contract_id: str = "",
                 contract_level: str = "", contract_expires: date | None = None, portal_url: str = "",
                 account_number: str = "", support_hours: str = "", support_zone: str = "UTC",
                 sla_p1_minutes: int | None = None, sla_p2_minutes: int | None = None,
                 sla_p3_minutes: int | None = None, owner_id: int | None = None, notes: str = "") -> Vendor:
    """Check every field and set it on `vendor` (nothing is set when one is refused); no commit."""
    name = clean_text(name, "name", TEXT_LIMITS["name"], required=True)
    clash = find_vendor_by_name(name)
    if clash is not None and clash is not vendor:
        raise Conflict(f"A vendor named {clash.name} already exists.", "name")
    try:
        tier_value = VendorTier((tier or "").strip().lower())
    except ValueError:
        raise Invalid("Choose critical, important or other.", "tier") from None
    cleaned = {
        "supports": clean_text(supports, "supports", TEXT_LIMITS["supports"]),
        "contract_id": clean_text(contract_id, "contract_id", TEXT_LIMITS["contract_id"]),
        "contract_level": clean_text(contract_level, "contract_level", TEXT_LIMITS["contract_level"]),
        "contract_expires": _clean_date(contract_expires, "contract_expires"),
        "portal_url": _clean_url(portal_url),
        "account_number": clean_text(account_number, "account_number", TEXT_LIMITS["account_number"]),
        "support_hours": clean_text(support_hours, "support_hours", TEXT_LIMITS["support_hours"]),
        "support_zone": clean_zone(support_zone, "support_zone"),
        "notes": clean_text(notes, "notes", TEXT_LIMITS["notes"]),
    }
    for priority, value in zip(SLA_PRIORITIES, (sla_p1_minutes, sla_p2_minutes, sla_p3_minutes)):
        cleaned[f"sla_{priority}_minutes"] = _clean_sla(value, f"sla_{priority}_minutes")
    owner = active_user(owner_id, "owner_id", keep=vendor.owner_id)
    vendor.name, vendor.tier = name, tier_value
    for field, value in cleaned.items():
        setattr(vendor, field, value)
    vendor.owner_id = owner.id if owner else None
    return vendor


def create_vendor(**fields) -> Vendor:
    """Create a vendor; refuse a taken name (whatever its case), an unknown tier, zone or owner, a bad URL."""
    vendor = apply_vendor(Vendor(), **fields)
    db.session.add(vendor)
    commit_or_conflict(f"A vendor named {vendor.name} already exists.", "name")
    return vendor


def update_vendor(vendor: Vendor, **fields) -> Vendor:
    """Change a vendor under create_vendor's rules."""
    apply_vendor(vendor, **fields)
    commit_or_conflict(f"A vendor named {vendor.name} already exists.", "name")
    return vendor


def delete_vendor(vendor: Vendor) -> None:
    """Delete a vendor with its ladder, contacts, confirmations and reminders."""
    db.session.delete(vendor)
    db.session.commit()


def vendor_choices(limit: int = 1000) -> list[tuple[int, str]]:
    """(id, name) of every vendor, by name: for other domains' pickers."""
    return [(row.id, row.name) for row in db.session.execute(
        select(Vendor.id, Vendor.name).order_by(Vendor.name).limit(limit))]
