"""The quarterly validation campaign: every critical and important vendor's list and plan reviewed and each
contact confirmed by a named person in the current fiscal quarter; what is not confirmed this quarter is stale."""
from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.calendar.services import person_today, quarter_for
from app.errors import Invalid
from app.extensions import db
from app.timeutil import FiscalQuarter
from app.vendors.models import (EscalationLevel, Vendor, VendorCheck, VendorCheckKind, VendorContact,
                                VendorContactConfirmation, VendorReminder, VendorTier)
from app.keyset import KeysetPage, keyset_page
from app.vendors.services import VENDOR_ORDER, with_ladders


class ContactState(enum.StrEnum):
    CONFIRMED = "confirmed"  # confirmed in this fiscal quarter
    STALE = "stale"  # confirmed in an earlier quarter only
    NEVER = "never"  # never confirmed

    @property
    def pill(self) -> str:
        return {"confirmed": "green", "stale": "amber", "never": "red"}[self.value]


class ContractFlag(enum.StrEnum):
    EXPIRED = "expired"
    EXPIRES_BEFORE_CLOSE = "expires_before_close"

    @property
    def label(self) -> str:
        return "contract expired" if self is ContractFlag.EXPIRED else "contract expires before quarter close"


@dataclass(frozen=True)
class ContactStatus:
    contact: VendorContact
    state: ContactState
    last: VendorContactConfirmation | None  # the latest confirmation up to this quarter


@dataclass(frozen=True)
class VendorProgress:
    vendor: Vendor
    quarter: FiscalQuarter
    contacts: list[ContactStatus]
    checks: dict[VendorCheckKind, VendorCheck | None]
    contract_flag: ContractFlag | None
    reminders: list[VendorReminder] = field(default_factory=list)

    def count(self, state: ContactState) -> int:
        return sum(status.state is state for status in self.contacts)

    @property
    def confirmed(self) -> int:
        return self.count(ContactState.CONFIRMED)

    @property
    def stale(self) -> int:
        return self.count(ContactState.STALE)

    @property
    def never(self) -> int:
        return self.count(ContactState.NEVER)

    @property
    def pending(self) -> list[ContactStatus]:
        return [status for status in self.contacts if status.state is not ContactState.CONFIRMED]

    @property
    def validated(self) -> bool:
        """Both checks done and every contact (at least one) confirmed this quarter."""
        return (all(self.checks.values()) and bool(self.contacts)
                and all(status.state is ContactState.CONFIRMED for status in self.contacts))


@dataclass(frozen=True)
class CampaignTotals:
    vendors: int
    validated: int
    contacts: int
    confirmed: int
    stale: int
    never: int
    contract_flags: int

    @property
    def percent(self) -> int:
        """Share of contacts confirmed, rounded down (100 only when all are)."""
        return 100 * self.confirmed // self.contacts if self.contacts else 100


# --- which quarter, which vendors ----------------------------------------------------------------------------

def quarter_of(person: User) -> FiscalQuarter:
    """The quarter the person is in now, by the date where they work (their region's zone, else their own)."""
    return quarter_for(person_today(person))


def _key(quarter: FiscalQuarter) -> tuple[int, int]:
    return quarter.fiscal_year, quarter.quarter


def contract_flag(vendor: Vendor, quarter: FiscalQuarter, today: date) -> ContractFlag | None:
    """Flag a support contract that has expired, or that ends on or before the quarter's last day."""
    expires = vendor.contract_expires
    if expires is None:
        return None
    if expires < today:
        return ContractFlag.EXPIRED
    if expires <= quarter.last_day:
        return ContractFlag.EXPIRES_BEFORE_CLOSE
    return None


def _campaign_vendors():
    # The page names each contact's level: loaded with the ladder, not one query per vendor (its join is
    # (vendor_id, id), which the session cannot answer from the levels it already holds).
    return with_ladders(select(Vendor).where(Vendor.tier.in_([t for t in VendorTier if t.in_campaign]))).options(
        selectinload(Vendor.levels).selectinload(EscalationLevel.contacts).selectinload(VendorContact.level))


def campaign_vendors_query():
    """Critical and important vendors with their ladders loaded, critical first, then by name."""
    return _campaign_vendors().order_by(*VENDOR_ORDER)


def campaign_vendors_page(*, after: str | None = None, before: str | None = None, per_page: int = 50) -> KeysetPage:
    """One page of the campaign's vendors in the same order, after or before a cursor (app/keyset.py)."""
    return keyset_page(_campaign_vendors(), VENDOR_ORDER, after=after, before=before, per_page=per_page)


# --- progress ------------------------------------------------------------------------------------------------

def contact_statuses(contacts: Sequence[VendorContact], quarter: FiscalQuarter) -> list[ContactStatus]:
    """Each contact's state in `quarter`: confirmed in it, stale (only before it) or never confirmed."""
    latest: dict[int, VendorContactConfirmation] = {}
    ids = [contact.id for contact in contacts]
    if ids:
        rows = db.session.scalars(select(VendorContactConfirmation)
                                  .where(VendorContactConfirmation.contact_id.in_(ids))
                                  .order_by(VendorContactConfirmation.fiscal_year.desc(),
                                            VendorContactConfirmation.quarter.desc()))
        for row in rows:
            # A confirmation from a later quarter than the one asked about does not count for it.
            if (row.fiscal_year, row.quarter) <= _key(quarter):
                latest.setdefault(row.contact_id, row)
    statuses = []
    for contact in contacts:
        last = latest.get(contact.id)
        if last is None:
            state = ContactState.NEVER
        elif (last.fiscal_year, last.quarter) == _key(quarter):
            state = ContactState.CONFIRMED
        else:
            state = ContactState.STALE
        statuses.append(ContactStatus(contact, state, last))
    return statuses


def _checks(vendor_ids: Iterable[int], quarter: FiscalQuarter) -> dict[tuple[int, VendorCheckKind], VendorCheck]:
    ids = list(vendor_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(VendorCheck).where(
        VendorCheck.vendor_id.in_(ids), VendorCheck.fiscal_year == quarter.fiscal_year,
        VendorCheck.quarter == quarter.quarter))
    return {(row.vendor_id, row.kind): row for row in rows}


def _reminders(vendor_ids: Iterable[int], quarter: FiscalQuarter) -> dict[int, list[VendorReminder]]:
    ids = list(vendor_ids)
    out: dict[int, list[VendorReminder]] = {vendor_id: [] for vendor_id in ids}
    if ids:
        for row in db.session.scalars(select(VendorReminder).where(
                VendorReminder.vendor_id.in_(ids), VendorReminder.fiscal_year == quarter.fiscal_year,
                VendorReminder.quarter == quarter.quarter).order_by(VendorReminder.bd_offset)):
            out[row.vendor_id].append(row)
    return out


def progress_of(vendors: Sequence[Vendor], quarter: FiscalQuarter, today: date) -> list[VendorProgress]:
    """Where each vendor stands in `quarter`: its contacts' states, its checks, its contract and reminders."""
    ids = [vendor.id for vendor in vendors]
    checks, reminders = _checks(ids, quarter), _reminders(ids, quarter)
    statuses = {status.contact.id: status
                for status in contact_statuses([c for vendor in vendors for c in vendor.contacts], quarter)}
    return [VendorProgress(vendor=vendor, quarter=quarter,
                           contacts=[statuses[contact.id] for contact in vendor.contacts],
                           checks={kind: checks.get((vendor.id, kind)) for kind in VendorCheckKind},
                           contract_flag=contract_flag(vendor, quarter, today), reminders=reminders[vendor.id])
            for vendor in vendors]


def vendor_progress(vendor: Vendor, quarter: FiscalQuarter, today: date) -> VendorProgress:
    return progress_of([vendor], quarter, today)[0]


def campaign_totals(quarter: FiscalQuarter, today: date) -> CampaignTotals:
    """Progress of the whole campaign: vendors validated, and contacts confirmed, stale and never confirmed."""
    rows = progress_of(list(db.session.scalars(campaign_vendors_query())), quarter, today)
    states = [status.state for row in rows for status in row.contacts]
    return CampaignTotals(vendors=len(rows), validated=sum(row.validated for row in rows), contacts=len(states),
                          confirmed=states.count(ContactState.CONFIRMED), stale=states.count(ContactState.STALE),
                          never=states.count(ContactState.NEVER),
                          contract_flags=sum(row.contract_flag is not None for row in rows))


def unconfirmed_contacts(vendor: Vendor, quarter: FiscalQuarter) -> list[VendorContact]:
    return [status.contact for status in contact_statuses(vendor.contacts, quarter)
            if status.state is not ContactState.CONFIRMED]


# --- recording -----------------------------------------------------------------------------------------------

def confirmation_in(contact: VendorContact, quarter: FiscalQuarter) -> VendorContactConfirmation | None:
    return db.session.scalar(select(VendorContactConfirmation).where(
        VendorContactConfirmation.contact_id == contact.id,
        VendorContactConfirmation.fiscal_year == quarter.fiscal_year,
        VendorContactConfirmation.quarter == quarter.quarter))


def confirm_contact(actor: User, contact: VendorContact) -> VendorContactConfirmation:
    """Record that `actor` confirmed the contact in their current quarter; a second click keeps the first."""
    quarter = quarter_of(actor)
    existing = confirmation_in(contact, quarter)
    if existing is not None:
        return existing
    db.session.add(VendorContactConfirmation(contact_id=contact.id, fiscal_year=quarter.fiscal_year,
                                             quarter=quarter.quarter, confirmed_by_id=actor.id,
                                             confirmed_by_name=actor.name))
    try:
        db.session.commit()
    except IntegrityError:  # confirmed twice at once: the other request's row is the answer
        db.session.rollback()
    return confirmation_in(contact, quarter)


def record_check(actor: User, vendor: Vendor, kind: str) -> VendorCheck:
    """Record a vendor-level check (list or plan reviewed) for the actor's current quarter; the first one stands."""
    try:
        check_kind = VendorCheckKind(kind)
    except ValueError:
        raise Invalid("Choose list (contact list reviewed) or plan (plan reviewed with the vendor).", "check") \
            from None
    quarter = quarter_of(actor)

    def existing() -> VendorCheck | None:
        return db.session.scalar(select(VendorCheck).where(
            VendorCheck.vendor_id == vendor.id, VendorCheck.kind == check_kind,
            VendorCheck.fiscal_year == quarter.fiscal_year, VendorCheck.quarter == quarter.quarter))

    found = existing()
    if found is not None:
        return found
    db.session.add(VendorCheck(vendor_id=vendor.id, fiscal_year=quarter.fiscal_year, quarter=quarter.quarter,
                               kind=check_kind, done_by_id=actor.id, done_by_name=actor.name))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    return existing()
