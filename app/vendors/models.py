"""Vendors, their escalation ladders and contacts, and the quarterly validation of those contacts."""
from __future__ import annotations

import enum
from datetime import date, datetime

import phonenumbers
from sqlalchemy import (CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, SmallInteger, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from app.alerting.models import OutboundMessage
from app.audit.models import Audited
from app.auth.models import User
from app.database import UTCDateTime, value_enum
from app.extensions import db
from app.timeutil import utcnow


class VendorTier(enum.StrEnum):
    CRITICAL = "critical"
    IMPORTANT = "important"
    OTHER = "other"

    @property
    def in_campaign(self) -> bool:
        """Critical and important vendors are validated every quarter; the others are kept but not chased."""
        return self in (VendorTier.CRITICAL, VendorTier.IMPORTANT)


class VendorContactKind(enum.StrEnum):
    INTERNAL = "internal"  # someone in the company (may be a Quarterdeck user)
    EXTERNAL = "external"  # someone at the vendor


class VendorCheckKind(enum.StrEnum):
    LIST = "list"  # the contact list was reviewed
    PLAN = "plan"  # the escalation plan was reviewed with the vendor

    @property
    def label(self) -> str:
        return CHECK_LABELS[self]


CHECK_LABELS = {VendorCheckKind.LIST: "Contact list reviewed",
                VendorCheckKind.PLAN: "Escalation plan reviewed with the vendor"}
SLA_PRIORITIES = ("p1", "p2", "p3")
MAX_SLA_MINUTES = 100_000


class Vendor(Audited, db.Model):
    __tablename__ = "vendors"
    __table_args__ = tuple(
        CheckConstraint(f"sla_{p}_minutes IS NULL OR (sla_{p}_minutes >= 1 AND sla_{p}_minutes <= {MAX_SLA_MINUTES})",
                        name=f"sla_{p}_range") for p in SLA_PRIORITIES)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    tier: Mapped[VendorTier] = mapped_column(value_enum(VendorTier, "vendor_tier", 16), index=True)
    supports: Mapped[str] = mapped_column(Text, default="")  # what it supports, in words; links in support_links
    contract_id: Mapped[str] = mapped_column(String(80), default="")
    contract_level: Mapped[str] = mapped_column(String(60), default="")
    contract_expires: Mapped[date | None] = mapped_column(Date())
    portal_url: Mapped[str] = mapped_column(String(500), default="")
    account_number: Mapped[str] = mapped_column(String(80), default="")
    support_hours: Mapped[str] = mapped_column(String(80), default="")
    support_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Response targets by priority, in minutes; empty when the contract does not say.
    sla_p1_minutes: Mapped[int | None] = mapped_column()
    sla_p2_minutes: Mapped[int | None] = mapped_column()
    sla_p3_minutes: Mapped[int | None] = mapped_column()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User | None] = relationship()
    levels: Mapped[list[EscalationLevel]] = relationship(
        back_populates="vendor", order_by="EscalationLevel.number", cascade="all, delete-orphan", passive_deletes=True)
    support_links: Mapped[list[VendorSupportLink]] = relationship(
        back_populates="vendor", order_by="(VendorSupportLink.kind, VendorSupportLink.label)",
        cascade="all, delete-orphan", passive_deletes=True)

    @property
    def contacts(self) -> list[VendorContact]:
        """Every contact of the ladder, level by level."""
        return [contact for level in self.levels for contact in level.contacts]


class VendorSupportLink(Audited, db.Model):
    """An app or job of the watch list that the vendor supports, by kind and id, with its name at the time.

    By id rather than by foreign key so that vendors stand without the watch list (and survive an app's removal,
    keeping the name it had)."""

    __tablename__ = "vendor_support_links"
    __table_args__ = (CheckConstraint("kind IN ('app', 'job')", name="kind_known"),
                      UniqueConstraint("vendor_id", "kind", "target_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    target_id: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(200))

    vendor: Mapped[Vendor] = relationship(back_populates="support_links")

    def audit_label(self) -> str:
        return f"supports {self.kind} {self.label}"


class EscalationLevel(Audited, db.Model):
    """One rung of a vendor's ladder: level 1 is called first."""

    __tablename__ = "vendor_escalation_levels"
    __table_args__ = (UniqueConstraint("vendor_id", "number"),
                      # Lets a contact's foreign key name its vendor too, so a contact cannot sit on another
                      # vendor's level.
                      UniqueConstraint("id", "vendor_id", name="uq_vendor_escalation_levels_id_vendor"),
                      CheckConstraint("number >= 1", name="number_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(80), default="")
    when_to_use: Mapped[str] = mapped_column(String(200), default="")

    vendor: Mapped[Vendor] = relationship(back_populates="levels")
    contacts: Mapped[list[VendorContact]] = relationship(
        back_populates="level", order_by="VendorContact.id", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def title(self) -> str:
        return f"Level {self.number}" + (f" · {self.label}" if self.label else "")

    def audit_label(self) -> str:
        return f"level {self.number}"


class VendorContact(Audited, db.Model):
    """A person or desk to call at one level of a vendor's ladder; phones are stored in E.164."""

    __tablename__ = "vendor_contacts"
    __table_args__ = (
        ForeignKeyConstraint(["level_id", "vendor_id"], ["vendor_escalation_levels.id",
                                                         "vendor_escalation_levels.vendor_id"],
                             ondelete="CASCADE", name="fk_vendor_contacts_level_vendor"),
        CheckConstraint("phone IS NOT NULL OR mobile IS NOT NULL OR email IS NOT NULL", name="reachable"),
        CheckConstraint("user_id IS NULL OR kind = 'internal'", name="user_is_internal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(index=True)
    level_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[VendorContactKind] = mapped_column(value_enum(VendorContactKind, "vendor_contact_kind", 16))
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    mobile: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    hours: Mapped[str] = mapped_column(String(80), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    level: Mapped[EscalationLevel] = relationship(back_populates="contacts")
    # Read-only: the level's foreign key writes vendor_id.
    vendor: Mapped[Vendor] = relationship(primaryjoin=lambda: foreign(VendorContact.vendor_id) == Vendor.id,
                                          viewonly=True)
    user: Mapped[User | None] = relationship()

    @property
    def phones(self) -> list[tuple[str, str, str]]:
        """(label, E.164, readable) for each number, office first."""
        return [(label, number, readable_phone(number))
                for label, number in (("Phone", self.phone), ("Mobile", self.mobile)) if number]


def readable_phone(e164: str) -> str:
    """+14155550100 -> +1 415-555-0100, the way people read numbers aloud."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


class VendorContactConfirmation(db.Model):
    """Someone confirmed a contact's details were right in one fiscal quarter."""

    __tablename__ = "vendor_contact_confirmations"
    __table_args__ = (UniqueConstraint("contact_id", "fiscal_year", "quarter"),
                      CheckConstraint("quarter >= 1 AND quarter <= 4", name="quarter_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("vendor_contacts.id", ondelete="CASCADE"), index=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as text too, so "who confirmed" survives the account being deleted.
    confirmed_by_name: Mapped[str] = mapped_column(String(120))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VendorCheck(db.Model):
    """A vendor-level step of the quarterly validation, done by someone on a date."""

    __tablename__ = "vendor_checks"
    __table_args__ = (UniqueConstraint("vendor_id", "fiscal_year", "quarter", "kind"),
                      CheckConstraint("quarter >= 1 AND quarter <= 4", name="quarter_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[VendorCheckKind] = mapped_column(value_enum(VendorCheckKind, "vendor_check_kind", 16))
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done_by_name: Mapped[str] = mapped_column(String(120))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReminderOutcome(enum.StrEnum):
    QUEUED = "queued"  # in the outbox; the linked message carries what became of it
    SENT = "sent"
    FAILED = "failed"  # the channel refused it; the message row says why
    NO_OWNER = "no_owner"  # the vendor has no (active) owner to remind
    NO_METHOD = "no_method"  # the owner has no verified email or SMS


class VendorReminder(db.Model):
    """The reminder for one vendor at one business-day offset of one quarter: sent once, with its outcome."""

    __tablename__ = "vendor_reminders"
    __table_args__ = (UniqueConstraint("vendor_id", "fiscal_year", "quarter", "bd_offset"),
                      CheckConstraint("quarter >= 1 AND quarter <= 4", name="quarter_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    bd_offset: Mapped[int] = mapped_column(SmallInteger)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[ReminderOutcome] = mapped_column(value_enum(ReminderOutcome, "vendor_reminder_outcome", 16))
    unconfirmed: Mapped[int] = mapped_column(default=0)  # contacts still unconfirmed when it went out
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    vendor: Mapped[Vendor] = relationship()
    owner: Mapped[User | None] = relationship()
    message: Mapped[OutboundMessage | None] = relationship(lazy="joined")

    @property
    def delivery(self) -> str:
        """What became of it, in words: the outbox message's status once queued, else the outcome."""
        if self.outcome == ReminderOutcome.QUEUED and self.message is not None:
            return self.message.status
        return self.outcome.value.replace("_", " ")
