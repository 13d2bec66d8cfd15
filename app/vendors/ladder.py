"""A vendor's escalation ladder: numbered levels 1..n, each with its contacts (phones in E.164)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.oncall.addresses import normalise_email, normalise_phone
from app.vendors.models import EscalationLevel, Vendor, VendorContact, VendorContactKind
from app.database import commit_or_conflict
from app.vendors.services import active_user, clean_text, clean_zone

MAX_LEVELS = 10
CONTACT_FIELDS = ("level", "kind", "name", "role", "phone", "mobile", "email", "hours", "time_zone", "user_id",
                  "notes")
# Parked here while levels are renumbered: above any real number, so the unique (vendor, number) never clashes.
_PARKING = 100_000


# --- reading -------------------------------------------------------------------------------------------------

def get_level(level_id: int) -> EscalationLevel:
    level = db.session.get(EscalationLevel, level_id)
    if level is None:
        raise NotFound("No such escalation level.")
    return level


def get_contact(contact_id: int) -> VendorContact:
    contact = db.session.get(VendorContact, contact_id)
    if contact is None:
        raise NotFound("No such vendor contact.")
    return contact


def contact_fields(contact: VendorContact) -> dict[str, Any]:
    """The contact as the keyword arguments create_contact takes (for edit forms and PATCH)."""
    return {"level": contact.level.number, "kind": contact.kind.value, "name": contact.name, "role": contact.role,
            "phone": contact.phone or "", "mobile": contact.mobile or "", "email": contact.email or "",
            "hours": contact.hours, "time_zone": contact.time_zone, "user_id": contact.user_id, "notes": contact.notes}


# --- levels --------------------------------------------------------------------------------------------------

def _renumber(vendor: Vendor, ordered: list[EscalationLevel]) -> None:
    """Number `ordered` 1..n. Rows that move are first parked with a plain UPDATE, since a flush writes rows in
    an order of its own and two levels would briefly share a number; the audit trail records old and new."""
    moving = [level.id for index, level in enumerate(ordered, 1) if level.id is not None and level.number != index]
    if moving:
        table = EscalationLevel.__table__
        db.session.execute(update(table).where(table.c.id.in_(moving)).values(number=table.c.number + _PARKING))
    for index, level in enumerate(ordered, 1):
        level.number = index


def _level_values(label: Any, when_to_use: Any) -> tuple[str, str]:
    return clean_text(label, "label", 80), clean_text(when_to_use, "when_to_use", 200)


def new_level(vendor: Vendor, *, label: str = "", when_to_use: str = "") -> EscalationLevel:
    """Append level n+1 to the ladder (no commit); refuse past MAX_LEVELS."""
    label, when_to_use = _level_values(label, when_to_use)
    if len(vendor.levels) >= MAX_LEVELS:
        raise Invalid(f"A ladder has at most {MAX_LEVELS} levels.", "label")
    level = EscalationLevel(number=len(vendor.levels) + 1, label=label, when_to_use=when_to_use)
    vendor.levels.append(level)
    return level


def add_level(vendor: Vendor, *, label: str = "", when_to_use: str = "") -> EscalationLevel:
    """Add the next level at the bottom of the ladder."""
    level = new_level(vendor, label=label, when_to_use=when_to_use)
    commit_or_conflict("The ladder changed at the same moment; reload and try again.")
    return level


def update_level(level: EscalationLevel, *, label: str = "", when_to_use: str = "") -> EscalationLevel:
    level.label, level.when_to_use = _level_values(label, when_to_use)
    db.session.commit()
    return level


def move_level(level: EscalationLevel, direction: str) -> EscalationLevel:
    """Swap a level with the one above ("up") or below ("down"); unchanged at either end."""
    if direction not in {"up", "down"}:
        raise Invalid("Move up or down.", "direction")
    ordered = list(level.vendor.levels)
    index = ordered.index(level)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
        _renumber(level.vendor, ordered)
        commit_or_conflict("The ladder changed at the same moment; reload and try again.")
    return level


def delete_level(level: EscalationLevel) -> None:
    """Delete an empty level; the levels below it move up one."""
    if level.contacts:
        raise Conflict(f"Level {level.number} still has {len(level.contacts)} contact(s); move or delete them first.")
    vendor = level.vendor
    remaining = [other for other in vendor.levels if other is not level]
    vendor.levels.remove(level)  # delete-orphan
    db.session.flush()
    _renumber(vendor, remaining)
    commit_or_conflict("The ladder changed at the same moment; reload and try again.")


def level_numbered(vendor: Vendor, number: Any, *, create: bool = False) -> EscalationLevel:
    """The vendor's level `number`; with `create` (CSV import), missing levels up to it are added."""
    try:
        wanted = int(number)
    except (TypeError, ValueError):
        raise Invalid("Give the level as a number, 1 for the first people to call.", "level") from None
    if wanted < 1:
        raise Invalid("Levels start at 1.", "level")
    for level in vendor.levels:
        if level.number == wanted:
            return level
    if create and wanted <= MAX_LEVELS:
        while len(vendor.levels) < wanted:
            new_level(vendor)
        return vendor.levels[wanted - 1]
    count = len(vendor.levels)
    if count == 0:
        raise Invalid(f"{vendor.name} has no escalation levels yet; add level 1 first.", "level")
    raise Invalid(f"{vendor.name} has levels 1 to {count}; add level {wanted} first.", "level")


# --- contacts ------------------------------------------------------------------------------------------------

def clean_phone(raw: Any, field: str, default_region: str | None) -> str | None:
    """The number in E.164, or None when empty; refused with the reason (too short, unknown country code...)."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    letters = any(char.isalpha() for char in text)  # normalise_phone says so more precisely
    if default_region is None and not text.startswith("+") and not letters:
        raise Invalid("Start the number with + and its country code, e.g. +44 20 7946 0958.", field)
    try:
        return normalise_phone(text, default_region)
    except Invalid as error:
        raise Invalid(error.message, field) from None


def _clean_email(raw: Any) -> str | None:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    try:
        return normalise_email(text)
    except Invalid as error:
        raise Invalid(error.message, "email") from None


def apply_contact(contact: VendorContact, vendor: Vendor, *, level: Any, kind: str, name: str, role: str = "",
                  phone: str | None = None, mobile: str | None = None, email: str | None = None, hours: str = "",
                  time_zone: str = "UTC", user_id: int | None = None, notes: str = "",
                  create_levels: bool = False) -> VendorContact:
    """Check every field and set it on `contact` (nothing is set when one is refused); no commit."""
    try:
        kind_value = VendorContactKind((kind or "").strip().lower())
    except ValueError:
        raise Invalid("Choose internal (our people) or external (the vendor's).", "kind") from None
    name = clean_text(name, "name", 120, required=True)
    user = active_user(user_id, "user_id", keep=contact.user_id)
    if user is not None and kind_value is not VendorContactKind.INTERNAL:
        raise Invalid("Only an internal contact can be a Quarterdeck user.", "user_id")
    # Our own people's local numbers read in their region's country; a vendor's must carry +country code.
    region = user.region.holiday_country if user is not None and user.region is not None else None
    cleaned = {"role": clean_text(role, "role", 120), "phone": clean_phone(phone, "phone", region),
               "mobile": clean_phone(mobile, "mobile", region), "email": _clean_email(email),
               "hours": clean_text(hours, "hours", 80), "time_zone": clean_zone(time_zone, "time_zone"),
               "notes": clean_text(notes, "notes", 2000)}
    if not (cleaned["phone"] or cleaned["mobile"] or cleaned["email"]):
        raise Invalid("Give a phone number, a mobile or an email: a contact nobody can reach is no use.", "phone")
    rung = level_numbered(vendor, level, create=create_levels)
    contact.kind, contact.name, contact.user_id = kind_value, name, user.id if user else None
    for field, value in cleaned.items():
        setattr(contact, field, value)
    if contact.level is not rung:
        contact.level = rung  # writes level_id and vendor_id together
    db.session.add(contact)  # a backref alone does not bring a new object into the session
    return contact


def create_contact(vendor: Vendor, **fields) -> VendorContact:
    """Add a contact at one level of the vendor's ladder; refuse a bad phone (with the reason), email or zone."""
    contact = apply_contact(VendorContact(), vendor, **fields)
    commit_or_conflict("The ladder changed at the same moment; reload and try again.")
    return contact


def update_contact(contact: VendorContact, **fields) -> VendorContact:
    """Change a contact (or move it to another level) under create_contact's rules."""
    apply_contact(contact, contact.vendor, **fields)
    commit_or_conflict("The ladder changed at the same moment; reload and try again.")
    return contact


def delete_contact(contact: VendorContact) -> None:
    contact.level.contacts.remove(contact)  # delete-orphan; its confirmations go with it
    db.session.commit()
