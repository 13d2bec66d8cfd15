"""People's contact methods, their verification by code, notification rules and the quarterly confirmation."""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.alerting.models import OutboundMessage
from app.alerting.notices import URGENT, queue_notice
from app.auth.models import User
from app.auth.roles import EDITORS
from app.calendar.services import person_today, quarter_for
from app.database import commit_or_conflict
from app.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from app.extensions import db
from app.oncall.addresses import normalise_email, normalise_phone
from app.oncall.models import ContactConfirmation, ContactKind, ContactMethod, NotificationRule
from app.timeutil import FiscalQuarter, utcnow

# One code a minute per method: enough for "it did not arrive", too slow to flood a phone.
RESEND_INTERVAL = timedelta(seconds=60)
PHONE_KINDS = (ContactKind.SMS, ContactKind.VOICE)


class TooSoon(DomainError):
    status = 429


# Refusals the person can fix by changing their input; views show these next to the form.
FIXABLE = (Invalid, Conflict, TooSoon)


# --- who may do what ---------------------------------------------------------------------------------------

def can_edit_contacts(actor: User, person: User) -> bool:
    """Everyone edits their own contact details; the crisis team and admins edit anyone's."""
    return actor.id == person.id or actor.role in EDITORS


def ensure_can_edit(actor: User, person: User) -> None:
    if not can_edit_contacts(actor, person):
        raise Forbidden(f"Only {person.name} or the crisis team may change {person.name}'s contact details.")


# --- reading -----------------------------------------------------------------------------------------------

def get_person(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFound("No such person.")
    return person


def get_method(method_id: int) -> ContactMethod:
    method = db.session.get(ContactMethod, method_id)
    if method is None:
        raise NotFound("No such contact method.")
    return method


def get_rule(rule_id: int) -> NotificationRule:
    rule = db.session.get(NotificationRule, rule_id)
    if rule is None:
        raise NotFound("No such notification rule.")
    return rule


def list_methods(person: User) -> list[ContactMethod]:
    return list(db.session.scalars(select(ContactMethod).where(ContactMethod.user_id == person.id)
                                   .order_by(ContactMethod.kind, ContactMethod.created_at, ContactMethod.id)))


def list_rules(person: User) -> list[NotificationRule]:
    """The person's rules, soonest first (then by kind, so SMS and voice at 0 read in a stable order)."""
    rules = db.session.scalars(select(NotificationRule).join(NotificationRule.method)
                               .where(NotificationRule.user_id == person.id))
    return sorted(rules, key=lambda rule: (rule.delay_minutes, rule.method.kind.value, rule.id))


def notification_plan(person: User) -> list[tuple[int, ContactMethod]]:
    """(delay_minutes, method) for each rule whose method can be used now, by delay then kind."""
    return [(rule.delay_minutes, rule.method) for rule in list_rules(person) if rule.method.is_usable]


def users_without_verified_phone(user_ids: Iterable[int]) -> set[int]:
    """Of `user_ids`, those with no verified, enabled SMS or voice method: they cannot be phoned."""
    wanted = set(user_ids)
    if not wanted:
        return set()
    reachable = db.session.scalars(select(ContactMethod.user_id).where(
        ContactMethod.user_id.in_(wanted), ContactMethod.kind.in_(PHONE_KINDS),
        ContactMethod.verified_at.is_not(None), ContactMethod.disabled_at.is_(None)))
    return wanted - set(reachable)


def has_verified_phone(user_id: int) -> bool:
    """True when the person has a verified, enabled SMS or voice method."""
    return not users_without_verified_phone([user_id])


# --- contact methods ---------------------------------------------------------------------------------------

def add_method(actor: User, person: User, *, kind: ContactKind | str, address: str, label: str = "") -> ContactMethod:
    """Add an unverified method with a normalised address; refuse a bad address or a duplicate."""
    ensure_can_edit(actor, person)
    kind = ContactKind(kind)
    if kind.is_phone:
        address = normalise_phone(address, person.region.holiday_country if person.region else None)
    else:
        address = normalise_email(address)
    duplicate = f"{person.name} already has this {kind.value} address."
    if db.session.scalar(select(ContactMethod.id).where(ContactMethod.user_id == person.id,
                                                        ContactMethod.kind == kind,
                                                        ContactMethod.address == address)):
        raise Conflict(duplicate, "address")
    method = ContactMethod(user_id=person.id, kind=kind, address=address, label=(label or "").strip())
    db.session.add(method)
    commit_or_conflict(duplicate, "address")
    return method


def delete_method(actor: User, method: ContactMethod) -> None:
    """Delete a method and the rules that use it."""
    ensure_can_edit(actor, method.user)
    db.session.delete(method)
    db.session.commit()


# --- verification ------------------------------------------------------------------------------------------

def _code_digest(method_id: int, code: str) -> str:
    # Keyed with SECRET_KEY and bound to the method: a copied database alone does not reveal pending
    # codes, and a code sent to one method never verifies another.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{method_id}:{code}".encode(), hashlib.sha256).hexdigest()


def send_code(actor: User, method: ContactMethod) -> datetime:
    """Put a fresh 6-digit code for the method in the outbox (sent through the method itself within seconds);
    returns when it expires. Nothing is sent inside this call: the engine sends it and records the outcome."""
    ensure_can_edit(actor, method.user)
    if method.is_usable:
        raise Conflict("This method is already verified.")
    now = utcnow()
    if method.code_sent_at and now - method.code_sent_at < RESEND_INTERVAL:
        wait = math.ceil((method.code_sent_at + RESEND_INTERVAL - now).total_seconds())
        raise TooSoon(f"A code was sent less than a minute ago; try again in {wait} second{'s' * (wait != 1)}.")
    minutes = int(current_app.config["VERIFICATION_CODE_MINUTES"])
    code = f"{secrets.randbelow(10**6):06d}"
    method.code_hash, method.code_attempts = _code_digest(method.id, code), 0
    method.code_sent_at, method.code_expires_at = now, now + timedelta(minutes=minutes)
    queue_notice(user_id=method.user_id, method=method, purpose="verification", sensitive=True, priority=URGENT,
                 template=f"verification_{method.kind.value}", code=code, minutes=minutes)
    db.session.commit()
    return method.code_expires_at


def last_code_message(method: ContactMethod) -> OutboundMessage | None:
    """The newest verification message to the method: the person page shows whether it left or failed."""
    return db.session.scalar(select(OutboundMessage).where(
        OutboundMessage.contact_method_id == method.id, OutboundMessage.purpose == "verification")
        .order_by(OutboundMessage.id.desc()).limit(1))


def verify_code(actor: User, method: ContactMethod, code: str) -> bool:
    """Mark the method verified when `code` is right; returns True when the person had no rules and got one.

    Every guess first claims one of the limited attempts with a conditional UPDATE, so parallel guesses
    cannot exceed VERIFICATION_MAX_ATTEMPTS.
    """
    ensure_can_edit(actor, method.user)
    if method.is_usable:
        raise Conflict("This method is already verified.", "code")
    if method.code_hash is None:
        raise Invalid("No code is waiting for this method; send a code first.", "code")
    if utcnow() >= method.code_expires_at:
        raise Invalid("This code has expired; send a new code.", "code")
    limit = int(current_app.config["VERIFICATION_MAX_ATTEMPTS"])
    claimed = db.session.execute(
        update(ContactMethod)
        .where(ContactMethod.id == method.id, ContactMethod.code_hash == method.code_hash,
               ContactMethod.code_attempts < limit)
        .values(code_attempts=ContactMethod.code_attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(method)
    if not claimed:
        db.session.rollback()
        raise Invalid("Too many wrong codes: this code is locked. Send a new code.", "code")
    if not hmac.compare_digest(method.code_hash, _code_digest(method.id, code.strip())):
        left = limit - method.code_attempts
        db.session.commit()
        raise Invalid(f"Wrong code; {left} {'try' if left == 1 else 'tries'} left." if left else
                      "Wrong code. Too many wrong codes: this code is locked. Send a new code.", "code")
    # A method disabled by a failed delivery works again once a code sent through it has come back.
    method.verified_at, method.disabled_at, method.disabled_reason = utcnow(), None, None
    method.code_hash = method.code_expires_at = method.code_sent_at = None
    method.code_attempts = 0
    default_rule = not db.session.scalar(select(NotificationRule.id).where(NotificationRule.user_id == method.user_id))
    if default_rule:
        # Someone with a verified method but no rule could never be paged: start them with "this method at once".
        db.session.add(NotificationRule(user_id=method.user_id, contact_method_id=method.id, delay_minutes=0))
    db.session.commit()
    return default_rule


# --- notification rules ------------------------------------------------------------------------------------

def add_rule(actor: User, person: User, *, contact_method_id: int, delay_minutes: int) -> NotificationRule:
    """Notify `person` through one of their own methods `delay_minutes` (0..1440) after a page."""
    ensure_can_edit(actor, person)
    method = db.session.get(ContactMethod, contact_method_id)
    if method is None or method.user_id != person.id:
        raise Invalid(f"Choose one of {person.name}'s contact methods.", "contact_method_id")
    if not 0 <= delay_minutes <= 1440:
        raise Invalid("Use 0 to 1440 minutes (one day).", "delay_minutes")
    duplicate = f"There is already a rule for {method.address} at {delay_minutes} minutes."
    if db.session.scalar(select(NotificationRule.id).where(NotificationRule.contact_method_id == method.id,
                                                           NotificationRule.delay_minutes == delay_minutes)):
        raise Conflict(duplicate, "delay_minutes")
    rule = NotificationRule(user_id=person.id, contact_method_id=method.id, delay_minutes=delay_minutes)
    db.session.add(rule)
    commit_or_conflict(duplicate, "delay_minutes")
    return rule


def delete_rule(actor: User, rule: NotificationRule) -> None:
    ensure_can_edit(actor, get_person(rule.user_id))
    db.session.delete(rule)
    db.session.commit()


# --- quarterly confirmation --------------------------------------------------------------------------------

def quarter_of(person: User) -> FiscalQuarter:
    """The fiscal quarter the person is in now, by the date where they work (their region's zone, else their own)."""
    return quarter_for(person_today(person))


def confirmation_for(person: User, quarter: FiscalQuarter) -> ContactConfirmation | None:
    return db.session.scalar(select(ContactConfirmation).where(
        ContactConfirmation.user_id == person.id, ContactConfirmation.fiscal_year == quarter.fiscal_year,
        ContactConfirmation.quarter == quarter.quarter))


def confirm_contacts(actor: User, person: User) -> ContactConfirmation:
    """The person confirms their contact details for the current quarter (again: the first one stands)."""
    if actor.id != person.id:
        raise Forbidden(f"Only {person.name} can confirm that their contact details are correct.")
    if not any(method.is_usable for method in list_methods(person)):
        raise Invalid("Verify at least one contact method before confirming your details.")
    quarter = quarter_of(person)
    existing = confirmation_for(person, quarter)
    if existing is not None:
        return existing
    confirmation = ContactConfirmation(user_id=person.id, fiscal_year=quarter.fiscal_year, quarter=quarter.quarter)
    db.session.add(confirmation)
    try:
        db.session.commit()
    except IntegrityError:  # confirmed twice at once: the other request's row is the answer
        db.session.rollback()
        return confirmation_for(person, quarter)
    return confirmation


@dataclass(frozen=True)
class PersonStatus:
    person: User
    has_verified_phone: bool
    quarter: FiscalQuarter
    confirmed_at: datetime | None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


def people_status(*, unconfirmed_only: bool = False) -> list[PersonStatus]:
    """Every active person with whether they can be phoned and whether they confirmed this quarter."""
    people = list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.id)))
    unphoneable = users_without_verified_phone(person.id for person in people)
    quarters = {person.id: quarter_of(person) for person in people}
    # People in different zones can be a few hours apart across a quarter boundary: at most two quarters.
    current = {(quarter.fiscal_year, quarter.quarter) for quarter in quarters.values()}
    confirmed = {(row.user_id, row.fiscal_year, row.quarter): row.confirmed_at
                 for row in db.session.scalars(select(ContactConfirmation).where(or_(*(
                     and_(ContactConfirmation.fiscal_year == year, ContactConfirmation.quarter == number)
                     for year, number in current))))} if current else {}
    rows = []
    for person in people:
        quarter = quarters[person.id]
        confirmed_at = confirmed.get((person.id, quarter.fiscal_year, quarter.quarter))
        if not (unconfirmed_only and confirmed_at):
            rows.append(PersonStatus(person, person.id not in unphoneable, quarter, confirmed_at))
    return rows
